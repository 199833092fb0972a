"""The runs under a directory, read from their files: for `kerascli runs` and `kerascli diff`.

A run directory holds `run.json` (status, versions, timings, data
fingerprints, the resolved config), `history.json` (one value per epoch,
rewritten after every epoch) and `metrics.json` (the saved model's final
metrics). Reading them is all this module does: no Keras, so listing
hundreds of runs takes a fraction of a second. (Runs written before
`run.json` held the config are read from their `config.yaml`.)
"""

from __future__ import annotations

import dataclasses
import datetime
import fnmatch
import json
import math
import os
import re
import socket
from pathlib import Path
from typing import Any

from kerascli.config.document import format_key, parse
from kerascli.errors import ConfigError, KerasCliError, UsageError
from kerascli.run.run_json import read_run_json

STATUSES = ("completed", "interrupted", "failed", "running", "died")
COLUMNS = ("name", "started", "status", "epochs", "duration")  # sortable besides metrics and config keys

_MISSING = "(absent)"
_STAMP = re.compile(r"^(\d{8}-\d{6})")


@dataclasses.dataclass
class RunRecord:
    """One run, as its files describe it.

    Args:
        run_dir: the run directory.
        name: the run's name (its config's `name`).
        started: when training started (UTC), or None when unknown.
        status: one of `STATUSES`; `died` is a run whose `run.json` still
            says `running` but whose process is gone (killed, out of memory).
        epochs: completed epochs, or None when unknown.
        duration: seconds the run took (so far, while running), or None.
        metrics: the final value of each metric: the last epoch's, with the
            validation metrics of the saved model (`metrics.json`) where recorded.
        config: the resolved config, flattened to dotted keys.
        settings: the resolved config as written (nested).
        info: the whole `run.json`.
    """

    run_dir: Path
    name: str
    started: datetime.datetime | None
    status: str
    epochs: int | None
    duration: float | None
    metrics: dict[str, float]
    config: dict[str, Any]
    settings: dict[str, Any]
    info: dict[str, Any]

    def value(self, key: str) -> Any:
        """A column, a metric or a config key of this run (None when it has none)."""
        if key in COLUMNS:
            return getattr(self, key)
        if key in self.metrics:
            return self.metrics[key]
        return self.config.get(key)

    def setting(self, key: tuple) -> Any:
        """The config value at `key` (a tuple of keys and list indexes), or None."""
        node: Any = self.settings
        for part in key:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                return None
        return node


def find_runs(base: str | os.PathLike) -> list[Path]:
    """Run directories (those holding a `run.json`) at `base`, one or two levels below it.

    `base` is `./runs` (holding `<name>/<timestamp>/`), one run's folder
    `runs/<name>`, or a single run directory.
    """
    base = Path(base)
    if not base.is_dir():
        raise UsageError(f"no such runs directory: {base}")
    if (base / "run.json").is_file():
        return [base]
    found = [p.parent for pattern in ("*/run.json", "*/*/run.json") for p in base.glob(pattern)]
    return sorted(set(found))


def read_run(run_dir: Path) -> RunRecord:
    """The `RunRecord` of one run directory.

    Raises:
        UsageError: `run.json` is missing or not JSON.
    """
    info = _read_json(run_dir / "run.json", required=True)
    history = _read_json(run_dir / "history.json") or {}
    settings = info.get("config")
    if not isinstance(settings, dict):
        settings = _read_config(run_dir / "config.yaml")
    config = flatten(settings)
    started = _started(info, run_dir)
    status = _status(info)
    timings = info.get("timings") or {}
    duration = timings.get("total")
    if duration is None and status == "running" and started is not None:
        duration = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()
    epochs = info.get("epochs")
    if epochs is None and history:
        epochs = max((len(v) for v in history.values() if isinstance(v, list)), default=None)
    return RunRecord(
        run_dir,
        str(config.get("name") or run_dir.parent.name),
        started,
        status,
        epochs,
        duration,
        final_metrics(history, _read_json(run_dir / "metrics.json") or {}),
        config,
        settings,
        info,
    )


def read_runs(base: str | os.PathLike) -> list[RunRecord]:
    """Every run under `base` (see `find_runs`); unreadable ones are skipped."""
    records = []
    for run_dir in find_runs(base):
        try:
            records.append(read_run(run_dir))
        except UsageError:
            continue
    return records


def final_metrics(history: dict, metrics: dict) -> dict[str, float]:
    """The last epoch's value of each history key; the saved model's validation metrics win."""
    out = {k: v[-1] for k, v in history.items() if isinstance(v, list) and v and _number(v[-1])}
    for key, value in (metrics.get("validation") or {}).items():
        if _number(value):
            out[f"val_{key}"] = value
    return out


def flatten(value: Any, key: tuple = ()) -> dict[str, Any]:
    """`{"fit": {"epochs": 3}, "x": [1, 2]}` → `{"fit.epochs": 3, "x[0]": 1, "x[1]": 2}`.

    Empty mappings and lists are kept as values (so they can differ from a full one).
    """
    if isinstance(value, dict) and value:
        return {k: v for name, item in value.items() for k, v in flatten(item, key + (str(name),)).items()}
    if isinstance(value, list) and value:
        return {k: v for i, item in enumerate(value) for k, v in flatten(item, key + (i,)).items()}
    return {format_key(key): value}


def varied_keys(records: list[RunRecord]) -> list[tuple]:
    """Where the runs' configs differ, as the shortest keys that say it, in config order.

    Mappings are compared key by key and lists of equal length item by item;
    a list whose length differs between runs (other layers, more callbacks)
    is one varied key, not one per item. A key some runs lack counts; the
    run's `name` does not (the table shows it).
    """
    if len(records) < 2:
        return []
    return [k for k in _differing([r.settings for r in records], ()) if k != ("name",)]


def _differing(values: list, key: tuple) -> list[tuple]:
    if all(isinstance(v, dict) for v in values):
        names = dict.fromkeys(n for v in values for n in v)
        return [k for n in names for k in _differing([v.get(n, _MISSING) for v in values], key + (n,))]
    if all(isinstance(v, list) for v in values) and len({len(v) for v in values}) == 1:
        return [k for i in range(len(values[0])) for k in _differing([v[i] for v in values], key + (i,))]
    return [key] if len({_hashable(v) for v in values}) > 1 else []


def select(
    records: list[RunRecord],
    name: str | None = None,
    status: list[str] | None = None,
    since: datetime.datetime | None = None,
) -> list[RunRecord]:
    """The runs whose name matches the glob `name`, whose status is in `status`, started at or after `since`."""
    for wanted in status or ():
        if wanted not in STATUSES:
            raise UsageError(f"--status: expected one of {', '.join(STATUSES)}, got '{wanted}'")
    return [
        r
        for r in records
        if (name is None or fnmatch.fnmatchcase(r.name, name))
        and (not status or r.status in status)
        and (since is None or (r.started is not None and r.started >= since))
    ]


def sort_runs(records: list[RunRecord], key: str | None, reverse: bool = False) -> list[RunRecord]:
    """Sorted by `key` (a column, a metric, or a config key); runs without it last. Default: start time."""
    key = key or "started"
    if key not in COLUMNS and not any(key in r.metrics or key in r.config for r in records) and records:
        known = sorted({k for r in records for k in r.metrics}) + list(COLUMNS)
        raise UsageError(
            f"--sort: no run has '{key}'; expected a column, a metric or a config key, e.g. {', '.join(known[:8])}"
        )
    present = [r for r in records if r.value(key) is not None]
    absent = [r for r in records if r.value(key) is None]
    present.sort(key=lambda r: _sort_key(r.value(key)), reverse=reverse)
    return present + absent


def parse_since(text: str, now: datetime.datetime | None = None) -> datetime.datetime:
    """`2026-12-01`, `2026-12-01T10:00` (local time, or with an offset) or an age: `30m`, `6h`, `2d`, `1w`.

    Raises:
        UsageError: anything else.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    age = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if age:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[age.group(2)]
        return now - datetime.timedelta(**{unit: float(age.group(1))})
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--since: expected a date (2026-12-01), a time (2026-12-01T10:00) or an age (30m, 6h, 2d), got '{text}'"
        ) from None
    return moment.astimezone(datetime.timezone.utc)  # a naive time is local time


def to_json(record: RunRecord, varied: list[tuple]) -> dict[str, Any]:
    """One run as `kerascli runs --json` prints it."""
    return {
        "run_dir": str(record.run_dir),
        "name": record.name,
        "started": record.started.isoformat(timespec="seconds") if record.started else None,
        "status": record.status,
        "epochs": record.epochs,
        "duration": record.duration,
        "metrics": record.metrics,
        "varied": {format_key(k): record.setting(k) for k in varied},
    }


def _read_json(path: Path, required: bool = False) -> Any:
    """A run's JSON object (None when absent or damaged and not `required`).

    Raises:
        UsageError: a `required` file is missing, not JSON, or not a JSON object.
    """
    if not path.is_file():
        if required:
            raise UsageError(f"{path.parent} is not a run directory (it has no run.json)")
        return None
    try:
        return read_run_json(path)
    except KerasCliError as exc:
        if required:
            raise UsageError(str(exc)) from None
        return None


def _read_config(path: Path) -> dict[str, Any]:
    """A run's `config.yaml` as data, read with the config's own bounded parser ({} when unreadable)."""
    try:
        data = parse(path.read_text(encoding="utf-8"), str(path), path).data
    except (OSError, UnicodeDecodeError, ConfigError):
        return {}
    return data if isinstance(data, dict) else {}


def _started(info: dict, run_dir: Path) -> datetime.datetime | None:
    """`run.json`'s start time; for runs written before it was recorded, the directory's timestamp."""
    text = info.get("started")
    if isinstance(text, str):
        try:
            return datetime.datetime.fromisoformat(text).astimezone(datetime.timezone.utc)
        except ValueError:
            pass
    stamp = _STAMP.match(run_dir.name)
    try:
        return (
            datetime.datetime.strptime(stamp.group(1), "%Y%m%d-%H%M%S").astimezone(datetime.timezone.utc)
            if stamp
            else None
        )
    except ValueError:
        return None


def _status(info: dict) -> str:
    """The recorded status; `died` when a `running` run's process on this host is gone."""
    status = str(info.get("status") or "running")
    process = info.get("process") or {}
    if status == "running" and process.get("host") == socket.gethostname() and isinstance(process.get("pid"), int):
        if not _alive(process["pid"]):
            return "died"
    return status


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there: assume it lives
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _hashable(value: Any) -> Any:
    return (
        json.dumps(value, sort_keys=True, default=str)
        if isinstance(value, (dict, list))
        else (type(value).__name__, value)
    )


def _sort_key(value: Any) -> tuple:
    if isinstance(value, datetime.datetime):
        return (0, value.timestamp(), "")
    if _number(value):
        return (0, float(value), "")
    return (1, 0.0, str(value))
