"""`validate --deep`: everything `train` does before its first step, on the first rows, writing nothing.

`validate` alone never imports Keras, so a config passes it and fails
moments later in `train`: a layer that needs TensorFlow, a data file whose
columns do not match, shapes that do not fit, a callback Keras rejects. The
deep check runs `train`'s own phases up to `model.fit` — import Keras on the
config's backend, read the head of each data source, build the model, check
inputs, targets and classes against it, compile it, build the callbacks —
so "validates deep" means "trains". It trains nothing and writes nothing: no
run directory, no compilation cache.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from kerascli.config import spec
from kerascli.engine import distribution
from kerascli.engine.keras_import import load_keras
from kerascli.engine.tensorflow_probe import set_random_seed
from kerascli.run.monitors import check_monitors

HEAD_ROWS = 64
"""How many rows of each data source the deep check reads."""


def validate_deep(path: str | os.PathLike, overrides=(), backend_cli: str | None = None) -> list:
    """Runs `train`'s phases up to `fit` on the first `HEAD_ROWS` rows of each source.

    Returns:
        The config's warnings (`Problem`s).

    Raises:
        ConfigError, DataError, KerasCliError: what `train` would raise before training.
    """
    from kerascli.run import train

    warnings: list = []
    try:
        t = train.plan(path, overrides, backend_cli, None, warnings.append)
        t.keras = load_keras(t.backend_name)
        t.plan.initialize(t.keras)
        set_random_seed(t.keras, t.seed)
        _load_heads(t)
        from kerascli.model.precision import use_policy

        with use_policy(t.cfg.dtype_policy):  # as train sets it: for this call only
            train.build(t, warnings.append)
            train.check(t)
            _check_test_head(t)
            train.adapt(t, True)
            train.compile_model(t)
            _build_callbacks(t)
        return warnings
    finally:
        distribution.release()


def _load_heads(t) -> None:
    """The first rows of the training and validation sources (a split is not made of so few rows).

    Encoded columns (`data.text`, `data.categories`) get their vocabularies
    from these rows, as `train` fits them on its training rows.
    """
    from kerascli import data
    from kerascli.model.adapt import check_stack
    from kerascli.run import inputs

    check_stack(t.cfg, t.doc, t.keras.backend.backend())  # layers this install cannot run (e.g. TensorFlow-only)
    cfg = t.cfg
    if isinstance(cfg.data.validation, spec.Split):
        cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"validation": None})})
    t.labels, t.vocabularies = data.Labels(), data.Vocabularies()
    t.train_data, t.validation = inputs.load_training_data(t.doc, cfg, t.seed, t.labels, t.vocabularies, head=HEAD_ROWS)


def _check_test_head(t) -> None:
    """The first rows of `data.test`, read and checked against the model as `evaluate` will."""
    if t.cfg.data.test is None:
        return
    from kerascli import data
    from kerascli.run.inputs import load_arguments

    cfg, doc = t.cfg, t.doc
    arguments = load_arguments(cfg, t.labels, t.vocabularies, head=HEAD_ROWS)
    test = data.load(cfg.data.test.like(cfg.data.train), doc, ("data", "test"), **arguments)
    data.check_inputs(t.model, test.x, doc, ("data", "test", "x"))


def _build_callbacks(t) -> None:
    """The config's Keras callbacks, their paths in a run directory that is never created."""
    from kerascli.model.callbacks import make_callbacks

    with tempfile.TemporaryDirectory(prefix="kerascli-deep-") as scratch:
        make_callbacks(t.cfg, t.doc, Path(scratch) / "run")
    check_monitors(t)
