"""YAML → plain data with a line:column for every key, and `--set` overrides.

PyYAML's `safe_load` forgets where things were and silently keeps the last of
two duplicate keys. kerascli composes the YAML node tree instead (bounded in
size and depth, see `kerascli.config.composing`), records the position of
every mapping key and sequence item, refuses duplicate keys and non-standard
tags, and then builds plain Python data with the safe constructor. Nothing
here imports Keras.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import yaml

from kerascli.config.composing import LimitError, Loader, compose
from kerascli.errors import ConfigError, Problem

__all__ = ["Document", "Key", "Loader", "Location", "format_key", "parse", "syntax_problem"]

Key = tuple  # a path into the config: ("model", "layers", 1, "units")


@dataclasses.dataclass
class Location:
    """Where a value came from: a file position, or a `--set` option.

    Args:
        file: the file as the user sees it (or `--set KEY=VALUE`).
        line: 1-based line, or 0.
        col: 1-based column, or 0.
        base_dir: the directory of the file, for a value that came from a
            file the config `extends`; None for the config's own values.
    """

    file: str
    line: int = 0
    col: int = 0
    base_dir: Path | None = None


@dataclasses.dataclass
class Document:
    """A parsed config file.

    Args:
        path: the config file, absolute.
        display: the path as the user should see it in messages.
        data: the parsed mapping (plain dicts, lists and scalars).
        locations: for each key path, where its key (or item) is written.
        files: every file the config was merged from (`extends`), in merge
            order, the config itself last.
    """

    path: Path
    display: str
    data: dict
    locations: dict[Key, Location]
    files: list[Path] = dataclasses.field(default_factory=list)

    @property
    def base_dir(self) -> Path:
        """Directory that relative paths written in the config itself are relative to."""
        return self.path.parent

    def resolve_path(self, key: Key, value: str | os.PathLike) -> Path:
        """The path `value` found at `key`, relative to the file that wrote it.

        A value from a file this config `extends` is relative to that file;
        one written in the config itself, or given with `--set`, to the config.
        """
        path = Path(value)
        return path if path.is_absolute() else (self.locate(key).base_dir or self.base_dir) / path

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


def parse(text: str, display: str, path: Path) -> Document:
    """Parses YAML text into a `Document` (see `kerascli.config.loading.load`)."""
    loader = Loader(text)
    try:
        node = compose(text, loader)
        if node is None:
            raise ConfigError(
                [
                    Problem(
                        display,
                        1,
                        1,
                        "",
                        "the config is empty, expected a mapping of sections (model, compile, fit, data)",
                    )
                ]
            )
        locations: dict[Key, Location] = {(): Location(display, node.start_mark.line + 1, node.start_mark.column + 1)}
        problems: list[Problem] = []
        _index(node, (), display, locations, problems, loader)
        if problems:
            raise ConfigError(problems)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([syntax_problem(exc, display, text)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(display, 0, 0, "", f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    if data is None:
        raise ConfigError(
            [
                Problem(
                    display,
                    1,
                    1,
                    "",
                    "the config is empty (null), expected a mapping of sections (model, compile, fit, data)",
                )
            ]
        )
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a string"}.get(type(data), f"a {type(data).__name__} value")
        raise ConfigError(
            [Problem(display, 1, 1, "", f"expected a mapping of sections at the top of the config, got {kind}")]
        )
    return Document(path, display, data, locations)


def syntax_problem(exc: yaml.MarkedYAMLError, display: str, text: str) -> Problem:
    """A YAML error as a `Problem` at the parser's position, saying where the open construct began.

    An unclosed `{` is noticed lines later, where the parser gives up: the
    message names the line it was opened on too (PyYAML's context mark), e.g.
    `while parsing a flow mapping that starts at line 10, column 12: did not
    find expected ',' or '}', but found ':'`.
    """
    mark = exc.problem_mark or exc.context_mark
    message = _what_was_found((exc.problem or exc.context or "invalid YAML").strip(), text, mark)
    if exc.context and exc.problem:
        context, opened = exc.context.strip(), exc.context_mark
        if opened is not None and mark is not None and (opened.line, opened.column) != (mark.line, mark.column):
            context = f"{context} that starts at line {opened.line + 1}, column {opened.column + 1}"
        message = f"{context}: {message}"
    if "python/" in message or "could not determine a constructor" in message:
        message = f"{message} (YAML tags that build Python objects are never allowed)"
    line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    if isinstance(exc, LimitError):
        return Problem(display, line, col, "", message)
    return Problem(display, line, col, "", f"YAML syntax error: {message}")


def _what_was_found(problem: str, text: str, mark) -> str:
    """libyaml's problem, completed with what it stopped at (as PyYAML's own parser says)."""
    if mark is None:
        return problem
    lines = text.split("\n")
    line = lines[mark.line] if mark.line < len(lines) else ""
    char = line[mark.column] if mark.column < len(line) else None
    if problem == "found character that cannot start any token" and char is not None:
        hint = " (YAML indents with spaces, not tabs)" if char == "\t" else ""
        return f"found character {char!r} that cannot start any token{hint}"
    if problem == "did not find expected key":
        return f"{problem} (check the indentation of line {mark.line + 1})"
    if problem.startswith("did not find expected"):
        at_end = char is None and mark.line >= len(lines) - 1
        return f"{problem}, but found " + ("the end of the file" if at_end else repr(char or "\n"))
    return problem


def _index(node, key: Key, display: str, locations: dict, problems: list, loader: Loader) -> None:
    """Records positions of keys/items under `node`; reports duplicate keys and bad tags.

    The tree is bounded (`composing.MAX_NODES` with aliases expanded), so
    walking each alias again is too.
    """
    if isinstance(node, yaml.MappingNode):
        _index_mapping(node, key, display, locations, problems, loader)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            mark = item.start_mark
            locations[key + (i,)] = Location(display, mark.line + 1, mark.column + 1)
            _index(item, key + (i,), display, locations, problems, loader)
    message = tag_message(node.tag)
    if message is not None:
        problems.append(_problem_at(node.start_mark, display, key, message))


def _index_mapping(node, key: Key, display: str, locations: dict, problems: list, loader: Loader) -> None:
    """`_index` for a mapping: each key must be a plain scalar, written once, and not a merge key (`<<`)."""
    seen: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        mark = key_node.start_mark
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(_problem_at(mark, display, key, "mapping keys must be plain scalars"))
            continue
        if key_node.tag == "tag:yaml.org,2002:merge":
            message = (
                "YAML merge keys (<<) are not supported: write the keys out, or reuse the whole value with an alias"
            )
            problems.append(_problem_at(mark, display, key, message))
            continue
        name = loader.construct_object(key_node)
        child = key + (name,)
        if name in seen:
            message = f"duplicate key '{name}' (first defined on line {seen[name].line + 1})"
            problems.append(_problem_at(mark, display, child, message))
            continue
        seen[name] = mark
        locations[child] = Location(display, mark.line + 1, mark.column + 1)
        _index(value_node, child, display, locations, problems, loader)


JSON_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq", "merge")
)


def tag_message(tag: str) -> str | None:
    """Why a node's YAML `tag` is refused, or None for a standard tag of plain data."""
    if not tag.startswith("tag:yaml.org,2002:"):
        return f"YAML tag '{tag}' is not allowed: a config holds plain data only"
    if tag.startswith("tag:yaml.org,2002:python/"):
        return (
            f"YAML tag '!!{tag[len('tag:yaml.org,2002:') :]}' is not allowed: a config can never build Python objects"
        )
    if tag not in JSON_TAGS:  # !!timestamp, !!binary, !!set...: no Keras argument takes a date or bytes
        return (
            f"YAML tag '!!{tag[len('tag:yaml.org,2002:') :]}' is not allowed: a config holds strings, numbers, "
            "booleans, null, lists and mappings only"
        )
    return None


def _problem_at(mark, display: str, key: Key, message: str) -> Problem:
    """A `Problem` at a YAML mark (0-based) of the file shown as `display`."""
    return Problem(display, mark.line + 1, mark.column + 1, format_key(key), message)
