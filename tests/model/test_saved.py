"""Refused and unreadable model files: one line naming the file and the reason."""

from __future__ import annotations

import json
import zipfile

import keras
import pytest

from kerascli.errors import KerasCliError
from kerascli.model.saved import load_saved


def _custom_layer_archive(path):
    """A .keras archive naming a layer class nobody registered, with a long config (Keras dumps it)."""
    layer = {
        "module": "mypkg.layers",
        "class_name": "Sneaky",
        "registered_name": "mypkg>Sneaky",
        "config": {"name": "x", "payload": "a" * 2000},
    }
    model = {
        "module": "keras",
        "class_name": "Sequential",
        "registered_name": None,
        "config": {
            "name": "s",
            "layers": [
                {
                    "module": "keras.layers",
                    "class_name": "InputLayer",
                    "config": {"batch_shape": [None, 4], "name": "i"},
                },
                layer,
            ],
        },
    }
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(model))
        archive.writestr("metadata.json", json.dumps({"keras_version": keras.__version__}))


def test_a_python_lambda_is_refused_in_one_line(tmp_path):
    path = tmp_path / "lambda.keras"
    keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda t: t * 2), keras.layers.Dense(3)]).save(path)
    with pytest.raises(KerasCliError) as caught:
        load_saved(keras, path)
    assert caught.value.lines() == [
        f"refused to load {path}: Requested the deserialization of a `Lambda` layer whose `function` "
        "is a Python lambda (Keras safe mode)"
    ]


def test_an_unknown_class_says_so_without_the_config_dump(tmp_path):
    path = tmp_path / "custom.keras"
    _custom_layer_archive(path)
    with pytest.raises(KerasCliError) as caught:
        load_saved(keras, path)
    assert caught.value.lines() == [
        f"refused to load {path}: Could not locate class 'Sneaky': a custom object; "
        "import the module that registers it with --plugin MODULE"
    ]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x89HDF\r\n\x1a\n" + b"\0" * 64, "it is a legacy HDF5 (.h5) model renamed .keras"),
        (b"not a zip", "not a .keras file (a .keras model is a zip archive)"),
    ],
    ids=["hdf5-renamed", "not-a-zip"],
)
def test_a_file_that_is_not_a_keras_archive_is_named_as_such(tmp_path, content, message):
    path = tmp_path / "model.keras"
    path.write_bytes(content)
    with pytest.raises(KerasCliError) as caught:
        load_saved(keras, path)
    assert len(caught.value.lines()) == 1 and message in caught.value.lines()[0]
    assert "File not found" not in str(caught.value)
