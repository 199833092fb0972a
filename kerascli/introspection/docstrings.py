"""Reading Keras docstrings: one-line summaries and the `Args:` section, argument by argument."""

from __future__ import annotations

import re

_MAX_DESCRIPTION = 200

# Leading docstring words that give a type ("Positive integer, ...",
# "Optional float.", "Boolean, whether ..."); phrases naming alternatives
# anywhere in the first sentence ("Float, ... or a tuple") give none.
_DOC_TYPE = re.compile(
    r"(?:(?:an?|optional|positive|non-negative|strictly positive)\s+)*"
    r"(integer|int|float|boolean|bool|string|str)\b(?![^.]*\b(?:or|tuple|list)\b)",
    re.IGNORECASE,
)
_DOC_TYPE_NAMES = {
    "integer": "integer",
    "int": "integer",
    "float": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "string": "string",
    "str": "string",
}


def shorten(text: str, limit: int = _MAX_DESCRIPTION) -> str:
    # Joins whitespace, then keeps whole sentences up to `limit` characters,
    # or cuts at a word boundary.
    text = re.sub(r"\{\{\w+\}\}", "", text)  # Unfilled docstring templates.
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    ends = [
        m.end()
        for m in re.finditer(r"(?<!e\.g)(?<!i\.e)(?<!etc)(?<!\bie)\.(?=\s)", text)
        if m.end() <= limit and not re.search(r"(?:^|\s)\d+\.$", text[: m.end()])
    ]
    if ends:
        return text[: ends[-1]]
    cut = text[: limit - 3].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "..."


def summary(doc: str | None) -> str:
    # First sentence of the docstring's first paragraph.
    if not doc:
        return ""
    paragraph = doc.strip().split("\n\n", 1)[0]
    text = " ".join(paragraph.split())
    match = re.search(r"(?<!e\.g)(?<!i\.e)(?<!etc)\.(?=\s|$)", text)
    if match:
        text = text[: match.end()]
    return shorten(text)


_ARG_LINE = re.compile(r"\*{0,2}(\w+)(?:\s*\([^)]*\))?\s*:(?:\s+(.*)|$)")


def parse_args_section(doc: str | None) -> dict[str, str]:
    """Parses Google-style `Args:` sections of a docstring.

    Args:
        doc: A cleaned docstring (`inspect.getdoc`).

    Returns:
        Dict mapping argument names to their shortened descriptions; the
        first mention of a name wins.
    """
    if not doc:
        return {}
    lines = doc.expandtabs().splitlines()
    found: dict[str, list[str]] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() not in ("Args:", "Arguments:"):
            i += 1
            continue
        header_indent = len(line) - len(line.lstrip())
        item_indent = None
        current = None
        section: dict[str, list[str]] = {}
        i += 1
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            indent = len(line) - len(line.lstrip())
            if indent <= header_indent:
                break
            if item_indent is None:
                item_indent = indent
            if indent < item_indent:
                break
            match = _ARG_LINE.match(line.strip()) if indent == item_indent else None
            if match:
                current = match.group(1)
                section.setdefault(current, []).append(match.group(2) or "")
            elif current is not None:
                section[current].append(line.strip())
            i += 1
        for name, parts in section.items():
            found.setdefault(name, parts)
    return {name: shorten(" ".join(parts)) for name, parts in found.items()}


def doc_type(description: str) -> str | None:
    # Type named by the first words of an argument's description, if any.
    match = _DOC_TYPE.match(description)
    return _DOC_TYPE_NAMES[match.group(1).lower()] if match else None
