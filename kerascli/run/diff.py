"""What differs between two runs: resolved config, versions, data content, final metrics.

Read from the runs' files (see `kerascli.run.runs_table`); no Keras.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from kerascli.errors import UsageError
from kerascli.run.runs_table import RunRecord, find_runs, read_run

_MISSING = "(absent)"


@dataclasses.dataclass
class RunDiff:
    """The differences between run `a` and run `b`.

    Args:
        a: the first run.
        b: the second run.
        config: `(dotted key, value in a, value in b)` for each resolved-config key that differs.
        versions: `(package, version in a, version in b)` for each version that differs.
        data: `(config key, fingerprint in a, fingerprint in b)` for each data file whose content differs.
        metrics: `(metric, a, b, b - a)` for every final metric of either run.
    """

    a: RunRecord
    b: RunRecord
    config: list[tuple[str, Any, Any]]
    versions: list[tuple[str, Any, Any]]
    data: list[tuple[str, dict | None, dict | None]]
    metrics: list[tuple[str, float | None, float | None, float | None]]

    def to_json(self) -> dict[str, Any]:
        """The diff as `kerascli diff --json` prints it."""
        return {
            "a": str(self.a.run_dir),
            "b": str(self.b.run_dir),
            "config": [{"key": k, "a": va, "b": vb} for k, va, vb in self.config],
            "versions": [{"package": k, "a": va, "b": vb} for k, va, vb in self.versions],
            "data": [{"key": k, "a": fa, "b": fb} for k, fa, fb in self.data],
            "metrics": [{"metric": k, "a": va, "b": vb, "delta": d} for k, va, vb, d in self.metrics],
        }


def open_run(target: str | os.PathLike) -> RunRecord:
    """A run given as its directory, as `runs/<name>` (its latest run), or as `<name>/<timestamp>` under `./runs`.

    Raises:
        UsageError: no run there.
    """
    path = Path(target)
    if not path.exists() and Path("runs", target).exists():
        path = Path("runs", target)
    if not path.is_dir():
        raise UsageError(f"no such run directory: {target}")
    if not (path / "run.json").is_file():
        runs = [read_run(p) for p in find_runs(path)]
        if not runs:
            raise UsageError(f"{target} is not a run directory (no run.json in it or below it)")
        return max(runs, key=lambda r: (r.started.timestamp() if r.started else 0.0, r.run_dir.name))
    return read_run(path)


def diff_runs(a: RunRecord, b: RunRecord) -> RunDiff:
    """The differences between two runs (see `RunDiff`)."""
    return RunDiff(
        a,
        b,
        _changed(a.config, b.config),
        _changed(a.info.get("versions") or {}, b.info.get("versions") or {}),
        _data_changes(a.info.get("data_files") or {}, b.info.get("data_files") or {}),
        _metrics(a.metrics, b.metrics),
    )


def _changed(a: dict, b: dict) -> list[tuple[str, Any, Any]]:
    keys = list(dict.fromkeys([*b, *a]))  # in b's order; what only a had, last
    return [
        (k, a.get(k, _MISSING), b.get(k, _MISSING)) for k in keys if _differ(a.get(k, _MISSING), b.get(k, _MISSING))
    ]


def _differ(x: Any, y: Any) -> bool:
    return type(x) is not type(y) or x != y


def _data_changes(a: dict, b: dict) -> list[tuple[str, dict | None, dict | None]]:
    """Data files (by config key) whose content digest differs, or that only one run used."""
    out = []
    for key in dict.fromkeys([*a, *b]):
        fa, fb = a.get(key), b.get(key)
        if _content(fa) != _content(fb):
            out.append((key, fa, fb))
    return out


def _content(fingerprint: dict | None) -> tuple:
    """What identifies a file's content: its digest; for a missing file, its path."""
    if not fingerprint:
        return ("unused",)
    if fingerprint.get("missing") or "sha256" not in fingerprint:
        return ("missing", fingerprint.get("path"))
    return ("sha256", fingerprint["sha256"])


def _metrics(a: dict, b: dict) -> list[tuple[str, float | None, float | None, float | None]]:
    rows = []
    for key in dict.fromkeys([*a, *b]):
        va, vb = a.get(key), b.get(key)
        rows.append((key, va, vb, vb - va if va is not None and vb is not None else None))
    return rows
