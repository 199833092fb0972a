"""Where a config key of a search space points, and what it takes: a spec field, a Keras argument, a block parameter.

The walk follows the config's data; an absent section or key is allowed where
the config may hold it (`fit.batch_size` left to its default, an argument of
the Keras class or the block at that place), as `--set` would add it. Types
come from the spec's annotations, the catalogue's argument types and block
parameter defaults; JSON Schema names (`integer`, `number`, ...).
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any, get_args, get_origin

from pydantic import BaseModel, TypeAdapter

from kerascli.config.catalog import Catalog
from kerascli.config.document import Document, Key, format_key
from kerascli.config.spec import Config, StrictModel
from kerascli.config.spec.model import RESERVED_NODE_KEYS
from kerascli.config.tables import NESTED_KINDS


@dataclasses.dataclass(frozen=True)
class Slot:
    """What a config key takes.

    Args:
        what: how messages name it: `'units' of Dense`, `fit.batch_size`.
        types: the JSON types of the values it takes; None when any value may do.
    """

    what: str
    types: frozenset | None


def json_type(value: Any) -> str:
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


def show(value: Any) -> str:
    return (
        repr(value)
        if isinstance(value, str)
        else str(value).replace("None", "null").replace("True", "true").replace("False", "false")
    )


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
            return f"cannot tune '{part}': {format_key(parent)} is {show(node)}, not a mapping{hint}"
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
            types = None if default is None else frozenset({json_type(default)})
            return Slot(f"parameter '{name}' of block {parent['type']}", types)
        return _argument(catalog.get("layers", parent.get("type")), name)
    kind = _object_kind(where)
    if isinstance(parent, dict) and kind is not None and isinstance(parent.get("type"), str) and name != "type":
        return _argument(catalog.get(kind, parent["type"]), name)
    if len(where) == 3 and where[0] == "blocks" and where[2] == "params":
        default = parent.get(name) if isinstance(parent, dict) else None
        return Slot(
            f"parameter '{name}' of block {where[1]}", None if default is None else frozenset({json_type(default)})
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
