"""`--set KEY=VALUE`: overrides applied to a parsed config, each remembered as its own location."""

from __future__ import annotations

from typing import Any

import yaml

from kerascli.config.document import Document, Key, Loader, Location, format_key
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
        value = yaml.load(raw_value, Loader=Loader) if raw_value.strip() else None
    except yaml.YAMLError:
        value = raw_value
    return tuple(key), value


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
    node: Any = doc.data
    for depth, part in enumerate(key[:-1]):
        if isinstance(node, dict):
            if isinstance(part, int):
                part = str(part)
            if part not in node or node[part] is None:
                node[part] = {}
            node = node[part]
        elif isinstance(node, list):
            if not isinstance(part, int) or part >= len(node):
                raise ConfigError(
                    [
                        Problem(
                            where.file,
                            0,
                            0,
                            format_key(key[: depth + 1]),
                            f"no such item: the list has {len(node)} entries",
                        )
                    ]
                )
            node = node[part]
        else:
            raise ConfigError(
                [
                    Problem(
                        where.file,
                        0,
                        0,
                        format_key(key[: depth + 1]),
                        f"cannot set '{key[depth]}': {format_key(key[:depth])} holds {node!r}, not a mapping",
                    )
                ]
            )
    last = key[-1]
    if isinstance(node, dict):
        node[str(last) if isinstance(last, int) else last] = value
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value
    elif isinstance(node, list):
        raise ConfigError(
            [Problem(where.file, 0, 0, format_key(key), f"no such item: the list has {len(node)} entries")]
        )
    else:
        raise ConfigError(
            [
                Problem(
                    where.file,
                    0,
                    0,
                    format_key(key),
                    f"cannot set '{last}': {format_key(key[:-1])} holds {node!r}, not a mapping",
                )
            ]
        )
    # Everything under the overridden key now comes from the option.
    for existing in [k for k in doc.locations if k[: len(key)] == key]:
        del doc.locations[existing]
    doc.locations[key] = where
