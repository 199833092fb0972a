"""Which columns (or NPZ keys) a selection names: a name, a list, a glob, a regex, "all but".

Wide tables need no 200-name list: `x: {glob: "px_*"}`, `x: {regex: "f[0-9]+"}`,
`x: {exclude: [id]}`. Every name the user writes must exist in the file
(did-you-mean otherwise), and a pattern that picks nothing is an error.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from typing import Callable, NoReturn

from kerascli.config.spec.data import ColumnPattern
from kerascli.errors import excerpt

Fail = Callable[[str], NoReturn]


def names_of(selection) -> list[str]:
    """The names a selection writes out literally (patterns name none but their excludes)."""
    if selection is None or isinstance(selection, ColumnPattern):
        return []
    if isinstance(selection, str):
        return [selection]
    if isinstance(selection, list):
        return list(selection)
    return [c for v in selection.values() for c in names_of(v)]


def listing(names: list[str], limit: int = 20) -> str:
    """`a, b, c, ... (480 in all)` for a message: at most `limit` names, each a short excerpt (they come from the file)."""
    shown = [name if len(name) <= 40 else excerpt(name)[1:-1] for name in names[:limit]]
    return ", ".join(shown) + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def unknown(name: str, available: list[str], where: str, noun: str = "column") -> str:
    """The message for a name that is not in the file, with a did-you-mean."""
    hint = difflib.get_close_matches(name, available, n=1)
    if noun == "array":
        return f"no array '{name}' in {where}; it holds: {listing(available)}" + (
            f" (did you mean '{hint[0]}'?)" if hint else ""
        )
    return f"no column '{name}' in {where}" + (
        f" (did you mean '{hint[0]}'?)" if hint else f"; columns are: {listing(available)}"
    )


def resolve(
    selection, available: list[str], where: str, fail: Fail, *, targets: list[str] = (), noun: str = "column"
) -> list[str]:
    """The names `selection` picks from `available`, in the file's order for patterns.

    Args:
        selection: None (every name but the targets), a name, a list of names,
            or a `ColumnPattern`.
        available: the names in the file.
        where: the file's name, for messages.
        fail: raises the error for a message (it knows the config location).
        targets: the target names, never picked by None or a pattern.
        noun: "column" (tables) or "array" (NPZ keys), for messages.

    Returns:
        The selected names.
    """
    if isinstance(selection, str):
        selection = [selection]
    if isinstance(selection, list):
        for name in selection:
            if name not in available:
                fail(unknown(name, available, where, noun))
        return list(selection)
    if selection is None:
        names = [c for c in available if c not in targets]
        if not names:
            fail(f"no input columns left in {where} after removing the targets")
        return names
    excluded = [selection.exclude] if isinstance(selection.exclude, str) else list(selection.exclude or [])
    for name in excluded:
        if name not in available:
            fail("exclude: " + unknown(name, available, where, noun))
    if selection.glob is not None:
        picked, rule = [c for c in available if fnmatch.fnmatchcase(c, selection.glob)], f"glob {selection.glob!r}"
    elif selection.regex is not None:
        pattern = re.compile(selection.regex)
        picked, rule = [c for c in available if pattern.fullmatch(c)], f"regex {selection.regex!r}"
    else:
        picked, rule = list(available), "exclude"
    names = [c for c in picked if c not in excluded and c not in targets]
    if not names:
        fail(
            f"{rule} picks no {noun} of {where}"
            + (" once the excluded and target columns are removed" if picked else "")
            + f"; {noun}s are: {listing(available)}"
        )
    return names
