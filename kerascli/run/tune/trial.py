"""One trial: the space's values as `--set` overrides on a normal `kerascli train`.

Each trial is a run directory of its own under the study's folder
(`<output>/<name>/tune/<study>/trial-0003/`) with everything `train`
writes, and `run.json` records the study, the trial number and its params.
A trial whose training fails (a diverged loss, a value Keras rejects for
this combination) is recorded as failed with train's message, and the study
goes on; a problem every trial would have (the metric is not logged) stops it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any, Callable

import optuna

from kerascli.atomic import write_json
from kerascli.config.space import Dimension
from kerascli.config.space.settings import StudySettings
from kerascli.errors import KerasCliError
from kerascli.run.tune.pruning import MetricNotLogged, PruningCallback
from kerascli.run.tune.study import StudyError


class TrialFailed(Exception):
    """A trial's training failed; Optuna records the trial as failed and the study goes on."""


@dataclasses.dataclass
class Trainer:
    """Everything a trial needs besides its params.

    Args:
        config: the config file.
        overrides: the command line's `--set` options (applied before the params).
        dimensions: the search space.
        settings: the study's settings (the metric).
        study_dir: where trial run directories go.
        run_info: entries for every trial's `run.json` (study name, storage).
        backend: `--backend`, or None.
        validation_freq: fit's `validation_freq` in the config.
        on_epoch: called with `(trial number, epoch, value)` after each epoch, or None.
        worker: the `--jobs` worker running the trials (0 in a single process).
    """

    config: Path
    overrides: list[str]
    dimensions: list[Dimension]
    settings: StudySettings
    study_dir: Path
    run_info: dict
    backend: str | None = None
    validation_freq: int = 1
    on_epoch: Callable[[int, int, float], None] | None = None
    worker: int = 0

    def __call__(self, trial: optuna.Trial) -> float:
        from kerascli.run.session import Hooks
        from kerascli.run.train import train

        values = {d.name: suggest(trial, d) for d in self.dimensions}
        overrides = list(self.overrides) + [d.override(values[d.name]) for d in self.dimensions]
        run_dir = self.study_dir / f"trial-{trial.number:04d}"
        trial.set_user_attr("run_dir", str(run_dir))
        report = None if self.on_epoch is None else (lambda epoch, value: self.on_epoch(trial.number, epoch, value))
        pruning = PruningCallback(trial, self.settings.metric, self.validation_freq, on_epoch=report)
        info = {
            "tune": {
                **self.run_info,
                "trial": trial.number,
                "params": values,
                "worker": self.worker,
                "cpus": _cpus(),
                "started": time.time(),
            }
        }
        hooks = Hooks(run_dir=run_dir, callbacks=[pruning], run_info=info, signals=False, checkpoints=False)
        try:
            result = train(self.config, overrides, backend_cli=self.backend, quiet=True, hooks=hooks)
        except MetricNotLogged as exc:
            raise StudyError(str(exc)) from None
        except KerasCliError as exc:
            trial.set_user_attr("error", " / ".join(exc.lines()))
            raise TrialFailed(exc.lines()[0]) from None
        except KeyboardInterrupt:
            trial.set_user_attr("interrupted", True)
            raise
        trial.set_user_attr("run_dir", str(result.run_dir))
        trial.set_user_attr("config", (result.run_dir / "config.yaml").read_text(encoding="utf-8"))
        if pruning.pruned_after is not None:
            _record_state(result.run_dir, "pruned", pruning.pruned_after)
            raise optuna.TrialPruned(f"pruned after epoch {pruning.pruned_after}")
        value = score(result, self.settings.metric)
        _record_state(result.run_dir, "complete", None, value)
        return value


def suggest(trial: optuna.Trial, dimension: Dimension) -> Any:
    """Draws the dimension's value for `trial` (Optuna's `suggest_*`); returns the config value."""
    name = dimension.name
    if dimension.kind == "loguniform":
        return trial.suggest_float(name, dimension.low, dimension.high, log=True)
    if dimension.kind == "uniform":
        return trial.suggest_float(name, dimension.low, dimension.high, step=dimension.step)
    if dimension.kind == "int":
        return trial.suggest_int(name, dimension.low, dimension.high, step=dimension.step or 1, log=dimension.log)
    return dimension.value_of(trial.suggest_categorical(name, dimension.labels()))


def score(result, metric: str) -> float:
    """The trial's value: `metric` of the trained model (validation metrics for `val_...`)."""
    if metric.startswith("val_") and metric[4:] in result.metrics:
        return float(result.metrics[metric[4:]])
    history = result.history.get(metric)
    if history:
        return float(history[-1])
    raise StudyError(str(MetricNotLogged(metric, sorted(result.history))))


def _cpus() -> list[int] | None:
    """The cores this process may run on (a `--jobs` worker is pinned to its share)."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None


def _record_state(run_dir: Path, state: str, pruned_after: int | None, value: float | None = None) -> None:
    """Adds the trial's outcome to its `run.json`."""
    path = run_dir / "run.json"
    info = json.loads(path.read_text(encoding="utf-8"))
    info["tune"].update(
        state=state,
        **({"value": value} if value is not None else {}),
        **({"pruned_after_epoch": pruned_after} if pruned_after else {}),
    )
    write_json(path, info)
