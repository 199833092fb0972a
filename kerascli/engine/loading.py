"""Loading a run's `model.keras` for `evaluate` and `predict`, without running its initializers.

`keras.saving.load_model` builds every layer (running each weight
initializer, one XLA compile per shape on JAX) and then overwrites the
weights with the saved ones. `load_for_inference` loads the same file with
Keras' own loader inside `deferred_initialization()`, so the saved values
become the variables' initial values and only the variables the file does
not hold (a dropout layer's seed state) are drawn. It then compiles the
model with the saved loss and metrics, as `load_model` does; the optimizer
is created but not built and its saved state is not restored: evaluating
and predicting never use it (training resumes from a checkpoint, see
`kerascli.run.interrupt`).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from kerascli.engine.initialization import deferred_initialization
from kerascli.engine.keras_import import load_keras

CONFIG_ENTRY = "config.json"  # where a `.keras` archive keeps the model's config


def load_for_inference(path: str | Path) -> Any:
    """Loads a `.keras` file (safe mode) with its weights, compiled with its saved loss and metrics.

    Args:
        path: a `.keras` file written by `model.save`.

    Returns:
        The `keras.Model`, compiled when the file holds a compile config.
    """
    keras = load_keras()
    with deferred_initialization():
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    compile_config = _compile_config(Path(path))
    if compile_config and type(model).compile is keras.Model.compile:
        model.compile(**keras.saving.deserialize_keras_object(compile_config, safe_mode=True))
    return model


def _compile_config(path: Path) -> dict | None:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read(CONFIG_ENTRY)).get("compile_config")
