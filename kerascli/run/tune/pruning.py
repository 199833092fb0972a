"""The Keras callback that feeds a trial's epoch metric to Optuna and stops hopeless trials.

After every epoch it reports the study's metric to the trial
(`trial.report(value, epoch)`); when the study's pruner says the trial
cannot catch up (`trial.should_prune()`), it stops training at the end of
that epoch, as `EarlyStopping` does. The run directory is then written as
for any run, and the trial is recorded as pruned.
"""

from __future__ import annotations

import difflib
import math

from kerascli.engine.keras_import import load_keras
from kerascli.errors import UsageError

keras = load_keras()


class MetricNotLogged(UsageError):
    """The study's metric is not in fit's epoch logs: every trial would fail alike."""

    def __init__(self, metric: str, logged: list[str]):
        hint = difflib.get_close_matches(metric, logged, n=1, cutoff=0.6)
        text = (
            f"the study's metric '{metric}' is not logged by fit; the logged metrics are: {', '.join(logged) or 'none'}"
        )
        super().__init__(
            text + (f" (did you mean '{hint[0]}'?)" if hint else "") + "; choose one with --metric or tune.metric"
        )


class PruningCallback(keras.callbacks.Callback):
    """Reports `metric` to an Optuna trial after each epoch; stops the fit when the pruner says so.

    Args:
        trial: the `optuna.Trial` being trained.
        metric: the epoch-log key the study is scored by, e.g. `val_loss`.
        validation_freq: fit's `validation_freq`: `val_` metrics are logged
            every that many epochs only.
        on_epoch: called with `(epoch, value)` after each report (live display), or None.

    Attributes:
        pruned_after: the number of epochs trained when the trial was pruned, or None.
    """

    def __init__(self, trial, metric: str, validation_freq: int = 1, on_epoch=None):
        super().__init__()
        self.trial = trial
        self.metric = metric
        self.validation_freq = validation_freq
        self.on_epoch = on_epoch
        self.pruned_after: int | None = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.metric not in logs:
            if self.metric.startswith("val_") and (epoch + 1) % self.validation_freq:
                return  # no validation in this epoch
            raise MetricNotLogged(self.metric, sorted(logs))
        value = float(logs[self.metric])
        if not math.isfinite(value):
            return  # a diverged loss: the run stops and the trial fails with train's message
        self.trial.report(value, step=epoch)
        if self.on_epoch is not None:
            self.on_epoch(epoch + 1, value)
        if self.trial.should_prune():
            self.pruned_after = epoch + 1
            self.model.stop_training = True
