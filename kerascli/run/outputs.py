"""Where a command may write a file the user named: never over its input, never over a file without --force."""

from __future__ import annotations

import os
from pathlib import Path

from kerascli.errors import UsageError


def check_output(
    path: str | os.PathLike,
    *,
    option: str,
    suffixes: tuple[str, ...],
    force: bool = False,
    inputs: tuple[str | os.PathLike | None, ...] = (),
) -> Path:
    """Checks a user-named output file before any work is done.

    Args:
        path: the file to write.
        option: the option that named it, for messages (e.g. `--output`).
        suffixes: the file types the command writes (lower case, with the dot).
        force: whether an existing file may be replaced.
        inputs: files the command reads; writing over one of them is always refused.

    Returns:
        `path` as a `Path`.

    Raises:
        UsageError: a wrong suffix, the output is an input, it is a directory,
            or it exists and `force` is not set.
    """
    target = Path(path)
    if target.suffix.lower() not in suffixes:
        raise UsageError(
            f"{option}: expected a {' or '.join(suffixes)} file, got '{target}'"
            + (f" (a {target.suffix} name would hold {suffixes[0][1:].upper()} bytes)" if target.suffix else "")
        )
    for source in inputs:
        if source is not None and _same_file(target, Path(source)):
            raise UsageError(f"{option} {target} is the input file; write the output to another file")
    if target.is_dir():
        raise UsageError(f"{option} {target} is a directory; expected a file name")
    if target.exists() and not force:
        raise UsageError(f"{option} {target} exists; choose another name or pass --force to overwrite it")
    return target


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()
