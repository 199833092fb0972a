"""The Optuna study of a tune: its storage, sampler, pruner, and the guard against mixing studies.

A study lives in an Optuna RDB storage: by default the SQLite file
`<output>/<name>/tune.db`, or any URL SQLAlchemy reads (`--storage
postgresql://...`, `mysql://...`) so that several machines run trials of one
study. Samplers and pruners are Optuna's own, named in the space
(`sampler: random`, `pruner: {type: MedianPruner, n_startup_trials: 2}`).
"""

from __future__ import annotations

import difflib
import hashlib
import inspect
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from kerascli.config.space import PRUNERS, SAMPLERS, Space
from kerascli.config.space.settings import StudySettings
from kerascli.errors import ConfigError, KerasCliError, UsageError

ATTR = "kerascli"  # the study's user attribute that records what it tunes
HEARTBEAT_SECONDS = 60  # a trial whose process died is failed after 3 missed beats
SQLITE_BUSY_SECONDS = 120  # how long a process waits for another's write to the SQLite file


def default_storage(study_root: Path) -> str:
    """The SQLite URL of `<study_root>/tune.db`."""
    return f"sqlite:///{(study_root / 'tune.db').resolve()}"


def shown_url(url: str) -> str:
    """The storage URL without its password, for messages and `run.json`."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy reads: opening it will say so
        return url


def open_storage(url: str) -> optuna.storages.RDBStorage:
    """Optuna's RDB storage at `url`, with heartbeats so a killed process's trial is failed, not left running.

    Raises:
        UsageError: the URL cannot be opened (bad URL, missing driver, no server).
    """
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[-1]).parent.mkdir(parents=True, exist_ok=True)
        engine_kwargs = {"connect_args": {"timeout": SQLITE_BUSY_SECONDS}}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=HEARTBEAT_SECONDS,
                grace_period=3 * HEARTBEAT_SECONDS,
            )
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy and drivers raise many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"--storage: cannot open {shown_url(url)}: {first}") from None
    if url.startswith("sqlite"):
        _write_ahead(storage.engine)
    return storage


def _write_ahead(engine) -> None:
    """SQLite in write-ahead-log mode, synced at checkpoints: a trial's dozens of small writes
    (one per epoch report) cost no fsync each, and readers never wait for a writer. The file
    stays consistent on a crash; a power cut may lose the last few writes."""
    from sqlalchemy import event

    def pragmas(connection, record):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(engine, "connect", pragmas)
    engine.dispose()  # connections opened before the listener are closed


def fingerprint(doc_data: dict, space: Space, settings: StudySettings) -> dict:
    """What a study tunes: a study is only continued by the same config, space, metric and direction."""
    config = {k: v for k, v in doc_data.items() if k != "tune"}
    text = json.dumps(config, sort_keys=True, default=str)
    return {
        "config_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "space": {d.name: d.describe() for d in space.dimensions},
        "metric": settings.metric,
        "direction": settings.direction,
    }


def open_study(storage, name: str, settings: StudySettings, recorded: dict, resume: bool, shown: str):
    """Creates the study `name` in `storage`, or continues it with `resume`.

    Raises:
        UsageError: the study exists and `resume` is off; or it tunes
            something else than `recorded` says.
    """
    names = [s.study_name for s in optuna.study.get_all_study_summaries(storage, include_best_trial=False)]
    if name in names and not resume:
        count = len(optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False))
        raise UsageError(
            f"study '{name}' already exists in {shown} ({count} trial(s)): continue it with --resume, "
            f"or start another with --study NAME"
        )
    study = optuna.create_study(storage=storage, study_name=name, direction=settings.direction, load_if_exists=True)
    before = study.user_attrs.get(ATTR)
    if before is None:
        study.set_user_attr(ATTR, recorded)
    elif before != recorded:
        changed = [k for k in recorded if before.get(k) != recorded[k]]
        raise UsageError(
            f"study '{name}' in {shown} was started with another {' and '.join(changed).replace('_sha256', '')}; "
            f"continue it unchanged, or start a new study with --study NAME"
        )
    return study


def counted(study) -> int:
    """Trials that count towards `--trials`: done (complete, pruned, failed) or running, not interrupted."""
    states = optuna.trial.TrialState
    return sum(
        1
        for t in study.get_trials(deepcopy=False)
        if t.state in (states.COMPLETE, states.PRUNED, states.RUNNING)
        or (t.state == states.FAIL and not t.user_attrs.get("interrupted"))
    )


def derived_seed(seed: int | None, trials_before: int, worker: int) -> int | None:
    """A sampler seed that differs per worker and per resume, so no two draw the same sequence."""
    if seed is None:
        return None
    return int(np.random.SeedSequence([seed, trials_before, worker]).generate_state(1)[0])


def make_sampler(settings: StudySettings, space: Space, seed: int | None, problem) -> Any:
    """The Optuna sampler the settings name, seeded with `seed`."""
    setting = settings.sampler
    if setting == "grid":
        return optuna.samplers.GridSampler({d.name: d.grid() for d in space.dimensions}, seed=seed)
    kwargs = {"seed": seed} if seed is not None else {}
    return _optuna_object(optuna.samplers, optuna.samplers.BaseSampler, SAMPLERS, setting, kwargs, problem)


def make_pruner(settings: StudySettings, problem) -> Any:
    """The Optuna pruner the settings name."""
    return _optuna_object(optuna.pruners, optuna.pruners.BasePruner, PRUNERS, settings.pruner, {}, problem)


def _optuna_object(module, base, short: dict, setting: Any, defaults: dict, problem) -> Any:
    """`tpe` or `{type: TPESampler, n_startup_trials: 5}` → the Optuna object."""
    if isinstance(setting, str):
        name, kwargs = short[setting], {}
    else:
        name, kwargs = setting["type"], {k: v for k, v in setting.items() if k != "type"}
    cls = getattr(module, name, None)
    if not (isinstance(cls, type) and issubclass(cls, base)) or name.startswith("_"):
        known = sorted(
            n
            for n in dir(module)
            if isinstance(getattr(module, n), type)
            and issubclass(getattr(module, n), base)
            and getattr(module, n) is not base
        )
        hint = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
        kind = base.__name__[4:].lower()
        raise ConfigError(
            [
                problem(
                    f"'{name}' is not an Optuna {kind}"
                    + (f" (did you mean '{hint[0]}'?)" if hint else f"; expected one of: {', '.join(known)}")
                )
            ]
        )
    parameters = inspect.signature(cls).parameters
    kwargs = {**{k: v for k, v in defaults.items() if k in parameters}, **kwargs}
    try:
        inspect.signature(cls).bind(**kwargs)
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError([problem(f"{name}: {exc}")]) from None


class StudyError(KerasCliError):
    """Something every trial would meet alike: the study stops (exit 2)."""

    exit_code = 2
