"""Keras callbacks from the config's `fit.callbacks`, their files placed in the run directory."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from kerascli.config.catalog import load_catalog
from kerascli.config.checks.safety import callback_path_problem
from kerascli.config.document import Document
from kerascli.config.spec import Config
from kerascli.config.tables import CALLBACK_PATH_ARGS
from kerascli.engine.keras_import import load_keras
from kerascli.errors import ConfigError
from kerascli.model.objects import clean

keras = load_keras()

# Callbacks that need a package kerascli does not depend on, beyond what the
# catalogue finds in their constructors (TensorBoard imports TensorFlow later,
# when training starts, even on the JAX backend).
CALLBACK_PACKAGES = {"TensorBoard": ("tensorflow", "pip install tensorflow")}


def check_callback_packages(config: Config, doc: Document) -> None:
    """Fails early, before a run starts, when a callback's package is missing.

    Raises:
        ConfigError: naming the callback, the package and how to install it.
    """
    problems = []
    for i, spec in enumerate(config.fit.callbacks):
        entry = load_catalog().get("callbacks", spec.type)
        needed = list(entry.requires) if entry else []
        extra = CALLBACK_PACKAGES.get(spec.type)
        if extra and extra[0] not in needed:
            needed.append(extra[0])
        for package in needed:
            module = package.replace("-", "_").replace("orbax_checkpoint", "orbax")
            if importlib.util.find_spec(module) is None:
                install = extra[1] if extra and extra[0] == package else f"pip install {package}"
                hint = (
                    "; for a log without it, use {type: CSVLogger, filename: history.csv}"
                    if spec.type == "TensorBoard"
                    else ""
                )
                problems.append(
                    doc.problem(
                        ("fit", "callbacks", i),
                        f"callback {spec.type} needs {package}, which is not installed: {install}{hint}",
                    )
                )
    if problems:
        raise ConfigError(problems)


def make_callbacks(config: Config, doc: Document, run_dir, specs=None, prefix=("fit", "callbacks")) -> list:
    """The Keras callbacks the config lists, with paths placed in the run directory.

    Args:
        config: the config (`fit.callbacks` unless `specs` is given).
        doc: the config document, for error locations.
        run_dir: the run directory callback paths are placed in.
        specs: other callback specs (a phase's), written at `prefix`.
        prefix: the key of `specs` in the config.
    """
    callbacks = []
    for i, spec in enumerate(config.fit.callbacks if specs is None else specs):
        key = (*prefix, i)
        cls = getattr(keras.callbacks, spec.type, None)
        if not isinstance(cls, type) or spec.type in ("LambdaCallback", "LearningRateScheduler"):
            raise ConfigError([doc.problem(key, f"callback '{spec.type}' cannot be used from a config")])
        kwargs = spec.kwargs
        # Keras 3.15's `mode="auto"` raises for per-output names such as `val_cls_loss`
        # (tests/model/test_callbacks.py proves it still does): set the direction from the name.
        if (
            spec.type in ("EarlyStopping", "ReduceLROnPlateau", "ModelCheckpoint")
            and kwargs.get("mode", "auto") == "auto"
        ):
            monitor = kwargs.get("monitor", "val_loss")
            kwargs["mode"] = (
                "min"
                if monitor.endswith("loss") or "error" in monitor
                else "max"
                if any(w in monitor for w in ("acc", "auc", "precision", "recall", "f1"))
                else "auto"
            )
        for path_arg in CALLBACK_PATH_ARGS:
            if path_arg in kwargs:
                message = callback_path_problem(str(kwargs[path_arg]))
                if message:
                    raise ConfigError([doc.problem(key + (path_arg,), message)])
                kwargs[path_arg] = str(Path(run_dir) / str(kwargs[path_arg]))
        try:
            callbacks.append(cls(**kwargs))
        except Exception as exc:  # noqa: BLE001
            raise ConfigError([doc.problem(key, f"{spec.type} was rejected by Keras: {clean(exc)}")]) from None
    return callbacks
