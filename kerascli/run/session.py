"""The state one `train` call builds up, phase by phase (see `kerascli.run.train`)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

from kerascli.config import spec
from kerascli.engine import distribution
from kerascli.run.runinfo import Timer


@dataclasses.dataclass
class TrainResult:
    """What `train` produced."""

    run_dir: Path | None
    history: dict[str, list[float]]
    metrics: dict[str, float]
    timings: dict[str, float]
    profile: dict = dataclasses.field(default_factory=dict)
    metrics_source: str = "validation"  # what `metrics` were measured on: "validation" or "train"


@dataclasses.dataclass
class Hooks:
    """What a caller that runs many trainings (`kerascli tune`) adds to one.

    Args:
        run_dir: the run directory to create (suffixed `-1`, `-2`... if it
            exists), instead of a new `<output>/<name>/<timestamp>/`.
        callbacks: Keras callbacks added to fit's.
        run_info: entries added to `run.json`.
        signals: whether train handles SIGINT/SIGTERM itself (stop after the
            batch); False when the caller does.
        checkpoints: whether every epoch is checkpointed for `train --resume`.
    """

    run_dir: Path | None = None
    callbacks: list = dataclasses.field(default_factory=list)
    run_info: dict = dataclasses.field(default_factory=dict)
    signals: bool = True
    checkpoints: bool = True


@dataclasses.dataclass
class Training:
    """The state one `train` call builds up, phase by phase."""

    doc: Any
    cfg: spec.Config
    plan: distribution.Plan
    seed: int
    timer: Timer
    backend_name: str
    settings: dict = dataclasses.field(default_factory=dict)
    keras: Any = None
    labels: Any = None
    vocabularies: Any = None
    adapted: list = dataclasses.field(default_factory=list)
    train_data: Any = None
    validation: Any = None
    model: Any = None
    class_weight: dict | None = None
    run_dir: Path | None = None
    run_info: dict = dataclasses.field(default_factory=dict)
    val_feed: Any = None
    tracker: Any = None  # a `tracking.MlflowTracker` when the config asks for MLflow
    hooks: Hooks = dataclasses.field(default_factory=Hooks)
    compile_args: dict = dataclasses.field(default_factory=dict)
    warm_start: dict | None = None
    callbacks: list = dataclasses.field(default_factory=list)
    adapt_rows: Any = None  # the training rows before sharding, until `adapt` has run


def discard_scratch(t: Training) -> None:
    """Removes the scratch run directory of a process that does not write the run."""
    if not t.plan.writer and t.run_dir is not None:
        shutil.rmtree(t.run_dir, ignore_errors=True)
