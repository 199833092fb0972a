"""`--set KEY=VALUE`: overrides applied to a parsed config, each remembered as its own location."""

from __future__ import annotations

from typing import Any

import yaml

from kerascli.config.composing import Loader, compose
from kerascli.config.document import Document, Key, Location, format_key, tag_message
from kerascli.errors import ConfigError, Problem


def parse_override(text: str) -> tuple[Key, Any]:
    """`model.layers[1].units=32` → `(("model", "layers", 1, "units"), 32)`.

    Raises:
        ValueError: when the text is not `dotted.path=value`.
    """
    if "=" not in text:
        raise ValueError(f"expected KEY=VALUE, e.g. fit.epochs=3, got '{text}'")
    raw_key, raw_value = text.split("=", 1)
    key: list = []
    for part in raw_key.strip().split("."):
        while "[" in part:
            head, rest = part.split("[", 1)
            if head:
                key.append(head)
            index, _, part = rest.partition("]")
            if not index.strip().isdigit():
                raise ValueError(f"expected an integer index in '{raw_key}'")
            key.append(int(index))
        if part.isdigit():
            key.append(int(part))
        elif part:
            key.append(part)
        elif not key or raw_key.endswith("."):
            raise ValueError(f"empty key segment in '{raw_key}'")
    if not key:
        raise ValueError(f"expected KEY=VALUE, got '{text}'")
    try:
        value = _value(raw_value) if raw_value.strip() else None
    except yaml.YAMLError:
        value = raw_value
    return tuple(key), value


def _value(text: str) -> Any:
    """An override's value parsed as YAML, within the same limits and tags as a config file.

    Raises:
        yaml.YAMLError: the text is no YAML a config could hold (it is then taken as a string).
    """
    loader = Loader(text)
    try:
        node = compose(text, loader)
        if node is None:
            return None
        _check_tags(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_tags(node) -> None:
    if tag_message(node.tag) is not None:
        raise yaml.YAMLError(tag_message(node.tag))
    for child in node.value if isinstance(node.value, list) else ():
        for part in child if isinstance(child, tuple) else (child,):
            _check_tags(part)


def apply_override(doc: Document, text: str) -> None:
    """Applies one `--set` override to `doc` in place.

    New keys may be added to existing (or new) mappings, so `--set fit.epochs=3`
    works when the file leaves `epochs` to its default; the spec then rejects
    keys it does not know, pointing at the `--set` option. Indexing past the
    end of a list, or into a scalar, is an error here.
    """
    where = Location(f"--set {text}")
    try:
        key, value = parse_override(text)
    except ValueError as exc:
        raise ConfigError([Problem(where.file, 0, 0, "", str(exc))]) from None
    if key[0] == "extends":
        raise _error(
            where,
            key,
            "cannot be set with --set: the files a config extends are merged before overrides "
            "apply; change 'extends' in the config instead",
        )
    node: Any = doc.data
    for depth in range(len(key) - 1):
        node = _step(node, key, depth, where)
    _assign(node, key, value, where)
    # Everything under the overridden key now comes from the option.
    for existing in [k for k in doc.locations if k[: len(key)] == key]:
        del doc.locations[existing]
    doc.locations[key] = where
    for depth in range(1, len(key)):  # mappings the option made are the option's too
        doc.locations.setdefault(key[:depth], where)


def _step(node: Any, key: Key, depth: int, where: Location) -> Any:
    """The container at `key[depth]` inside `node`, made (as a mapping) when it is missing."""
    part = key[depth]
    if isinstance(node, dict):
        part = str(part) if isinstance(part, int) else part
        if part not in node or node[part] is None:
            node[part] = {}
        return node[part]
    if isinstance(node, list):
        if not isinstance(part, int) or part >= len(node):
            raise _error(where, key[: depth + 1], f"no such item: the list has {len(node)} entries")
        return node[part]
    raise _error(
        where, key[: depth + 1], f"cannot set '{part}': {format_key(key[:depth])} holds {node!r}, not a mapping"
    )


def _assign(node: Any, key: Key, value: Any, where: Location) -> None:
    """Sets the last part of `key` in its container `node`."""
    last = key[-1]
    if isinstance(node, dict):
        node[str(last) if isinstance(last, int) else last] = value
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value
    elif isinstance(node, list):
        raise _error(where, key, f"no such item: the list has {len(node)} entries")
    else:
        raise _error(where, key, f"cannot set '{last}': {format_key(key[:-1])} holds {node!r}, not a mapping")


def _error(where: Location, key: Key, message: str) -> ConfigError:
    return ConfigError([Problem(where.file, 0, 0, format_key(key), message)])
