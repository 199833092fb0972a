"""The trials of a study as plain rows, for the live table and `--json`."""

from __future__ import annotations

import dataclasses
import datetime
import time
from pathlib import Path
from typing import Any

import optuna

from kerascli.config.space import Dimension

REFRESH_SECONDS = 0.5  # the live table reads the storage at most this often
STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running", "WAITING": "waiting"}


@dataclasses.dataclass
class TrialRow:
    """One trial as the table shows it.

    Args:
        number: the trial number.
        state: complete, pruned, failed, interrupted, running or waiting.
        value: the trial's metric (complete trials), else the last epoch's, or None.
        params: config key → value.
        epochs: epochs reported so far.
        seconds: wall time (so far, for a running trial).
        note: why it failed, where it was pruned, or its run directory.
        best: whether it is the study's best trial.
    """

    number: int
    state: str
    value: float | None
    params: dict[str, Any]
    epochs: int
    seconds: float | None
    note: str
    best: bool = False


def trial_rows(study, dimensions: list[Dimension], live: dict[int, tuple[int, float]] | None = None) -> list[TrialRow]:
    """Rows for every trial of `study`; `live` holds `(epoch, value)` of trials running in this process."""
    by_name = {d.name: d for d in dimensions}
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = None
    if complete:
        pick = min if study.direction == optuna.study.StudyDirection.MINIMIZE else max
        best = pick(complete, key=lambda t: t.value).number
    rows = []
    for t in trials:
        state = STATES.get(t.state.name, t.state.name.lower())
        if state == "failed" and t.user_attrs.get("interrupted"):
            state = "interrupted"
        steps = sorted(t.intermediate_values.items())
        epochs, last = (steps[-1][0] + 1, steps[-1][1]) if steps else (0, None)  # steps are 0-based epochs
        if live and t.number in live:
            epochs, last = live[t.number]
        value = t.value if t.state == optuna.trial.TrialState.COMPLETE else last
        params = {name: by_name[name].value_of(v) if name in by_name else v for name, v in t.params.items()}
        end = t.datetime_complete
        seconds = None
        if t.datetime_start is not None:
            seconds = ((end or datetime.datetime.now()) - t.datetime_start).total_seconds()
        rows.append(
            TrialRow(t.number, state, value, params, epochs, seconds, _note(t, state, epochs), t.number == best)
        )
    return rows


class LiveRows:
    """Redraws the live table while trials run in this process or in workers.

    At most every `REFRESH_SECONDS`, and at once when a trial ends.

    Args:
        study: the Optuna study.
        dimensions: the space's dimensions (params are shown as config values).
        metric: the metric's name, a column of the table.
        title: the table's title.
        refresh: called with `(rows, metric, title)`, or None (no display).
    """

    def __init__(self, study, dimensions: list[Dimension], metric: str, title: str, refresh=None):
        self.study = study
        self.dimensions = dimensions
        self.metric = metric
        self.title = title
        self.refresh = refresh
        self.live: dict[int, tuple[int, float]] = {}  # trials running here: (epoch, value)
        self._last = 0.0

    def show(self, force: bool = False) -> None:
        """Redraws the table if `REFRESH_SECONDS` passed since the last time, or if `force`."""
        if self.refresh is not None and (force or time.monotonic() - self._last >= REFRESH_SECONDS):
            self._last = time.monotonic()
            self.refresh(trial_rows(self.study, self.dimensions, self.live), self.metric, self.title)

    def on_epoch(self, number: int, epoch: int, value: float) -> None:
        """A trial running here reported an epoch's value."""
        self.live[number] = (epoch, value)
        self.show()

    def on_trial(self, trial) -> None:
        """A trial running here ended."""
        self.live.pop(trial.number, None)
        self.show(force=True)


def _note(trial, state: str, epochs: int) -> str:
    if state == "failed":
        return trial.user_attrs.get("error", "failed")
    if state == "pruned":
        return f"pruned after epoch {epochs}"
    if state == "interrupted":
        return "interrupted; not counted"
    return Path(trial.user_attrs.get("run_dir", "")).name if state == "complete" else ""
