"""Checks a search space against the config it tunes, without Keras.

For every dimension: the key must exist in the config or be one the config
may hold (a spec field, an argument of the Keras class or block at that
place: `fit.batch_size` when the file leaves it to its default); the values
must be of the key's type (`units` of `Dense` is an integer: a float range
is an error); and each value the distribution can give is tried in a copy of
the config through the normal checks (spec and Keras names), so `{int: [0,
64]}` for `fit.batch_size` or `{choice: [relu, reluu]}` for an activation is
reported at the line of the space, as a config error would be.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
from typing import Any, get_args, get_origin

from pydantic import BaseModel, TypeAdapter

from kerascli.config import checks
from kerascli.config.catalog import Catalog, load_catalog
from kerascli.config.document import Document, Key, format_key
from kerascli.config.space import Space, parse_space
from kerascli.config.space.dimensions import Dimension
from kerascli.config.spec import Config, StrictModel, from_document
from kerascli.config.spec.model import RESERVED_NODE_KEYS
from kerascli.config.tables import NESTED_KINDS
from kerascli.errors import ConfigError, Problem

# Top-level keys a study cannot vary: they decide where and how its trials run.
FIXED = ("name", "backend", "output", "tune")

TYPE_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


@dataclasses.dataclass(frozen=True)
class Slot:
    """What a config key takes.

    Args:
        what: how messages name it: `'units' of Dense`, `fit.batch_size`.
        types: the JSON types of the values it takes; None when any value may do.
    """

    what: str
    types: frozenset | None


def check(space: Space, doc: Document, catalog: Catalog | None = None) -> list[Problem]:
    """Every problem of `space` as a search space over the config `doc`.

    Args:
        space: the space (see `kerascli.config.space.read`).
        doc: the config it tunes, `--set` overrides applied; already valid.
        catalog: the Keras catalogue; the shipped one by default.

    Returns:
        Problems at the lines of the space file.
    """
    catalog = catalog or load_catalog()
    problems = [
        space.dimension_problem(d, f"'{d.key[0]}' is fixed for a whole study; it cannot be tuned")
        for d in space.dimensions
        if d.key[0] in FIXED
    ]
    baseline = {(p.path, p.message) for p in _config_problems(doc, catalog)}
    for dimension in space.dimensions:
        if dimension.key[0] in FIXED:
            continue
        slot = slot_of(doc, dimension.key, catalog)
        if isinstance(slot, str):
            problems.append(space.dimension_problem(dimension, slot))
            continue
        message = _type_problem(dimension, slot)
        if message:
            problems.append(space.dimension_problem(dimension, message))
            continue
        for message in _probe_problems(dimension, doc, catalog, baseline):
            problems.append(space.dimension_problem(dimension, message))
    return problems


def space_problems(doc: Document) -> list[Problem]:
    """The problems of the config's `tune:` section, when it has one (none when it has not)."""
    if doc.data.get("tune") is None:
        return []
    return checked(doc, ("tune",), doc)[1]


def checked(space_doc: Document, prefix: Key, doc: Document) -> tuple[Space, list[Problem]]:
    """The space at `prefix` of `space_doc` and every problem of it: its shape, and its fit to the config `doc`."""
    space, problems = parse_space(space_doc, prefix)
    return space, problems + check(space, doc)


def _config_problems(doc: Document, catalog: Catalog) -> list[Problem]:
    problems = checks.check(doc, catalog)
    try:
        from_document(doc)
    except ConfigError as exc:
        problems += exc.problems
    return problems


def _probe_problems(dimension: Dimension, doc: Document, catalog: Catalog, baseline: set) -> list[str]:
    """What the config's checks say about the values `dimension` can give."""
    messages: list[str] = []
    for value in dimension.probes():
        data = copy.deepcopy(doc.data)
        _assign(data, dimension.key, value)
        probe = Document(doc.path, doc.display, data, doc.locations)
        for found in _config_problems(probe, catalog):
            if (found.path, found.message) in baseline:
                continue
            where = "" if found.path == dimension.name else f"{found.path}: "
            text = f"{dimension.describe()} can give {_show(value)}, which the config rejects: {where}{found.message}"
            if text not in messages:
                messages.append(text)
    return messages


def _assign(data: Any, key: Key, value: Any) -> None:
    """Sets `key` of `data` to `value`, creating mappings on the way (as `--set` does)."""
    node = data
    for part in key[:-1]:
        if isinstance(node, dict) and node.get(part) is None:
            node[part] = {}
        node = node[part]
    node[key[-1]] = value


def _type_problem(dimension: Dimension, slot: Slot) -> str | None:
    """Whether the dimension's values are of a type the key takes."""
    if slot.types is None:
        return None
    if dimension.kind == "choice":
        for value in dimension.choices:
            kind = _json_type(value)
            if not _fits(kind, slot.types):
                return f"choice {_show(value)} is {TYPE_WORDS[kind]}, but {slot.what} takes {_words(slot.types)}"
        return None
    kind = "number" if dimension.draws_floats() else "integer"
    if _fits(kind, slot.types) and not (kind == "number" and "number" not in slot.types):
        return None
    hint = ""
    if kind == "number" and "integer" in slot.types:
        hint = (
            f" (use {{int: [{int(dimension.low)}, {int(dimension.high)}]}})"
            if float(dimension.low).is_integer() and float(dimension.high).is_integer()
            else " (use an int range)"
        )
    drawn = "floats" if kind == "number" else "integers"
    return f"{dimension.describe()} gives {drawn}, but {slot.what} takes {_words(slot.types)}{hint}"


def _fits(kind: str, types: frozenset) -> bool:
    return kind in types or (kind == "integer" and "number" in types)


def _words(types: frozenset) -> str:
    return " or ".join(TYPE_WORDS.get(t, t) for t in sorted(types))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _show(value: Any) -> str:
    return (
        repr(value)
        if isinstance(value, str)
        else str(value).replace("None", "null").replace("True", "true").replace("False", "false")
    )


# -- where a key points ------------------------------------------------------


def slot_of(doc: Document, key: Key, catalog: Catalog) -> Slot | str:
    """What `key` takes in `doc`, or why it names nothing the config can hold."""
    node: Any = doc.data
    for depth, part in enumerate(key):
        parent = key[:depth]
        last = depth == len(key) - 1
        if isinstance(node, dict):
            known = known_keys(doc, parent, node, catalog)
            if part not in node and known is not None and part not in known:
                return _unknown(part, parent, known, node)
            if last:
                return _slot(doc, key, node, catalog)
            node = node.get(part) if node.get(part) is not None else {}
        elif isinstance(node, list):
            if not isinstance(part, int):
                return f"{format_key(parent)} is a list: index it, e.g. {format_key(parent + (0,))}"
            if not 0 <= part < len(node):
                return f"no such item: {format_key(parent)} has {len(node)} entries"
            if last:
                return _slot(doc, key, node, catalog)
            node = node[part]
        else:
            hint = ""
            if isinstance(node, str) and _object_kind(parent) is not None:
                entry = catalog.get(_object_kind(parent), node)
                name = entry.name if entry is not None and entry.form == "class" else "ClassName"
                hint = f"; write it as {{type: {name}, ...}} to tune its arguments"
            return f"cannot tune '{part}': {format_key(parent)} is {_show(node)}, not a mapping{hint}"
    return Slot(format_key(key), None)


def _unknown(part: Any, parent: Key, known: list[str], node: dict) -> str:
    owner = f" of {node['type']}" if isinstance(node.get("type"), str) else ""
    hint = difflib.get_close_matches(str(part), [str(k) for k in known], n=1, cutoff=0.6)
    where = format_key(parent) or "the config"
    text = f"unknown config key: {where}{owner} has no '{part}'"
    return text + (f" (did you mean '{hint[0]}'?)" if hint else "")


def _is_node(key: Key) -> bool:
    """Whether `key` is a node of `model.layers` or of a block's `layers`."""
    return (
        len(key) >= 2
        and isinstance(key[-1], int)
        and key[-2] == "layers"
        and (key[:-2] == ("model",) or (len(key) == 4 and key[0] == "blocks"))
    )


def _object_kind(key: Key) -> str | None:
    """The catalogue kind of a Keras object written at `key` (`compile.optimizer` → optimizers)."""
    if key == ("compile", "optimizer"):
        return "optimizers"
    if key[:2] == ("compile", "loss") and len(key) <= 3:
        return "losses"
    if key[:2] == ("compile", "metrics"):
        return "metrics"
    if key[:2] == ("fit", "callbacks") and len(key) == 3:
        return "callbacks"
    if key and key[-1] == "learning_rate":
        return "schedules"
    if key and isinstance(key[-1], str):
        for suffix, kind in NESTED_KINDS:
            if key[-1] == suffix or key[-1].endswith("_" + suffix):
                return kind
    return None


def _block_params(doc: Document, name: Any) -> dict | None:
    blocks = doc.data.get("blocks")
    block = blocks.get(name) if isinstance(blocks, dict) and isinstance(name, str) else None
    if not isinstance(block, dict):
        return None
    params = block.get("params", {})
    return params if isinstance(params, dict) else {}


def known_keys(doc: Document, key: Key, node: dict, catalog: Catalog) -> list[str] | None:
    """The keys the mapping `node` at `key` may hold; None when that is not known here."""
    if _is_node(key):
        params = _block_params(doc, node.get("type"))
        if params is not None:
            return list(RESERVED_NODE_KEYS) + list(params)
        entry = catalog.get("layers", node.get("type"))
        return list(RESERVED_NODE_KEYS) + list(entry.allowed_kwargs()) if entry else None
    kind = _object_kind(key)
    if kind is not None and isinstance(node.get("type"), str):
        entry = catalog.get(kind, node["type"])
        return ["type", *entry.allowed_kwargs()] if entry else None
    if len(key) == 3 and key[0] == "blocks" and key[2] == "params":
        return list(node)
    model = _model_of(_annotation(key))
    return list(model.model_fields) if model is not None else None


def _slot(doc: Document, key: Key, parent: Any, catalog: Catalog) -> Slot:
    """What the existing (or allowed) `key` takes; `parent` holds it."""
    name, where = key[-1], key[:-1]
    if isinstance(parent, dict) and _is_node(where) and name not in RESERVED_NODE_KEYS:
        params = _block_params(doc, parent.get("type"))
        if params is not None:
            default = params.get(name)
            types = None if default is None else frozenset({_json_type(default)})
            return Slot(f"parameter '{name}' of block {parent['type']}", types)
        return _argument(catalog.get("layers", parent.get("type")), name)
    kind = _object_kind(where)
    if isinstance(parent, dict) and kind is not None and isinstance(parent.get("type"), str) and name != "type":
        return _argument(catalog.get(kind, parent["type"]), name)
    if len(where) == 3 and where[0] == "blocks" and where[2] == "params":
        default = parent.get(name) if isinstance(parent, dict) else None
        return Slot(
            f"parameter '{name}' of block {where[1]}", None if default is None else frozenset({_json_type(default)})
        )
    return Slot(format_key(key), _schema_types(_annotation(key)))


def _argument(entry, name: str) -> Slot:
    if entry is None or name not in entry.arguments:
        return Slot(f"'{name}'", None)
    argument = entry.arguments[name]
    if argument.type is None:
        return Slot(f"'{name}' of {entry.name}", None)
    types = set(argument.type.split("|"))
    if not argument.required and argument.default is None:
        types.add("null")
    return Slot(f"'{name}' of {entry.name}", frozenset(types))


# -- the spec's own types ----------------------------------------------------


def _annotation(key: Key) -> Any:
    """The type annotation of the spec at `key`, or None where the spec leaves it open."""
    annotation: Any = Config
    for part in key:
        model = _model_of(annotation)
        if isinstance(part, str) and model is not None and part in model.model_fields:
            annotation = model.model_fields[part].annotation
            continue
        annotation = _item(annotation, part)
        if annotation is None:
            return None
    return annotation


def _item(annotation: Any, part: Any) -> Any:
    """The item type of a `list[X]` (int part) or `dict[str, X]` (str part) inside `annotation`."""
    for arg in (annotation, *get_args(annotation)):
        origin = get_origin(arg)
        if origin is list and isinstance(part, int):
            return get_args(arg)[0]
        if origin is dict and isinstance(part, str):
            return get_args(arg)[1]
    return None


def _model_of(annotation: Any):
    if isinstance(annotation, type) and issubclass(annotation, StrictModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _mentions_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_mentions_model(arg) for arg in get_args(annotation))


def _schema_types(annotation: Any) -> frozenset | None:
    """The JSON types of a spec annotation (None: any value)."""
    if annotation is None or _mentions_model(annotation):
        return None  # Keras objects and sections: the probes through the spec decide
    try:
        schema = TypeAdapter(annotation).json_schema()
    except Exception:  # noqa: BLE001 - an annotation pydantic cannot describe: leave it open
        return None
    found: set[str] = set()

    def collect(node: dict) -> bool:
        if "type" in node:
            found.update([node["type"]] if isinstance(node["type"], str) else node["type"])
            return True
        options = node.get("anyOf") or node.get("oneOf")
        return bool(options) and all(collect(o) for o in options)

    return frozenset(found) if collect(schema) else None
