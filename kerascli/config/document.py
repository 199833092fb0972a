"""YAML → plain data with a line:column for every key, and `--set` overrides.

PyYAML's `safe_load` forgets where things were and silently keeps the last of
two duplicate keys. kerascli composes the YAML node tree instead, records the
position of every mapping key and sequence item, refuses duplicate keys and
non-standard tags, and then builds plain Python data with the safe constructor.
Nothing here imports Keras.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any

import yaml

from kerascli.errors import ConfigError, Problem

Key = tuple  # a path into the config: ("model", "layers", 1, "units")


class Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading `1e-4` as a float as YAML 1.2 does.

    YAML 1.1 (PyYAML) needs a dot (`1.0e-4`) and silently reads `1e-4` as a
    string, which would reach an optimizer as a learning rate of `"1e-4"`.
    """


Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


@dataclasses.dataclass
class Location:
    """Where a value came from: a file position, or a `--set` option."""

    file: str
    line: int = 0
    col: int = 0


@dataclasses.dataclass
class Document:
    """A parsed config file.

    Args:
        path: the config file, absolute.
        display: the path as the user should see it in messages.
        data: the parsed mapping (plain dicts, lists and scalars).
        locations: for each key path, where its key (or item) is written.
    """

    path: Path
    display: str
    data: dict
    locations: dict[Key, Location]

    @property
    def base_dir(self) -> Path:
        """Directory that relative paths in the config are relative to."""
        return self.path.parent

    def locate(self, key: Key) -> Location:
        """The position of `key`, or of its nearest ancestor that has one."""
        key = tuple(key)
        while key:
            if key in self.locations:
                return self.locations[key]
            key = key[:-1]
        return self.locations.get((), Location(self.display, 1, 1))

    def problem(self, key: Key, message: str) -> Problem:
        """A `Problem` at `key`, rendered with its file, line and column."""
        loc = self.locate(key)
        return Problem(loc.file, loc.line, loc.col, format_key(key), message)


def format_key(key: Key) -> str:
    """`("model", "layers", 1, "units")` → `model.layers[1].units`."""
    out = ""
    for part in key:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load(path: str | os.PathLike, overrides: list[str] = ()) -> Document:
    """Reads a config file and applies `--set` overrides.

    Args:
        path: the YAML file.
        overrides: `a.b[0].c=value` strings; values are parsed as YAML scalars.

    Returns:
        The `Document`.

    Raises:
        ConfigError: unreadable file, YAML syntax error, duplicate key,
            unsupported tag, a document that is not a mapping, or a bad override.
    """
    display = str(path)
    file = Path(path)
    if file.is_dir():
        raise ConfigError([Problem(display, 0, 0, "", "is a directory, expected a YAML config file")])
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(display, 0, 0, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError([Problem(display, 0, 0, "", f"cannot read the config: {reason}")]) from None
    doc = parse(text, display, file.resolve())
    for override in overrides:
        apply_override(doc, override)
    return doc


def parse(text: str, display: str, path: Path) -> Document:
    """Parses YAML text into a `Document` (see `load`)."""
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError([Problem(display, 1, 1, "", "the config is empty, expected a mapping of sections (model, compile, fit, data)")])
        locations: dict[Key, Location] = {(): Location(display, node.start_mark.line + 1, node.start_mark.column + 1)}
        problems: list[Problem] = []
        _index(node, (), display, locations, problems)
        if problems:
            raise ConfigError(problems)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = (exc.problem or exc.context or "invalid YAML").strip()
        if exc.context and exc.problem:
            message = f"{exc.context.strip()}: {message}"
        if "python/" in message or "could not determine a constructor" in message:
            message = f"{message} (YAML tags that build Python objects are never allowed)"
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise ConfigError([Problem(display, line, col, "", f"YAML syntax error: {message}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(display, 0, 0, "", f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    if data is None:
        raise ConfigError([Problem(display, 1, 1, "", "the config is empty (null), expected a mapping of sections (model, compile, fit, data)")])
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a string"}.get(type(data), f"a {type(data).__name__} value")
        raise ConfigError([Problem(display, 1, 1, "", f"expected a mapping of sections at the top of the config, got {kind}")])
    return Document(path, display, data, locations)


def _index(node, key: Key, display: str, locations: dict, problems: list) -> None:
    """Records positions of keys/items under `node`; reports duplicate keys and bad tags."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                mark = key_node.start_mark
                problems.append(Problem(display, mark.line + 1, mark.column + 1, format_key(key), "mapping keys must be plain scalars"))
                continue
            name = _scalar(key_node)
            mark = key_node.start_mark
            child = key + (name,)
            if name in seen:
                first = seen[name]
                problems.append(Problem(display, mark.line + 1, mark.column + 1, format_key(child), f"duplicate key '{name}' (first defined on line {first.line + 1})"))
                continue
            seen[name] = mark
            locations[child] = Location(display, mark.line + 1, mark.column + 1)
            _index(value_node, child, display, locations, problems)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            mark = item.start_mark
            locations[key + (i,)] = Location(display, mark.line + 1, mark.column + 1)
            _index(item, key + (i,), display, locations, problems)
    if not node.tag.startswith("tag:yaml.org,2002:"):
        mark = node.start_mark
        problems.append(Problem(display, mark.line + 1, mark.column + 1, format_key(key), f"YAML tag '{node.tag}' is not allowed: a config holds plain data only"))
    elif node.tag.startswith("tag:yaml.org,2002:python/"):
        mark = node.start_mark
        problems.append(Problem(display, mark.line + 1, mark.column + 1, format_key(key), f"YAML tag '!!{node.tag[len('tag:yaml.org,2002:'):]}' is not allowed: a config can never build Python objects"))


def _scalar(node) -> Any:
    loader = Loader("")
    try:
        return loader.construct_object(node)
    finally:
        loader.dispose()


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
                raise ConfigError([Problem(where.file, 0, 0, format_key(key[: depth + 1]), f"no such item: the list has {len(node)} entries")])
            node = node[part]
        else:
            raise ConfigError([Problem(where.file, 0, 0, format_key(key[: depth + 1]), f"cannot set '{key[depth]}': {format_key(key[:depth])} holds {node!r}, not a mapping")])
    last = key[-1]
    if isinstance(node, dict):
        node[str(last) if isinstance(last, int) else last] = value
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value
    elif isinstance(node, list):
        raise ConfigError([Problem(where.file, 0, 0, format_key(key), f"no such item: the list has {len(node)} entries")])
    else:
        raise ConfigError([Problem(where.file, 0, 0, format_key(key), f"cannot set '{last}': {format_key(key[:-1])} holds {node!r}, not a mapping")])
    # Everything under the overridden key now comes from the option.
    for existing in [k for k in doc.locations if k[: len(key)] == key]:
        del doc.locations[existing]
    doc.locations[key] = where
