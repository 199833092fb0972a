"""Each callback's `monitor` checked against the names `fit` will log, before the run directory exists.

`EarlyStopping`, `ReduceLROnPlateau` and `ModelCheckpoint(save_best_only=True)`
watch one entry of the epoch's logs. When it is not there (`val_loss` with no
validation data, a typo such as `val_acuracy`, `accuracy` on a two-output
model whose logs say `species_accuracy`), Keras warns once per epoch and the
callback never acts, or fails when training starts: a run directory "failed"
or a run that silently never stops early. The names come from Keras itself:
the compiled model's metrics are built on the shapes of one batch (what `fit`
does first, symbolically, without compiling anything), and each gets a
`val_` twin when the config has validation data.
"""

from __future__ import annotations

import difflib

from kerascli.errors import ConfigError

MONITORING = ("EarlyStopping", "ReduceLROnPlateau", "ModelCheckpoint")
DEFAULT_MONITOR = "val_loss"  # Keras' default for all three
EXTRA_LOGS = ("learning_rate",)  # ReduceLROnPlateau adds it to the epoch's logs


def check_monitors(t) -> None:
    """Fails, at the callback's `monitor`, when `fit` will not log what it watches.

    Args:
        t: the `Training`, its model compiled and its training data loaded.

    Raises:
        ConfigError: one problem per callback (of `fit.callbacks` and of each
            phase) whose monitor is not logged.
    """
    lists = [(("fit", "callbacks"), t.cfg.fit.callbacks)]
    lists += [(("fit", "phases", n, "callbacks"), phase.callbacks) for n, phase in enumerate(t.cfg.fit.phases or [])]
    watching = [((*key, i), spec) for key, specs in lists for i, spec in enumerate(specs) if _watches(spec)]
    if not watching:
        return
    names = logged_names(t.model, t.train_data, t.cfg.data.validation is not None)
    if names is None:
        return
    problems = []
    for at, spec in watching:
        monitor = str(spec.kwargs.get("monitor", DEFAULT_MONITOR))
        if monitor not in names:
            given = "monitor" in spec.kwargs
            key = (*at, "monitor") if given else at
            problems.append(t.doc.problem(key, _message(spec.type, monitor, given, names)))
    if problems:
        raise ConfigError(problems)


def logged_names(model, train_data, validation: bool) -> set[str] | None:
    """The metric names each epoch of `fit` logs, from Keras; None when Keras cannot tell before fitting.

    Args:
        model: the compiled Keras model.
        train_data: the training `Arrays` (only the shapes of two rows are used).
        validation: whether `fit` gets validation data (adds `val_` names).
    """
    from kerascli.data.streaming import head_batch

    x, y = head_batch(train_data)
    try:
        model._symbolic_build(data_batch=(x, y))  # what fit() does first, on shapes only
        names = set(model.get_metrics_result())
    except Exception:  # noqa: BLE001 - fit itself reports what is wrong with the model or data
        return None
    names |= {f"val_{name}" for name in names} if validation else set()
    return names | set(EXTRA_LOGS)


def _watches(spec) -> bool:
    """Whether a callback acts on its monitor (a ModelCheckpoint only with save_best_only)."""
    if spec.type not in MONITORING:
        return False
    return spec.type != "ModelCheckpoint" or bool(spec.kwargs.get("save_best_only")) or "monitor" in spec.kwargs


def _message(callback: str, monitor: str, given: bool, names: set[str]) -> str:
    logged = ", ".join(sorted(names - set(EXTRA_LOGS)))
    if not given:
        return (
            f"{callback} monitors '{monitor}' by default, which fit does not log without validation data "
            f"(data.validation): set monitor to one of {logged}"
        )
    hint = difflib.get_close_matches(monitor, sorted(names), n=1)
    if monitor.startswith("val_") and monitor[len("val_") :] in names:
        return f"monitor '{monitor}' needs validation data (data.validation): fit logs {logged}"
    return f"monitor '{monitor}' is not logged by fit: expected one of {logged}" + (
        f" (did you mean '{hint[0]}'?)" if hint else ""
    )
