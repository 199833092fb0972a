"""A tune from start to end: check everything, open the study, run the trials, write best.yaml.

Everything that can be checked without Keras is checked before the study is
opened: the config, the space against it, the settings. Trials run in this
process (`--jobs 1`) or in worker processes sharing the storage
(`kerascli.run.tune.workers`). Ctrl-C stops after the current trial (a
second one stops it at once; it is recorded as interrupted and does not
count); `--resume` continues the study and runs the trials still missing.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
from pathlib import Path
from typing import Any

from kerascli.config import space as spaces
from kerascli.config.document import Document
from kerascli.config.loading import load
from kerascli.config.space import fit as space_fit
from kerascli.config.space.settings import StudySettings, resolve, where_set
from kerascli.errors import ConfigError, KerasCliError, UsageError
from kerascli.run.rundir import safe_name
from kerascli.run.validating import validate


class StudyInterrupted(KerasCliError):
    """The tune stopped on a signal after its current trial(s); exit 130."""

    exit_code = 130


@dataclasses.dataclass
class Request:
    """What the command line asks for (see `kerascli tune --help`)."""

    config: Path
    space_file: Path | None = None
    overrides: list[str] = dataclasses.field(default_factory=list)
    options: dict[str, Any] = dataclasses.field(
        default_factory=dict
    )  # metric, direction, sampler, pruner, trials, timeout
    jobs: int = 1
    study: str | None = None
    storage: str | None = None
    resume: bool = False
    output_dir: Path | None = None
    backend: str | None = None
    plugins: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Plan:
    """A checked request: everything a worker process needs to run trials (JSON-able)."""

    config: str
    space_file: str | None
    overrides: list[str]
    settings: dict
    study: str
    study_dir: str
    storage: str
    backend: str | None
    plugins: list[str]
    seed: int | None
    validation_freq: int
    resume: bool
    jobs: int


def prepare(request: Request) -> tuple[Plan, spaces.Space, Document]:
    """Checks the config, the space and the settings, without Keras.

    Raises:
        ConfigError: every problem of the config and of the space, at their lines.
        UsageError: no space, or `--set` fixes a key the space tunes.
    """
    from kerascli.run.tune.study import default_storage

    doc, cfg = validate_config(request.config, request.overrides)  # its tune: section included
    if request.space_file is not None:
        space, problems = space_fit.checked(load(request.space_file), (), doc)
        if problems:
            raise ConfigError(problems)
    else:
        space = spaces.from_config(doc)
    if space is None:
        raise UsageError(
            f"{request.config}: nothing to tune: add a tune: section with a space: of config keys, or pass --space FILE"
        )
    _check_fixed(space, request.overrides)
    settings = resolve(space, doc, request.options)
    name = cfg.name or doc.path.stem
    root = Path(request.output_dir or cfg.output.dir) / safe_name(name)
    study = request.study or name
    storage = request.storage or default_storage(root)
    plan = Plan(
        config=str(doc.path),
        space_file=str(Path(request.space_file).resolve()) if request.space_file else None,
        overrides=list(request.overrides),
        settings=dataclasses.asdict(settings),
        study=study,
        study_dir=str((root / "tune" / safe_name(study)).resolve()),
        storage=storage,
        backend=request.backend,
        plugins=list(request.plugins),
        seed=cfg.seed,
        validation_freq=cfg.fit.validation_freq,
        resume=request.resume,
        jobs=request.jobs,
    )
    return plan, space, doc


def validate_config(path, overrides):
    """The checked config (see `kerascli.run.validating.validate`) as `(doc, cfg)`."""
    checked = validate(path, list(overrides))
    return checked.doc, checked.cfg


def _check_fixed(space: spaces.Space, overrides: list[str]) -> None:
    tuned = {d.key: d for d in space.dimensions}
    for text in overrides:
        key = spaces.parse_key(text.split("=", 1)[0])
        if key in tuned:
            raise UsageError(
                f"--set {text}: {tuned[key].name} is tuned by the space ({tuned[key].describe()}); "
                "drop the --set or the key from the space"
            )


def load_space(plan: Plan) -> spaces.Space:
    """The plan's space, read again (in a worker process)."""
    return (
        spaces.from_file(plan.space_file) if plan.space_file else spaces.from_config(load(plan.config, plan.overrides))
    )


def say(text: str) -> None:
    """Writes a line on stderr from a signal handler: unbuffered, so it never re-enters a write it interrupted."""
    os.write(2, (text + "\n").encode("utf-8", "replace"))


class StopOnSignal:
    """While active, the first SIGINT/SIGTERM asks the study to stop after the current trial.

    A second one raises KeyboardInterrupt in the trial (it stops at once and
    is recorded as interrupted). Outside the main thread it does nothing.
    """

    def __init__(self, quiet: bool = False):
        self.signum: int | None = None
        self.quiet = quiet
        self._previous: dict = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum, frame):
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum
        if not self.quiet:
            say(
                f"{signal.Signals(signum).name} received: stopping after the current trial "
                "(press Ctrl-C again to stop it now)"
            )

    @property
    def requested(self) -> bool:
        return self.signum is not None


def run_trials(
    plan: Plan,
    quota: int,
    worker: int = 0,
    on_epoch=None,
    on_trial=None,
    stop: StopOnSignal | None = None,
    parent: int | None = None,
) -> int:
    """Runs up to `quota` trials of the plan's study in this process; returns how many ran.

    Stops early when `stop` was requested, when the study holds `--trials`
    trials, at the timeout, or when `parent` (a process id) is gone.
    """
    import optuna

    from kerascli.run.tune import study as studies
    from kerascli.run.tune.best import write_best
    from kerascli.run.tune.trial import Trainer, TrialFailed

    settings = StudySettings(**plan.settings)
    space = load_space(plan)
    study = optuna.load_study(study_name=plan.study, storage=studies.open_storage(plan.storage))
    seed = studies.derived_seed(plan.seed, len(study.get_trials(deepcopy=False)), worker)
    study.sampler = studies.make_sampler(settings, space, seed, where_set(space, "sampler", {}))
    study.pruner = studies.make_pruner(settings, where_set(space, "pruner", {}))
    trainer = Trainer(
        Path(plan.config),
        plan.overrides + ["tune=null"],
        space.dimensions,
        settings,
        Path(plan.study_dir),
        {"study": plan.study, "storage": studies.shown_url(plan.storage)},
        plan.backend,
        plan.validation_freq,
        on_epoch,
        worker,
    )
    ran = 0

    def after_trial(study, trial):
        nonlocal ran
        ran += 1
        write_best(study, Path(plan.study_dir), settings.metric)
        if on_trial is not None:
            on_trial(trial)
        if (
            (stop is not None and stop.requested)
            or studies.counted(study) >= settings.trials
            or (parent is not None and os.getppid() != parent)
        ):
            study.stop()

    if quota > 0 and studies.counted(study) < settings.trials:
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        deadline = settings.timeout
        study.optimize(trainer, n_trials=quota, timeout=deadline, catch=(TrialFailed,), callbacks=[after_trial])
    return ran
