"""A rich progress display for `fit()`, replacing Keras' own progress bar.

It shows an epoch bar and a batch bar with the running loss and metrics, and
prints one line per finished epoch with the validation metrics. Until the
first step has run, the batch bar says "compiling…": the first call traces
and compiles the train step (seconds to minutes), so the wait does not look
like a hang. It is
`async_safe`: Keras dispatches its batch hooks on a worker thread, so the
display never forces the training loop to wait for the device.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from kerascli.engine.keras_import import load_keras

keras = load_keras()

COMPILING = "compiling…"  # the batch bar's label until the first step has run


def format_logs(logs: dict | None, limit: int = 6) -> str:
    """`{"loss": 0.51234, "accuracy": 0.9}` → `loss 0.5123 · accuracy 0.9000`."""
    if not logs:
        return ""
    parts = []
    for name, value in list(logs.items())[:limit]:
        try:
            parts.append(f"{name} {float(value):.4f}")
        except (TypeError, ValueError):
            continue
    return " · ".join(parts)


class RichProgress(keras.callbacks.Callback):
    """Epoch and batch progress bars with live metrics.

    Args:
        console: where to draw (kerascli draws progress on stderr).
        refresh_seconds: the least time between two metric updates of the
            batch bar; step counts update every batch.

    Attributes:
        label: shown before the epoch (`phase 2/2 finetune` under `fit.phases`).
    """

    async_safe = True

    def __init__(self, console: Console | None = None, refresh_seconds: float = 0.1):
        super().__init__()
        self.console = console or Console(stderr=True)
        self.refresh_seconds = refresh_seconds
        self._progress = None
        self._last = 0.0
        self.label = ""
        self._stepped = False

    def on_train_begin(self, logs=None):
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[metrics]}"),
            console=self.console,
            transient=True,
        )
        self._progress.start()
        epochs = self.params.get("epochs") or 1
        self._epochs = self._progress.add_task("epoch", total=epochs, metrics="")
        self._stepped = False
        self._batches = self._progress.add_task(COMPILING, total=self.params.get("steps"), metrics="")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._progress.reset(self._batches, total=self.params.get("steps"), metrics="")
        prefix = f"{self.label} · " if self.label else ""
        # `completed` counts from `initial_epoch` (a resumed run, a later phase).
        self._progress.update(self._epochs, description=f"{prefix}epoch {epoch + 1}", completed=epoch)

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        fields = {}
        if not self._stepped:
            self._stepped = True
            fields["description"] = "batch"
        if now - self._last >= self.refresh_seconds:
            fields["metrics"] = format_logs(logs)
            self._last = now
        self._progress.update(self._batches, completed=batch + 1, **fields)

    def on_epoch_end(self, epoch, logs=None):
        self._progress.advance(self._epochs)
        seconds = time.perf_counter() - self._epoch_start
        total = self.params.get("epochs") or 1
        prefix = f"{self.label} · " if self.label else ""
        self._progress.console.print(
            f"{prefix}epoch {epoch + 1}/{total} [dim]{seconds:.1f}s[/dim]  {format_logs(logs, limit=12)}",
            highlight=False,
            soft_wrap=True,
        )

    def on_train_end(self, logs=None):
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
