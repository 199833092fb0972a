"""`kerascli.run.monitors`: the names a callback may monitor are exactly those `fit` logs."""

import numpy as np
import pytest

from kerascli.data.arrays import Arrays
from kerascli.engine.keras_import import load_keras
from kerascli.run.monitors import EXTRA_LOGS, logged_names

keras = load_keras()


def _two_output_model():
    inputs = keras.Input((3,), name="features")
    hidden = keras.layers.Dense(4)(inputs)
    species = keras.layers.Dense(3, activation="softmax", name="species")(hidden)
    size = keras.layers.Dense(1, name="size")(hidden)
    model = keras.Model(inputs, {"species": species, "size": size})
    model.compile(
        "adam",
        loss={"species": "sparse_categorical_crossentropy", "size": "mse"},
        metrics={"species": ["accuracy"], "size": ["mae"]},
    )
    return model


@pytest.mark.parametrize("validation", [False, True])
def test_names_are_those_fit_logs(validation):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3)).astype("float32")
    y = {"species": rng.integers(0, 3, 8).astype("int32"), "size": rng.normal(size=(8, 1)).astype("float32")}
    model = _two_output_model()
    names = logged_names(model, Arrays({"features": x}, y), validation)
    history = model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y) if validation else None)
    assert names - set(EXTRA_LOGS) == set(history.history)
    assert "species_accuracy" in names and "accuracy" not in names
