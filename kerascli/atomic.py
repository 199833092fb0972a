"""Atomic files: every artifact kerascli writes goes through here.

A crash leaves the previous version of a file or none, never half of one:
every file is written to a temporary file in the same directory, flushed,
fsynced and renamed over the target.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator


def temp_beside(target: str | os.PathLike) -> Path:
    """Creates an empty temporary file in `target`'s directory and returns its path.

    The name keeps `target`'s suffix (Keras insists on `.keras`) and starts
    with a dot, so a listing of the directory does not show it.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    return Path(tmp)


def commit(tmp: str | os.PathLike, target: str | os.PathLike) -> None:
    """Fsyncs the finished temporary file `tmp` and renames it over `target`."""
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, target)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path beside `target`; renames it over `target` on success."""
    tmp_path = temp_beside(target)
    try:
        yield tmp_path
        commit(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(target: str | os.PathLike, text: str) -> None:
    """Writes `text` to `target` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(target: str | os.PathLike, data: Any) -> None:
    """Writes `data` as indented JSON, atomically; NaN/inf become null."""
    write_text(target, json.dumps(_jsonable(data), indent=2, allow_nan=False) + "\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        try:
            value = value.item()
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def staging_dir(target: str | os.PathLike) -> Path:
    """Creates an empty hidden directory beside `target`, to fill and then `replace_dir` over it."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))


def replace_dir(staging: str | os.PathLike, target: str | os.PathLike) -> None:
    """Renames the finished directory `staging` to `target`, replacing an existing `target` whole.

    The old directory is first renamed aside and removed only once the new
    one is in place: a crash leaves the old directory or the new one (and
    perhaps a hidden leftover), never a mixture.
    """
    import shutil

    staging, target = Path(staging), Path(target)
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
        os.replace(target, old / target.name)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
