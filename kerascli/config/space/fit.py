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
from typing import Any

from kerascli.config import checks
from kerascli.config.catalog import Catalog, load_catalog
from kerascli.config.document import Document, Key
from kerascli.config.space import Space, parse_space
from kerascli.config.space.dimensions import Dimension
from kerascli.config.space.slots import Slot, json_type, show, slot_of
from kerascli.config.spec import from_document
from kerascli.errors import ConfigError, Problem

# Top-level keys a study cannot vary: they decide where and how its trials run.
FIXED = ("name", "backend", "output", "tune", "extends")

TYPE_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


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
            text = f"{dimension.describe()} can give {show(value)}, which the config rejects: {where}{found.message}"
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
            kind = json_type(value)
            if not _fits(kind, slot.types):
                return f"choice {show(value)} is {TYPE_WORDS[kind]}, but {slot.what} takes {_words(slot.types)}"
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
