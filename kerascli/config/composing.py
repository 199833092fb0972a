"""YAML text → node tree, bounded in size and depth whatever the text holds.

PyYAML's composer trusts its input: aliases are shared nodes, so a 300-byte
file of nested aliases (an "alias bomb") stands for billions of values once
anything walks it; deep nesting overflows Python's stack; an alias inside its
own anchor makes a cycle. kerascli composes the node tree itself from the
parser's events (libyaml's when installed, which is what makes a 1 MB file
fast) and stops, with the position, at the first of:

- more than `MAX_NODES` nodes, counting each alias as the nodes it repeats;
- collections nested more than `MAX_DEPTH` levels;
- an alias to a node that contains it, an unknown or a duplicate anchor;
- a second document, a control character (NUL, ESC...) anywhere in the text.

As in YAML 1.2, `2001-12-14` is a string, not a date (tags are checked where
the tree is indexed, `kerascli.config.document`).

Real configs are far inside the limits (the largest example has under 200
nodes, 7 levels). Nothing here imports Keras.
"""

from __future__ import annotations

import re

import yaml
from yaml.events import (
    AliasEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

MAX_NODES = 20_000
MAX_DEPTH = 100

# YAML 1.1 allows tab, LF, CR, NEL and the printable ranges; anything else is refused by the
# parser with a byte offset only: found first, with its line and column.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_FLOAT_1E = re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Loader(_Base):
    """The safe loader (libyaml's when installed), reading `1e-4` as a float as YAML 1.2 does.

    YAML 1.1 (PyYAML) needs a dot (`1.0e-4`) and silently reads `1e-4` as a
    string, which would reach an optimizer as a learning rate of `"1e-4"`.
    """


Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_1E, list("-+0123456789"))
TIMESTAMP = "tag:yaml.org,2002:timestamp"
Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != TIMESTAMP]
    for first, resolvers in Loader.yaml_implicit_resolvers.items()
}


class LimitError(yaml.MarkedYAMLError):
    """The text is valid YAML but past a limit of this module (its `problem` says which)."""


class _Open:
    """A collection whose end event has not come yet."""

    __slots__ = ("node", "anchor", "size", "key")

    def __init__(self, node, anchor):
        self.node, self.anchor, self.size, self.key = node, anchor, 1, None


def compose(text: str, loader: Loader | None = None):
    """The single document of `text` as a node tree, or None for an empty stream.

    Args:
        text: the YAML text.
        loader: the loader to read events from (default: a new one on `text`);
            its constructor then builds plain data from the tree.

    Returns:
        The root node, or None.

    Raises:
        yaml.MarkedYAMLError: a syntax error (from the parser) or a `LimitError`.
    """
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        raise LimitError(
            problem=f"control character {_codepoint(bad.group())} is not allowed: a config holds printable text only",
            problem_mark=_mark(text, bad.start()),
        )
    loader = loader if loader is not None else Loader(text)
    loader.get_event()  # stream start
    if loader.check_event(StreamEndEvent):
        return None
    loader.get_event()  # document start
    root = _Composer(loader).document()
    loader.get_event()  # document end
    if not loader.check_event(StreamEndEvent):
        raise yaml.composer.ComposerError(
            None, None, "found a second document: a config is a single YAML document", loader.get_event().start_mark
        )
    return root


class _Composer:
    """Builds one document's nodes from the events, counting every node an alias repeats."""

    def __init__(self, loader):
        self.loader = loader
        self.anchors: dict[str, tuple] = {}  # anchor -> (node, its size with aliases expanded)
        self.stack: list[_Open] = []
        self.total = 0
        self.resolved: dict[tuple, str] = {}  # (plain scalar, implicit) -> its tag: resolving runs regexes

    def document(self):
        get, stack = self.loader.get_event, self.stack
        while True:
            event = get()
            kind = type(event)
            if kind is SequenceStartEvent or kind is MappingStartEvent:
                self.open(event, SequenceNode if kind is SequenceStartEvent else MappingNode)
                continue
            if kind is ScalarEvent:
                node, size, anchor = self.scalar(event), 1, event.anchor
            elif kind is AliasEvent:
                (node, size), anchor = self.alias(event), None
            else:  # the end of the innermost open collection
                done = stack.pop()
                node, size, anchor = done.node, done.size, done.anchor
                node.end_mark = event.end_mark
            if anchor is not None:
                self.anchors[anchor] = (node, size)
            if not stack:
                return node
            self.attach(stack[-1], node, size)

    def count(self, size: int, mark, what: str) -> None:
        self.total += size
        if self.total > MAX_NODES:
            raise LimitError(
                problem=f"{what} takes the config past {MAX_NODES:,} YAML nodes; a config is refused "
                f"past that size (an alias counts as the nodes it repeats)",
                problem_mark=mark,
            )

    def open(self, event, kind) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise LimitError(
                problem=f"YAML nested more than {MAX_DEPTH} levels deep; a config is refused past that depth",
                problem_mark=event.start_mark,
            )
        if event.anchor is not None:
            self.check_anchor(event)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(kind, None, event.implicit)
        self.count(1, event.start_mark, "this collection")
        self.stack.append(_Open(kind(tag, [], event.start_mark, None, flow_style=event.flow_style), event.anchor))

    def scalar(self, event):
        if event.anchor is not None:
            self.check_anchor(event)
        tag = event.tag
        if tag is None or tag == "!":
            known = (event.value, event.implicit)
            tag = self.resolved.get(known)
            if tag is None:
                tag = self.resolved[known] = self.loader.resolve(ScalarNode, event.value, event.implicit)
        self.count(1, event.start_mark, "this value")
        return ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)

    def alias(self, event) -> tuple:
        name = event.anchor
        if name not in self.anchors:
            if any(o.anchor == name for o in self.stack):
                raise LimitError(
                    problem=f"alias '*{name}' is inside the node it refers to: a config cannot be recursive",
                    problem_mark=event.start_mark,
                )
            raise yaml.composer.ComposerError(None, None, f"found undefined alias '*{name}'", event.start_mark)
        node, size = self.anchors[name]
        self.count(size, event.start_mark, f"alias '*{name}' repeats {size:,} nodes and")
        return node, size

    def check_anchor(self, event) -> None:
        name = event.anchor
        if name in self.anchors or any(o.anchor == name for o in self.stack):
            raise yaml.composer.ComposerError(None, None, f"found duplicate anchor '&{name}'", event.start_mark)

    @staticmethod
    def attach(parent: _Open, node, size: int) -> None:
        parent.size += size
        if type(parent.node) is SequenceNode:
            parent.node.value.append(node)
        elif parent.key is None:
            parent.key = node
        else:
            parent.node.value.append((parent.key, node))
            parent.key = None


def _codepoint(char: str) -> str:
    names = {"\x00": "NUL", "\x1b": "ESC", "\x07": "BEL", "\x08": "BS", "\x7f": "DEL"}
    code = f"U+{ord(char):04X}"
    return f"{code} ({names[char]})" if char in names else code


def _mark(text: str, index: int):
    line = text.count("\n", 0, index)
    column = index - (text.rfind("\n", 0, index) + 1)
    return yaml.Mark("<config>", index, line, column, None, None)
