"""`kerascli tune`: hyperparameter search over any config key, on Optuna.

session.py   check the request; run trials in this process; stop on Ctrl-C
study.py     storage, sampler, pruner, and what a study tunes (its fingerprint)
trial.py     one trial = one `train` with the params as --set overrides
pruning.py   the Keras callback that feeds Optuna's pruner
workers.py   --jobs N: worker processes pinned to their share of the cores
best.py      best.yaml
rows.py      the trials as rows for the live table
report.py    --report: parameter importances and the optimisation history
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

from kerascli.config.space.settings import StudySettings, where_set
from kerascli.errors import KerasCliError, UsageError
from kerascli.run.tune.session import Plan, Request, StopOnSignal, prepare, run_trials

__all__ = ["Request", "Plan", "Outcome", "tune", "open_report", "prepare"]


@dataclasses.dataclass
class Outcome:
    """What a tune did.

    Args:
        plan: the checked request.
        settings: the study's settings.
        rows: every trial of the study (earlier runs' included), as `TrialRow`s.
        best_file: `best.yaml`, or None when no trial completed.
        interrupted: whether a signal stopped it early.
        finished: trials that count towards `--trials`.
        storage_shown: the storage URL without its password.
    """

    plan: Plan
    settings: StudySettings
    rows: list
    best_file: Path | None
    interrupted: bool
    finished: int
    storage_shown: str

    @property
    def metric(self) -> str:
        return self.settings.metric


def tune(request: Request, refresh: Callable | None = None) -> Outcome:
    """Runs (or continues) a study.

    Args:
        request: what to tune.
        refresh: called with `(rows, metric, title)` when the
            trials change (a live display), or None.

    Raises:
        ConfigError: the config, the space or a setting is invalid (nothing is written).
        UsageError: the study exists without --resume, or tunes something else.
    """
    optuna = _import_optuna()
    from kerascli.run.tune import study as studies
    from kerascli.run.tune.best import write_best
    from kerascli.run.tune.rows import LiveRows, trial_rows

    plan, space, doc = prepare(request)
    settings = StudySettings(**plan.settings)
    shown = studies.shown_url(plan.storage)
    study = _open_study(optuna, request, plan, space, doc, settings)
    remaining = settings.trials - studies.counted(study)
    Path(plan.study_dir).mkdir(parents=True, exist_ok=True)
    live = LiveRows(study, space.dimensions, settings.metric, f"study '{plan.study}' ({shown})", refresh)
    live.show(force=True)
    stopped = _run_remaining(plan, remaining, live)
    best_file = write_best(study, Path(plan.study_dir), settings.metric)
    return Outcome(
        plan, settings, trial_rows(study, space.dimensions), best_file, stopped, studies.counted(study), shown
    )


def _open_study(optuna, request: Request, plan: Plan, space, doc, settings: StudySettings):
    """The plan's study, created or resumed, once the sampler and pruner it names were built.

    An Optuna class named in the space is checked (built once) before the
    study exists, so a bad one leaves nothing behind.
    """
    from kerascli.run.tune import study as studies

    given = {k: v for k, v in request.options.items() if v is not None}
    studies.make_sampler(settings, space, None, where_set(space, "sampler", given))
    studies.make_pruner(settings, where_set(space, "pruner", given))
    storage = studies.open_storage(plan.storage)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    fingerprint = studies.fingerprint(doc.data, space, settings)
    return studies.open_study(storage, plan.study, settings, fingerprint, plan.resume, studies.shown_url(plan.storage))


def _run_remaining(plan: Plan, remaining: int, live) -> bool:
    """Runs the trials still missing, here or in `--jobs` worker processes.

    Returns:
        Whether a signal stopped the study early.
    """
    if plan.jobs > 1 and remaining > 0:
        from kerascli.run.tune import workers

        return workers.run(plan, remaining, watch=live.show)
    with StopOnSignal() as stop:
        run_trials(plan, remaining, on_epoch=live.on_epoch, on_trial=live.on_trial, stop=stop)
    return stop.requested


def open_report(request: Request):
    """`--report`: the importances and history plot of an existing study (no trial runs)."""
    optuna = _import_optuna()
    from kerascli.run.tune import study as studies
    from kerascli.run.tune.report import report

    plan, _, _ = prepare(request)
    missing = UsageError(
        f"no study '{plan.study}' in {studies.shown_url(plan.storage)}: run kerascli tune {request.config} first"
    )
    if plan.storage.startswith("sqlite:///") and not Path(plan.storage[len("sqlite:///") :]).is_file():
        raise missing  # and no empty database file left behind
    try:
        study = optuna.load_study(study_name=plan.study, storage=studies.open_storage(plan.storage))
    except KeyError:
        raise missing from None
    return report(study, Path(plan.study_dir), plan.settings["metric"])


def _import_optuna():
    try:
        import optuna
    except ImportError:
        raise KerasCliError("kerascli tune needs Optuna: pip install 'kerascli[tune]'") from None
    return optuna
