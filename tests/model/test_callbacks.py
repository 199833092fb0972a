"""`kerascli.model.callbacks`: Keras callbacks from the config, paths inside the run, `mode` for per-output metrics."""

import numpy as np
import pytest
from conftest import write_config

from kerascli import config
from kerascli.config.spec import from_document
from kerascli.errors import ConfigError
from kerascli.model import callbacks

TWO_OUTPUTS = """\
data:
  train: {path: data/iris.csv, y: species}
model:
  inputs: {x: {shape: [4]}}
  layers:
    - {name: a, type: Dense, units: 1, inputs: x}
    - {name: b, type: Dense, units: 1, inputs: x}
  outputs: [a, b]
compile: {optimizer: sgd, loss: mse}
fit:
  callbacks:
    - {type: EarlyStopping, monitor: val_a_loss, patience: 1}
    - {type: CSVLogger, filename: logs/history.csv}
"""


def _two_output_model():
    keras = callbacks.keras
    x = keras.Input((4,), name="x")
    model = keras.Model(x, {"a": keras.layers.Dense(1, name="a")(x), "b": keras.layers.Dense(1, name="b")(x)})
    model.compile(optimizer="sgd", loss={"a": "mse", "b": "mse"})
    data = np.ones((8, 4), "float32"), {"a": np.ones((8, 1), "float32"), "b": np.ones((8, 1), "float32")}
    return model, data


def test_keras_auto_mode_still_fails_on_a_per_output_loss():
    """Why `make_callbacks` sets `mode`: Keras 3.15 cannot tell the direction of `val_a_loss` by itself."""
    keras = callbacks.keras
    model, (x, y) = _two_output_model()
    stop = keras.callbacks.EarlyStopping(monitor="val_a_loss", patience=1)
    with pytest.raises(ValueError, match="isn't able to automatically determine"):
        model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0, callbacks=[stop])


def test_callbacks_get_a_mode_and_their_files_inside_the_run(workdir):
    doc = config.load(write_config(workdir, TWO_OUTPUTS))
    made = callbacks.make_callbacks(from_document(doc), doc, workdir / "run")
    assert made[0].mode == "min"
    assert made[1].filename == str(workdir / "run" / "logs" / "history.csv")
    model, (x, y) = _two_output_model()
    model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0, callbacks=made[:1])  # no ValueError


def test_a_callback_keras_rejects_is_a_config_error_at_its_line(workdir):
    text = TWO_OUTPUTS.replace(
        "{type: EarlyStopping, monitor: val_a_loss, patience: 1}", "{type: ReduceLROnPlateau, factor: 1.5}"
    )
    doc = config.load(write_config(workdir, text))
    with pytest.raises(
        ConfigError, match=r"config.yaml:\d+:\d+: fit.callbacks\[0\]: ReduceLROnPlateau was rejected by Keras"
    ):
        callbacks.make_callbacks(from_document(doc), doc, workdir / "run")
