"""Where a run's time goes: per-epoch times and the `--profile` table.

`EpochTimer` is a Keras callback with epoch hooks and one `async_safe` batch
hook: it never makes Keras wait for the device between batches. It times the
first step (`compile_seconds` in `run.json`). The first epoch of a run also pays for
compiling the train (and test) step, so `first epoch − median later epoch` is
a fair estimate of compile time, and the later epochs give the steady
samples per second.
"""

from __future__ import annotations

import statistics
import time

from kerascli.engine.keras_import import load_keras

keras = load_keras()


# The phases `runner.train` times, in the order they run.
PHASES = ("validate", "import", "load_data", "build", "fit", "evaluate", "save")


class EpochTimer(keras.callbacks.Callback):
    """Records the wall-clock seconds of every epoch (validation included) and of the first step.

    `compile_seconds` is the time from the start of `fit` to the end of its
    first training step (execution): tracing and compiling the train step,
    plus that one step. Its batch hook is `async_safe` and returns at once
    after the first step, so the loop never waits for it.
    """

    async_safe = True

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self.compile_seconds: float | None = None
        self._start = None
        self._fit_start = None

    def on_train_begin(self, logs=None):
        self._fit_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self.compile_seconds is None and self._fit_start is not None:
            self.compile_seconds = round(time.perf_counter() - self._fit_start, 4)

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(round(time.perf_counter() - self._start, 4))


def fit_summary(epoch_seconds: list[float], rows: int, steps: int | None, batch_size: int) -> dict:
    """Compile estimate and steady throughput from per-epoch times.

    Args:
        epoch_seconds: seconds per epoch, in order.
        rows: training rows.
        steps: `fit.steps_per_epoch` when set (then `steps * batch_size`
            samples make an epoch).
        batch_size: the training batch size.

    Returns:
        `{"first_epoch", "steady_epoch", "compile_estimate", "samples_per_second"}`
        (only `first_epoch` with a single epoch; empty without any).
    """
    if not epoch_seconds:
        return {}
    out = {"first_epoch": epoch_seconds[0]}
    if len(epoch_seconds) > 1:
        steady = statistics.median(epoch_seconds[1:])
        samples = min(rows, steps * batch_size) if steps else rows
        out["steady_epoch"] = round(steady, 4)
        out["compile_estimate"] = round(max(0.0, epoch_seconds[0] - steady), 4)
        out["samples_per_second"] = round(samples / steady, 1) if steady > 0 else None
    return out


def render(timings: dict, summary: dict, settings: dict) -> list[str]:
    """The `--profile` report as lines of text.

    Args:
        timings: seconds per phase, with `total`.
        summary: what `fit_summary` returned.
        settings: speed settings in effect (`steps_per_execution`, ...).
    """
    total = timings.get("total") or sum(timings.get(p, 0.0) for p in PHASES) or 1.0
    lines = ["profile (seconds)"]
    for phase in PHASES:
        if phase in timings:
            lines.append(f"  {phase:<12}{timings[phase]:>9.3f}  {100 * timings[phase] / total:5.1f}%")
    lines.append(f"  {'total':<12}{total:>9.3f}")
    if summary:
        lines.append(f"  first epoch {summary['first_epoch']:>9.3f}")
    if summary.get("compile_seconds") is not None:
        lines.append(f"  first step  {summary['compile_seconds']:>9.3f}  (compiling the train step)")
    if "steady_epoch" in summary:
        lines.append(f"  later epoch {summary['steady_epoch']:>9.3f}  (median)")
        lines.append(f"  compile     {summary['compile_estimate']:>9.3f}  (first epoch - later epoch)")
        if summary.get("samples_per_second"):
            lines.append(f"  throughput  {summary['samples_per_second']:>9.0f}  samples/s in later epochs")
    if settings:
        lines.append("  settings    " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    return lines
