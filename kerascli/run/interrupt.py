"""Stopping `fit` cleanly on Ctrl-C / SIGTERM, checkpointing completed epochs, resuming.

Training runs for hours and gets killed. Three things keep finished work:

- `SignalGuard` (`kerascli.run.signals`) turns the first SIGINT/SIGTERM into a request to stop after
  the current batch; a second one exits at once (the last checkpoint stays).
- `Checkpointer`, a Keras callback, checkpoints completed epochs: every model
  variable (weights, and the seed-generator states of layers such as Dropout,
  which `save_weights` leaves out), every optimizer variable, the states of
  NumPy's and Python's global random generators (Keras shuffles the training
  arrays with NumPy's), and the history so far; `history.json` is rewritten
  with it. An epoch that ends `CHECKPOINT_SECONDS` or more after the last
  checkpoint (or the start of `fit`) is written at once, so a run killed with
  SIGKILL loses at most that much training. A shorter epoch is kept in memory
  (a host copy of the variables) and written when the next one is due, when a
  signal stops training or a failure ends it, and on a second signal before
  the process exits: a stopped or failed run always has the checkpoint of its
  last completed epoch. Many short epochs (Iris: 50 in about a second) so cost
  one write instead of one per epoch.
- `Checkpointer.restore` loads that state into a freshly built model, so
  `kerascli train --resume RUN_DIR` continues exactly where the run stopped:
  on JAX with a seed, the weights and history end identical to an
  uninterrupted run.

Every file is written atomically and fsynced; the variables file is written
under a new name before `checkpoint.json` points at it, so a kill at any
moment leaves a consistent checkpoint (the new one or the previous one).
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import threading
import time
from pathlib import Path

import numpy as np

from kerascli.atomic import write_json
from kerascli.config.tables import CHECKPOINT_DIR
from kerascli.engine.keras_import import load_keras
from kerascli.errors import KerasCliError, UsageError
from kerascli.run.signals import Interrupted, SignalGuard, signal_name

__all__ = ["Checkpointer", "Interrupted", "SignalGuard", "check_outcome", "read_state", "write_quietly"]

keras = load_keras()

STATE_FILE = "checkpoint.json"
# The least time between two checkpoint writes. A write costs three fsynced files (the
# variables, checkpoint.json, history.json): 10 s keeps that to about a percent of training
# on a local disk, and is all that a SIGKILL can lose (a signal or a failure loses nothing).
CHECKPOINT_SECONDS = 10.0


class Checkpointer(keras.callbacks.Callback):
    """Checkpoints completed epochs and stops `fit` when the guard asks.

    Args:
        run_dir: the run directory; the checkpoint goes to `run_dir/checkpoint/`
            and the history so far to `run_dir/history.json`.
        guard: the `SignalGuard` whose signal stops training.
        history: the history of epochs completed before this `fit` (resume).
        save_epochs: whether epochs are checkpointed (off for `tune`
            trials, which are not resumed one by one).
        every_seconds: the least time between two writes (default
            `CHECKPOINT_SECONDS`); a completed epoch that comes sooner waits
            in memory (see `flush`).

    Attributes:
        history: every completed epoch's logs, `{metric: [value per epoch]}`.
        tags: values recorded beside each completed epoch's logs (the
            phase number under `fit.phases`), `{key: value}`.
        diverged: `(epoch, logs)` of the first epoch whose loss is NaN or
            infinite, or None.
    """

    async_safe = True  # the batch hook only reads a flag and sets stop_training

    def __init__(
        self,
        run_dir: str | os.PathLike,
        guard: SignalGuard,
        history: dict | None = None,
        save_epochs: bool = True,
        every_seconds: float | None = None,
    ):
        super().__init__()
        self.save_epochs = save_epochs
        self.every_seconds = CHECKPOINT_SECONDS if every_seconds is None else every_seconds
        self.run_dir = Path(run_dir)
        self.guard = guard
        self.history: dict[str, list] = {k: list(v) for k, v in (history or {}).items()}
        self.diverged: tuple[int, dict] | None = None
        self.tags: dict = {}
        self._last_step = -1
        self._stopped_in_epoch = False
        self._random_states: tuple | None = None
        self._lock = threading.Lock()
        self._pending: tuple[dict, dict] | None = None  # (arrays, state) of an epoch not written yet
        self._history_written = False  # history.json is written at the first flush, even empty
        self._written_at: float | None = None
        self._writing = False

    def set_model(self, model):
        super().set_model(model)
        self._fit_model = model

    def on_train_begin(self, logs=None):
        if self._written_at is None:  # the first fit (of several under fit.phases) starts the clock
            self._written_at = time.monotonic()
        if self._random_states is not None:
            numpy_state, python_state = self._random_states
            np.random.set_state(_from_json_numpy(numpy_state))
            random.setstate(_from_json_python(python_state))
            self._random_states = None

    def on_epoch_begin(self, epoch, logs=None):
        self._last_step = -1
        self._stopped_in_epoch = False

    def on_train_batch_end(self, batch, logs=None):
        # Keras may run async-safe batch hooks on several threads, out of order.
        with self._lock:
            self._last_step = max(self._last_step, batch)
        if self.guard.stopped:
            # Not `self.model`: on JAX that property syncs the training state into the
            # model's variables, and from Keras' callback thread it races the training
            # loop, which has already donated those buffers to the next step
            # ("Buffer has been deleted or donated", issue 15 item 4; tests/run/test_signals.py).
            self._fit_model.stop_training = True
            self._stopped_in_epoch = True

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(float(loss)) and self.diverged is None:
            self.diverged = (epoch, logs)
        steps = self.params.get("steps")
        complete = (self._last_step + 1 >= steps) if steps else not self._stopped_in_epoch
        if complete:
            for name, value in logs.items():
                self.history.setdefault(name, []).append(float(value))
            for name, value in self.tags.items():
                self.history.setdefault(name, []).append(value)
            self._history_written = False
        due = self.guard.stopped or self._due()
        if complete and self.diverged is None and self.save_epochs:  # a diverged epoch keeps the last good one
            # A state kept for later is copied to the host: the training loop donates the device buffers.
            self._pending = self._state(epoch + 1, copy=not due)
        if due:
            self.flush()
        if self.guard.stopped:
            self.model.stop_training = True

    def _due(self) -> bool:
        return self._written_at is None or time.monotonic() - self._written_at >= self.every_seconds

    @property
    def epochs_done(self) -> int:
        """The number of completed epochs in `history`."""
        return max((len(v) for v in self.history.values()), default=0)

    def flush(self) -> None:
        """Writes the epoch kept in memory (if any) and `history.json`, when they are newer than the files.

        Called when training stops or fails, and on a second signal before
        the process exits. A flush that interrupts a write (a signal handler)
        leaves it alone: the files then hold the previous checkpoint.
        """
        if self._writing:
            return
        self._writing = True
        try:
            if self._pending is not None:
                arrays, state = self._pending
                self._write(arrays, state)
                self._pending = None
                self._history_written = state["history"] == self.history
            if not self._history_written:
                write_json(self.run_dir / "history.json", self.history)
                self._history_written = True
            self._written_at = time.monotonic()
        finally:
            self._writing = False

    def _state(self, epochs_done: int, copy: bool) -> tuple[dict, dict]:
        to_numpy = keras.ops.convert_to_numpy  # detaches torch tensors, fetches JAX arrays
        if copy:
            to_numpy = lambda value: np.array(keras.ops.convert_to_numpy(value))  # noqa: E731 - owns its memory
        arrays = {f"model_{i}": to_numpy(v.value) for i, v in enumerate(self.model.variables)}
        if self.model.optimizer is not None:
            arrays.update({f"optimizer_{i}": to_numpy(v.value) for i, v in enumerate(self.model.optimizer.variables)})
        state = {
            "epochs_done": epochs_done,
            "weights": f"epoch-{epochs_done:05d}.npz",
            "history": {k: list(v) for k, v in self.history.items()},
            "numpy_random_state": _numpy_state(),
            "python_random_state": _python_state(),
        }
        return arrays, state

    def _write(self, arrays: dict, state: dict) -> None:
        """The variables file under a new name, then `checkpoint.json` pointing at it, then `history.json`."""
        folder = self.run_dir / CHECKPOINT_DIR
        folder.mkdir(parents=True, exist_ok=True)
        name = state["weights"]
        tmp = folder / f".{name}.tmp"
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, folder / name)
        write_json(folder / STATE_FILE, state)
        for old in folder.glob("epoch-*.npz"):
            if old.name != name:
                old.unlink(missing_ok=True)
        write_json(self.run_dir / "history.json", state["history"])

    def restore(self, source: str | os.PathLike | None = None) -> int:
        """Loads a run's checkpoint (if any) into `self.model`; returns the epochs done.

        The optimizer is built first so that its saved variables load into it.

        Args:
            source: the run directory to read (default: this one; the other
                processes of a multi-process run write to a scratch directory).
        """
        source = Path(source) if source is not None else self.run_dir
        state = read_state(source)
        if state is None:
            return 0
        model = self.model
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        variables = [("model", v) for v in model.variables]
        if model.optimizer is not None:
            variables += [("optimizer", v) for v in model.optimizer.variables]
        with np.load(source / CHECKPOINT_DIR / state["weights"], allow_pickle=False) as saved:
            counts = {"model": len(model.variables), "optimizer": len(variables) - len(model.variables)}
            if (
                sum(1 for k in saved.files if k.startswith("model_")) != counts["model"]
                or sum(1 for k in saved.files if k.startswith("optimizer_")) != counts["optimizer"]
            ):
                raise UsageError(
                    f"cannot resume {source}: its checkpoint does not fit the model of its config "
                    f"(different variables); was the config changed?"
                )
            index = {"model": 0, "optimizer": 0}
            for owner, variable in variables:
                value = saved[f"{owner}_{index[owner]}"]
                index[owner] += 1
                if tuple(value.shape) != tuple(variable.shape):
                    raise UsageError(
                        f"cannot resume {source}: variable {variable.path} has shape "
                        f"{list(variable.shape)}, the checkpoint {list(value.shape)}; was the config changed?"
                    )
                variable.assign(value)
        # Applied in on_train_begin: fit() draws from NumPy's generator before
        # that (it peeks a shuffled batch to build the model symbolically).
        self._random_states = (state["numpy_random_state"], state["python_random_state"])
        self.history = {k: list(v) for k, v in state["history"].items()}
        return int(state["epochs_done"])

    def discard(self) -> None:
        """Removes the checkpoint (the run finished; `model.keras` holds the result)."""
        folder = self.run_dir / CHECKPOINT_DIR
        if folder.is_dir():
            for item in folder.iterdir():
                item.unlink(missing_ok=True)
            folder.rmdir()


def read_state(run_dir: str | os.PathLike) -> dict | None:
    """The `checkpoint.json` of a run, or None when it has no checkpoint."""
    path = Path(run_dir) / CHECKPOINT_DIR / STATE_FILE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot resume {run_dir}: unreadable checkpoint {path}: {exc}") from None
    if not isinstance(state, dict):
        raise UsageError(f"cannot resume {run_dir}: {path} holds no JSON object; the checkpoint is damaged")
    weights = state.get("weights")
    if not isinstance(weights, str) or Path(weights).name != weights or weights in ("", ".", ".."):
        raise UsageError(f"cannot resume {run_dir}: {path} names weights {str(weights)[:40]!r}, expected a file name")
    if not (Path(run_dir) / CHECKPOINT_DIR / weights).is_file():
        raise UsageError(f"cannot resume {run_dir}: checkpoint weights {state.get('weights')} are missing")
    return state


def _numpy_state() -> list:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return [kind, keys.tolist(), int(pos), int(has_gauss), float(cached)]


def _from_json_numpy(state: list) -> tuple:
    kind, keys, pos, has_gauss, cached = state
    return kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached


def _python_state() -> list:
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def _from_json_python(state: list) -> tuple:
    version, internal, gauss = state
    return version, tuple(internal), gauss


def check_outcome(guard: SignalGuard, checkpointer: Checkpointer, run_dir: Path) -> None:
    """Raises when `fit` returned because of a signal or a diverged loss.

    Raises:
        Interrupted: a signal stopped training (exit 130 for SIGINT).
        KerasCliError: the loss became NaN or infinite (e.g. `TerminateOnNaN`).
    """
    done = checkpointer.epochs_done
    if guard.stopped:
        checkpointer.flush()  # the last completed epoch, and history.json
        saved = (
            "history.json and a checkpoint are saved"
            if (run_dir / CHECKPOINT_DIR / STATE_FILE).is_file()
            else ("history.json is saved (no epoch to checkpoint yet)")
        )
        raise Interrupted(
            f"interrupted by {signal_name(guard.signum)} after {done} completed epoch(s); "
            f"{saved}; continue with: kerascli train --resume {run_dir}",
            guard.signum,
        )
    if checkpointer.diverged is not None:
        epoch, logs = checkpointer.diverged
        raise KerasCliError(
            f"training diverged: the loss is {logs.get('loss')} in epoch {epoch + 1}; "
            f"lower the learning rate or check the data (run directory: {run_dir})"
        )


def write_quietly(path: Path, data: dict) -> None:
    """Writes `run.json` on the way out of a failure; a full disk must not hide the first error."""
    try:
        write_json(path, data)
    except OSError as exc:
        sys.stderr.write(f"cannot update {path}: {exc}\n")
