"""The settings of a study: metric, direction, sampler, pruner, trials, timeout.

They come from the command line, else from the space (`tune:` section or
`--space` file), else from the config: the metric defaults to the `monitor`
of fit's first callback that has one (what `EarlyStopping` watches), else
`val_loss`; the direction follows from the metric's name.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from kerascli.config.document import Document
from kerascli.config.space import DEFAULT_TRIALS, Space, _setting_problem
from kerascli.errors import ConfigError, Problem

# Metric names by the direction that improves them, matched at the end of the
# name so per-output keys (`val_digit_accuracy`) and Keras' spellings
# (`sparse_categorical_accuracy`, `AUC`) are found. Anything else needs `direction`.
MAXIMIZED = (
    "accuracy",
    "acc",
    "auc",
    "precision",
    "recall",
    "f1_score",
    "fbeta_score",
    "r2_score",
    "iou",
    "cosine_similarity",
)
MINIMIZED = (
    "loss",
    "error",
    "crossentropy",
    "hinge",
    "divergence",
    "poisson",
    "logcosh",
    "log_cosh",
    "mse",
    "mae",
    "mape",
    "msle",
)


@dataclasses.dataclass(frozen=True)
class StudySettings:
    """How a study scores and chooses trials.

    Args:
        metric: the epoch-log key a trial is scored by (`val_loss`).
        direction: `minimize` or `maximize`.
        sampler: a name in `SAMPLERS`, or `{type: <Optuna sampler>, ...}`.
        pruner: a name in `PRUNERS`, or `{type: <Optuna pruner>, ...}`.
        trials: the number of trials the study should hold when done.
        timeout: seconds after which no new trial starts, or None.
    """

    metric: str
    direction: str
    sampler: Any = "tpe"
    pruner: Any = "median"
    trials: int = DEFAULT_TRIALS
    timeout: float | None = None


def direction_of(metric: str) -> str | None:
    """`val_loss` → minimize, `val_accuracy` → maximize; None when the name does not say."""
    name = metric.lower()
    if name.endswith(MAXIMIZED):
        return "maximize"
    if name.endswith(MINIMIZED):
        return "minimize"
    return None


def default_metric(doc: Document) -> str:
    """The `monitor` of fit's first callback that has one, else `val_loss`."""
    callbacks = (doc.data.get("fit") or {}).get("callbacks") if isinstance(doc.data.get("fit"), dict) else None
    for callback in callbacks if isinstance(callbacks, list) else []:
        if isinstance(callback, dict) and isinstance(callback.get("monitor"), str):
            return callback["monitor"]
    return "val_loss"


def resolve(space: Space | None, doc: Document, options: dict[str, Any]) -> StudySettings:
    """The study settings: `options` (from the command line) over the space's over the defaults.

    Args:
        space: the search space (its `settings`), or None.
        doc: the config being tuned.
        options: command-line values; None means not given.

    Raises:
        ConfigError: a bad option, or a metric the config cannot log.
    """
    given = {k: v for k, v in options.items() if v is not None}
    problems = [
        Problem(f"--{name}", 0, 0, "", message)
        for name, value in given.items()
        if (message := _setting_problem(name, value))
    ]
    if problems:
        raise ConfigError(problems)
    merged = {**(space.settings if space else {}), **given}
    metric = merged.get("metric") or default_metric(doc)
    where = where_set(space, "metric", given)
    validation = (doc.data.get("data") or {}).get("validation") if isinstance(doc.data.get("data"), dict) else None
    if metric.startswith("val_") and validation is None:
        raise ConfigError(
            [
                where(
                    f"trials are scored by '{metric}', but the config has no data.validation: "
                    "add one (e.g. data.validation: {split: 0.2}) or score by a training metric "
                    "(--metric loss)"
                )
            ]
        )
    direction = merged.get("direction") or direction_of(metric)
    if direction is None:
        raise ConfigError(
            [
                where(
                    f"cannot tell whether '{metric}' should be minimized or maximized: "
                    "set direction: minimize or maximize (or --direction)"
                )
            ]
        )
    sampler = merged.get("sampler", "tpe")
    default_trials = DEFAULT_TRIALS
    if sampler == "grid" and space is not None:
        default_trials = grid_size(space)
    timeout = merged.get("timeout")
    return StudySettings(
        metric=metric,
        direction=direction,
        sampler=sampler,
        pruner=merged.get("pruner", "median"),
        trials=int(merged.get("trials", default_trials)),
        timeout=float(timeout) if timeout is not None and math.isfinite(timeout) else None,
    )


def grid_size(space: Space) -> int:
    """The number of points of the space's grid.

    Raises:
        ConfigError: a dimension with infinitely many values.
    """
    problems, size = [], 1
    for dimension in space.dimensions:
        values = dimension.grid()
        if values is None:
            fix = (
                "give it a 'step'"
                if dimension.kind == "uniform"
                else ("drop 'log: true'" if dimension.kind == "int" else "list the values with {choice: [...]}")
            )
            problems.append(
                space.dimension_problem(
                    dimension,
                    f"the grid sampler needs a finite set of values, and {dimension.describe()} has none: {fix}",
                )
            )
        else:
            size *= len(values)
    if problems:
        raise ConfigError(problems)
    return size


def where_set(space: Space | None, name: str, given: dict):
    """Makes problems about setting `name` point where it was set: its option in `given`, its line, or the section."""

    def problem(message: str) -> Problem:
        if name in given:
            return Problem(f"--{name}", 0, 0, "", message)
        if space is not None and name in space.settings:
            return space.problem((name,), message)
        if space is not None:
            return space.problem((), message)
        return Problem("", 0, 0, "", message)

    return problem
