"""`fit.phases`: fine-tuning in one config, phase after phase in one `train`.

The two-phase recipe of the Keras transfer-learning guide: train a new head
on a frozen backbone, then unfreeze (part of) the backbone and train on at a
low learning rate. Each phase has its own `epochs`, `freeze`/`unfreeze`
selections (applied on top of the previous phase's state; freeze first, then
unfreeze), optimizer or learning rate, and callbacks (added to
`fit.callbacks`). Between phases the model is recompiled with a fresh
optimizer, as Keras requires after changing `trainable`.

Epoch numbers keep counting across phases; every epoch's history entry
records its phase number (`history.json["phase"]`, 1-based, beside the
metrics), so `train --resume` finds the phase an interrupted run was in and
continues inside it, with that phase's trainable layers and optimizer.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kerascli.config.document import Document
from kerascli.config.spec import Config, KerasObject
from kerascli.engine.tensorflow_probe import config_of
from kerascli.errors import ConfigError
from kerascli.model import freezing
from kerascli.model.objects import resolve_object

HISTORY_KEY = "phase"


@dataclasses.dataclass
class Phase:
    """One phase of a run (a config without `fit.phases` has one, unnamed).

    Args:
        number: 1-based position.
        name: the phase's name (`phase<number>` when the config gives none).
        epochs: how many epochs it runs.
        spec: the config's `PhaseSpec`, or None for a run without phases.
    """

    number: int
    name: str
    epochs: int
    spec: Any = None

    def label(self, count: int) -> str:
        """`phase 2/2 finetune`: what the progress display shows."""
        return f"phase {self.number}/{count} {self.name}"


def plan(cfg: Config) -> list[Phase]:
    """The phases of a run: the config's `fit.phases`, or one phase of `fit.epochs`."""
    if not cfg.fit.phases:
        return [Phase(1, "fit", cfg.fit.epochs)]
    return [Phase(i + 1, p.name or f"phase{i + 1}", p.epochs, p) for i, p in enumerate(cfg.fit.phases)]


def position(phases: list[Phase], history: dict) -> tuple[int, int]:
    """Where a run with `history` stands: `(phase index, epochs done in it)`.

    A phase that has run all its epochs is done; the next one starts.
    """
    done = history.get(HISTORY_KEY) or []
    if not done:
        return 0, 0
    last = int(done[-1])
    inside = sum(1 for n in done if int(n) == last)
    if inside >= phases[last - 1].epochs and last < len(phases):
        return last, 0
    return last - 1, inside


def frozen_in(
    model, phases: list[Phase], index: int, initial: set[str], doc: Document, locked: set[str] = frozenset()
) -> set[str]:
    """The leaf layers frozen during phase `index`: the initial state, then each phase's changes.

    Args:
        model: the model.
        phases: `plan(cfg)`.
        index: the phase.
        initial: the leaves frozen as built.
        doc: the config document (error locations).
        locked: leaves no phase unfreezes (the BatchNormalization of frozen
            nodes, see `freezing.batch_norm_paths`).

    Raises:
        ConfigError: a selection that names no layer.
    """
    frozen = set(initial)
    for phase in phases[: index + 1]:
        spec = phase.spec
        if spec is None:
            continue
        for action in ("freeze", "unfreeze"):
            selection = getattr(spec, action)
            if selection is None:
                continue
            try:
                chosen = freezing.select(model, selection)
            except freezing.SelectionError as exc:
                raise ConfigError([doc.problem(("fit", "phases", phase.number - 1, action), str(exc))]) from None
            frozen = frozen | chosen if action == "freeze" else frozen - chosen
    return frozen | locked


def optimizer(cfg: Config, phase: Phase, doc: Document):
    """A fresh optimizer for `phase`: its own, or `compile.optimizer`, with its `learning_rate`."""
    spec = phase.spec
    key: tuple = ("compile", "optimizer")
    obj: KerasObject = cfg.compile.optimizer
    if spec is not None and spec.optimizer is not None:
        obj, key = spec.optimizer, ("fit", "phases", phase.number - 1, "optimizer")
    made = resolve_object("optimizers", obj, doc, key)
    from kerascli.engine.keras_import import load_keras

    if isinstance(made, str):  # a name Keras resolves in compile(): make the object now
        made = load_keras().optimizers.get(made)
    if spec is not None and spec.learning_rate is not None:
        config = dict(config_of(load_keras(), made), learning_rate=spec.learning_rate)  # Keras' own round trip
        made = type(made).from_config(config)
    return made


def enter(
    model,
    cfg: Config,
    doc: Document,
    phases: list[Phase],
    index: int,
    initial: set[str],
    compile_args: dict,
    locked: set[str] = frozenset(),
) -> dict:
    """Sets the trainable layers of phase `index` and compiles the model for it.

    Args:
        model: the model.
        cfg: the config.
        doc: the config document (error locations).
        phases: `plan(cfg)`.
        index: the phase to enter.
        initial: the leaf layers frozen as built (`freezing.frozen_paths`).
        compile_args: the `compile()` arguments (its optimizer is replaced).
        locked: leaves that stay frozen in every phase.

    Returns:
        `{"phase", "name", "trainable_params", "frozen_layers"}` for `run.json`.
    """
    phase = phases[index]
    frozen = frozen_in(model, phases, index, initial, doc, locked)
    freezing.apply(model, frozen)
    args = dict(compile_args, optimizer=optimizer(cfg, phase, doc))
    try:
        model.compile(**args)
    except Exception as exc:  # noqa: BLE001 - Keras' compile raises several types
        from kerascli.model.objects import clean

        raise ConfigError(
            [doc.problem(("fit", "phases", index), f"Keras rejected the compile arguments of this phase: {clean(exc)}")]
        ) from None
    return {
        "phase": phase.number,
        "name": phase.name,
        "epochs": phase.epochs,
        "trainable_params": freezing.count_trainable(model),
        "frozen_layers": len(frozen),
    }


def check(model, cfg: Config, doc: Document) -> None:
    """Resolves every phase's selections, optimizer and callbacks before the run directory exists.

    Raises:
        ConfigError: a selection that names no layer, an optimizer or callback Keras rejects.
    """
    from kerascli.model.callbacks import make_callbacks
    from kerascli.model.freezing import frozen_paths

    phases, initial = plan(cfg), frozen_paths(model)
    for index, phase in enumerate(phases):
        frozen_in(model, phases, index, initial, doc)
        optimizer(cfg, phase, doc)
        if phase.spec is not None and phase.spec.callbacks:  # built to be checked; `fit` builds its own
            make_callbacks(cfg, doc, ".", phase.spec.callbacks, ("fit", "phases", index, "callbacks"))


def frozen_batch_norm(model, cfg: Config) -> set[str]:
    """The BatchNormalization leaves of the nodes frozen as built (`trainable: false`, `freeze:`)."""
    from kerascli.model.freezing import batch_norm_paths

    locked: set[str] = set()
    for node, name in zip(cfg.model.layers, cfg.model.node_names()):
        if node.trainable is False or node.freeze is not None:
            locked |= batch_norm_paths(model, name)
    return locked


class PhaseRunner:
    """Runs `fit.phases` one after the other on a compiled model (see the module docstring).

    Args:
        t: the `Training` state (model built, compiled, run directory open).
        checkpointer: the run's `interrupt.Checkpointer` (it tags each epoch with its phase).
    """

    def __init__(self, t, checkpointer):
        from kerascli.model.freezing import frozen_paths

        self.t = t
        self.checkpointer = checkpointer
        self.phases = plan(t.cfg)
        self.initial = frozen_paths(t.model)  # as built: trainable: false and freeze:
        self.locked = frozen_batch_norm(t.model, t.cfg)
        self.index, self.inside = 0, 0
        self.entered: int | None = None
        t.run_info["phases"] = []

    def resume_at(self, state: dict | None) -> None:
        """Enters the phase a checkpoint stands in (before it is restored: its optimizer must match)."""
        self.index, self.inside = position(self.phases, (state or {}).get("history") or {})
        self._enter(self.index)

    def _enter(self, index: int) -> None:
        t = self.t
        report = enter(t.model, t.cfg, t.doc, self.phases, index, self.initial, t.compile_args, self.locked)
        t.run_info["phases"].append(report)
        self.entered = index

    def fit(self, fit_epochs, callbacks: list, guard, progress=None):
        """Fits every remaining phase; returns the last `History`.

        Args:
            fit_epochs: `fit_epochs(initial_epoch, epochs, callbacks)` runs `model.fit`.
            callbacks: the run's callbacks (checkpoint, timer, progress, `fit.callbacks`).
            guard: the `interrupt.SignalGuard`; a signal ends the run after the phase's fit.
            progress: the progress display, told each phase's label.
        """
        from kerascli.model.callbacks import make_callbacks
        from kerascli.run import interrupt

        t, history = self.t, None
        for index in range(self.index, len(self.phases)):
            phase = self.phases[index]
            if self.entered != index:
                self._enter(index)
            inside = self.inside if index == self.index else 0
            self.checkpointer.tags = {HISTORY_KEY: phase.number}
            if progress is not None:
                progress.label = phase.label(len(self.phases))
            own = make_callbacks(t.cfg, t.doc, t.run_dir, phase.spec.callbacks, ("fit", "phases", index, "callbacks"))
            start = self.checkpointer.epochs_done
            history = fit_epochs(start, start - inside + phase.epochs, callbacks + own)
            interrupt.check_outcome(guard, self.checkpointer, t.run_dir)
        return history
