"""Run directories and the files in them, each written atomically.

A crash leaves the previous version of a file or none, never half of one:
every file is written to a temporary file in the same directory, flushed,
fsynced and renamed over the target.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterator

RUN_FILES = ("config.yaml", "model.keras", "history.json", "metrics.json", "run.json")


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path beside `target`; renames it over `target` on success.

    The temporary name keeps `target`'s suffix (Keras insists on `.keras`).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_path, target)
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


def safe_name(name: str) -> str:
    """A run name that cannot leave the output directory."""
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]", "_", name).lstrip(".")
    return cleaned or "run"


def new_run_dir(base: str | os.PathLike, name: str) -> Path:
    """Creates `base/name/<timestamp>/`, never reusing an existing directory."""
    parent = Path(base) / safe_name(name)
    parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for attempt in range(1000):
        candidate = parent / (stamp if attempt == 0 else f"{stamp}-{attempt}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a new run directory under {parent}")


def is_run_dir(path: Path) -> bool:
    """Whether `path` holds a finished run (a config and a model)."""
    return (path / "config.yaml").is_file() and (path / "model.keras").is_file()


def latest_run(base: str | os.PathLike, name: str | None = None) -> Path | None:
    """The most recent run under `base` (of run `name` when given), or None."""
    base = Path(base)
    parents = [base / safe_name(name)] if name else [p for p in base.glob("*") if p.is_dir()]
    runs = [r for p in parents if p.is_dir() for r in p.iterdir() if r.is_dir() and is_run_dir(r)]
    if not runs:
        return None
    return max(runs, key=lambda r: ((r / "model.keras").stat().st_mtime, r.name))
