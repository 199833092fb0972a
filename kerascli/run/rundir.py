"""Run directories: create one, find the latest, open a finished one, resume an unfinished one."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import re
from pathlib import Path
from typing import Any

from kerascli.config.document import Document
from kerascli.config.spec import Config
from kerascli.engine import backend, speed
from kerascli.engine.keras_import import load_keras
from kerascli.errors import KerasCliError, UsageError
from kerascli.run.validating import Checked, validate


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


def planned_run_dir(base: str | os.PathLike, name: str) -> Path:
    """The path `new_run_dir` would create now, created by `create_run_dir` later.

    The callbacks are built with their paths in the run directory before the
    directory exists, so that a callback Keras rejects leaves nothing behind.
    """
    parent = Path(base) / safe_name(name)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for attempt in range(1000):
        candidate = parent / (stamp if attempt == 0 else f"{stamp}-{attempt}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"cannot create a new run directory under {parent}")


def create_run_dir(path: Path) -> Path:
    """Creates the `planned_run_dir` `path`; another run that took it meanwhile is an error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir()
    except FileExistsError:
        raise KerasCliError(f"another run created {path} at the same moment; train again") from None
    return path


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


def resume_config(run_dir) -> Path:
    """The config of a run to resume (`RUN_DIR/config.yaml`).

    Raises:
        UsageError: `run_dir` is not a run directory, or the run completed.
    """
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file() or not (run_dir / "run.json").is_file():
        raise UsageError(f"cannot resume {run_dir}: not a run directory (it has no config.yaml and run.json)")
    status = json.loads((run_dir / "run.json").read_text(encoding="utf-8")).get("status")
    if status == "completed":
        raise UsageError(f"cannot resume {run_dir}: the run has completed; train a new run instead")
    return run_dir / "config.yaml"


def find_run(target: str | None, overrides=()) -> tuple[Path, Checked]:
    """Resolves `RUN_OR_CONFIG`: a run directory, a config file, or the latest run.

    Returns:
        `(run_dir, checked)`: the finished run and its validated config.
    """
    if target is None:
        run_dir = latest_run("runs")
        if run_dir is None:
            raise UsageError(
                "no run found under ./runs; train one first (kerascli train CONFIG) or pass a run directory"
            )
        target_path = run_dir
    else:
        target_path = Path(target)
        if not target_path.exists():
            raise UsageError(f"no such run directory or config file: {target}")
    if target_path.is_dir():
        if not (target_path / "model.keras").is_file():
            latest = latest_run(target_path) or latest_run(target_path.parent, target_path.name)
            if latest is None:
                raise UsageError(f"{target_path} is not a finished run (it has no model.keras)")
            target_path = latest
        return target_path, validate(target_path / "config.yaml", overrides)
    checked = validate(target_path, overrides)
    name = checked.cfg.name or checked.doc.path.stem
    run_dir = latest_run(checked.cfg.output.dir, name)
    if run_dir is None:
        raise UsageError(
            f"no finished run of '{name}' under {checked.cfg.output.dir}/; train it first: kerascli train {target}"
        )
    return run_dir, checked


@dataclasses.dataclass
class RunContext:
    """A trained run, ready to evaluate or predict."""

    run_dir: Path
    doc: Document
    cfg: Config
    model: Any
    labels: dict[str, list[str]]
    seed: int
    vocabularies: Any = None
    inputs: dict = dataclasses.field(default_factory=dict)  # run.json's training input columns (data.columns)


def open_run(target: str | None, overrides=(), backend_cli=None) -> RunContext:
    """Loads a run's model (safe mode) and vocabularies."""
    run_dir, checked = find_run(target, overrides)
    doc, cfg = checked.doc, checked.cfg
    keras = load_keras(backend.resolve(backend_cli, cfg.backend))
    speed.fast_pool(cfg.compile.fast_pool)
    from kerascli.model.saved import load_saved

    model = load_saved(keras, run_dir / "model.keras")
    labels_file = run_dir / "labels.json"
    labels = json.loads(labels_file.read_text()) if labels_file.is_file() else {}
    run_json = run_dir / "run.json"
    info = json.loads(run_json.read_text()) if run_json.is_file() else {}
    seed = cfg.seed if cfg.seed is not None else info.get("seed", 0)
    from kerascli.data.vocabulary import Vocabularies

    vocab_file = run_dir / "vocabularies.json"
    vocabularies = Vocabularies.from_json(json.loads(vocab_file.read_text()) if vocab_file.is_file() else {})
    return RunContext(run_dir, doc, cfg, model, labels, seed, vocabularies, info.get("inputs") or {})
