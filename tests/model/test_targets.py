"""The target/output shape check that runs before `fit` (no Keras needed)."""

import numpy as np
import pytest

from kerascli import config
from kerascli.config.spec import KerasObject
from kerascli.errors import DataError
from kerascli.model.targets import check_targets


def doc(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  train: {path: d.csv, y: t}\nmodel:\n  layers:\n    - {type: Dense, units: 1}\n")
    return config.load(path)


def loss(name):
    return KerasObject.model_validate(name)


@pytest.mark.parametrize(
    "loss_name, out, y",
    [
        ("mse", (1,), np.zeros((4,))),
        ("mse", (1,), np.zeros((4, 1))),
        ("MeanAbsoluteError", (3,), np.zeros((4, 3))),
        ("sparse_categorical_crossentropy", (3,), np.array([0, 1, 2, 2])),
        ("sparse_categorical_crossentropy", (5, 3), np.zeros((4, 5), dtype=int)),
        ("categorical_crossentropy", (3,), np.eye(3)[[0, 1, 2, 0]]),
        ("crossentropy", (3,), np.zeros((4,))),  # resolved by Keras from the shapes: not checked
        ("my_custom_loss", (1,), np.zeros((4, 7))),  # a custom loss has its own rules
    ],
    ids=["mse-flat", "mse-column", "mae-wide", "sparse", "sparse-sequence", "one-hot", "crossentropy", "custom"],
)
def test_matching_targets_pass(tmp_path, loss_name, out, y):
    check_targets(doc(tmp_path), loss(loss_name), {"out": out}, {"out": y})


@pytest.mark.parametrize(
    "loss_name, out, y, expected",
    [
        (
            "mse",
            (1,),
            np.zeros((4, 3)),
            "c.yaml:2:24: data.train.y: targets of output 'out' have shape [3] per sample, but the output produces [1] and 'mse' compares them element by element; Keras would broadcast them silently",
        ),
        (
            "categorical_crossentropy",
            (3,),
            np.array([0, 1, 2, 1]),
            "(integer class labels need sparse_categorical_crossentropy)",
        ),
        (
            "sparse_categorical_crossentropy",
            (3,),
            np.eye(3)[[0, 1, 2, 0]],
            "expects one integer label per sample (shape [] or [1]) for an output of shape [3] (one-hot targets need categorical_crossentropy)",
        ),
    ],
    ids=["broadcast", "labels-for-categorical", "one-hot-for-sparse"],
)
def test_mismatched_targets_are_data_errors(tmp_path, loss_name, out, y, expected):
    with pytest.raises(DataError) as info:
        check_targets(doc(tmp_path), loss(loss_name), {"out": out}, {"out": y})
    assert expected in str(info.value)


def test_losses_by_output_are_checked_per_output(tmp_path):
    losses = {"a": loss("mse"), "b": loss("sparse_categorical_crossentropy")}
    check_targets(doc(tmp_path), losses, {"a": (2,), "b": (4,)}, {"a": np.zeros((3, 2)), "b": np.array([0, 3, 1])})
    with pytest.raises(DataError, match="output 'a' have shape \\[3\\] per sample, but the output produces \\[2\\]"):
        check_targets(doc(tmp_path), losses, {"a": (2,), "b": (4,)}, {"a": np.zeros((3, 3)), "b": np.array([0, 3, 1])})
