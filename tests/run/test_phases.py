"""`fit.phases`: trainable layers per phase, BatchNormalization while frozen, recompiles, resume mid-phase."""

from __future__ import annotations

import json
import os
import signal

import keras
import numpy as np
import pytest
from conftest import write_config

from kerascli.model import callbacks as callback_module


class SendSignal(keras.callbacks.Callback):
    """Sends SIGINT to this process once, after batch `batch` of epoch `epoch`."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch, self.fired = (epoch, batch), None, False

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at and not self.fired:
            self.fired = True
            os.kill(os.getpid(), signal.SIGINT)


def only_run(base):
    runs = [p for p in base.glob("*/*") if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def weights(run) -> list:
    return keras.saving.load_model(run / "model.keras", safe_mode=True).get_weights()


# A frozen "backbone" block (Dense, BatchNormalization, Dense) under a new head,
# then the whole backbone unfrozen at a low learning rate: the Keras guide's recipe.
CONFIG = """\
name: phased
seed: 3
data:
  train: {path: data/iris.csv, y: species}
blocks:
  body:
    layers:
      - {name: d1, type: Dense, units: 8, activation: relu, inputs: in}
      - {name: bn, type: BatchNormalization}
      - {name: d2, type: Dense, units: 8, activation: relu}
model:
  layers:
    - {name: backbone, type: body, trainable: false}
    - {name: head, type: Dense, units: 3, activation: softmax}
compile:
  optimizer: {type: Adam, learning_rate: 0.01}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
fit:
  batch_size: 30
  phases:
    - {name: head, epochs: 1}
    - {name: tune, epochs: 2, unfreeze: [backbone], learning_rate: 1.0e-4,
       callbacks: [{type: CSVLogger, filename: tune.csv}]}
"""
HEAD = 8 * 3 + 3
BACKBONE = (4 * 8 + 8) + (8 * 8 + 8)  # d1 and d2: bn stays frozen (inference mode) in every phase


@pytest.fixture
def phased_run(cli, workdir):
    config = write_config(workdir, CONFIG)
    result = cli("train", config, "--quiet")
    assert result.exit_code == 0, result.output
    return only_run(workdir / "runs")


def test_each_phase_trains_its_own_layers(phased_run):
    info = json.loads((phased_run / "run.json").read_text())
    assert [(p["name"], p["trainable_params"]) for p in info["phases"]] == [("head", HEAD), ("tune", HEAD + BACKBONE)]
    history = json.loads((phased_run / "history.json").read_text())
    assert history["phase"] == [1, 2, 2]  # epoch numbers keep counting across phases
    assert len(history["loss"]) == 3
    rows = (phased_run / "tune.csv").read_text().splitlines()  # the phase's own callback, in the run directory
    assert [row.split(",")[0] for row in rows[1:]] == ["1", "2"]


NODE_FREEZE = CONFIG.replace(
    "{name: backbone, type: body, trainable: false}", "{name: backbone, type: body, freeze: {all_but_last: 1}}"
)


def test_node_freeze_selects_layers_inside_the_node(cli, workdir):
    config = write_config(workdir, NODE_FREEZE.replace("unfreeze: [backbone]", "unfreeze: [d1]"))
    result = cli("train", config, "--quiet")
    assert result.exit_code == 0, result.output
    info = json.loads((only_run(workdir / "runs") / "run.json").read_text())
    d1, d2 = 4 * 8 + 8, 8 * 8 + 8  # bn (not the last layer) is frozen too
    assert [p["trainable_params"] for p in info["phases"]] == [HEAD + d2, HEAD + d2 + d1]


def test_frozen_backbone_keeps_batchnorm_in_inference_mode(phased_run):
    """Its moving statistics never move, even after phase 2 unfroze the backbone."""
    model = keras.saving.load_model(phased_run / "model.keras", safe_mode=True)
    backbone = model.get_layer("backbone")
    bn = backbone.get_layer("bn")
    assert np.allclose(keras.ops.convert_to_numpy(bn.moving_mean), 0.0)
    assert np.allclose(keras.ops.convert_to_numpy(bn.moving_variance), 1.0)
    assert not bn.trainable and backbone.get_layer("d1").trainable  # the rest did unfreeze


def test_the_model_is_recompiled_with_a_fresh_optimizer_per_phase(phased_run):
    model = keras.saving.load_model(phased_run / "model.keras", safe_mode=True)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(1e-4)
    rows = len((phased_run.parents[2] / "data" / "iris.csv").read_text().splitlines()) - 1
    assert int(model.optimizer.iterations) == 2 * -(-rows // 30)  # phase 2's two epochs only


def test_resume_continues_inside_the_interrupted_phase(cli, workdir, monkeypatch):
    config = write_config(workdir, CONFIG)
    assert cli("train", config, "--quiet", "-o", "full").exit_code == 0
    full = only_run(workdir / "full")

    sender = SendSignal(epoch=2, batch=1)  # the second epoch of phase 2
    original = callback_module.make_callbacks
    monkeypatch.setattr(callback_module, "make_callbacks", lambda *a, **k: original(*a, **k) + [sender])
    result = cli("train", config, "--quiet", "-o", "part")
    assert result.exit_code == 130, result.output
    monkeypatch.setattr(callback_module, "make_callbacks", original)
    run = only_run(workdir / "part")
    assert json.loads((run / "history.json").read_text())["phase"] == [1, 2]

    result = cli("train", "--resume", run, "--quiet")
    assert result.exit_code == 0, result.output
    info = json.loads((run / "run.json").read_text())
    assert [p["name"] for p in info["phases"]] == ["tune"]  # entered the phase it stopped in, not the first
    assert json.loads((run / "history.json").read_text()) == json.loads((full / "history.json").read_text())
    assert all(np.array_equal(a, b) for a, b in zip(weights(run), weights(full)))


@pytest.mark.parametrize(
    "change, message",
    [
        ("fit:\n  epochs: 3\n  phases: [{epochs: 1}]", "fit: 'epochs' cannot be given with 'phases'"),
        (
            "fit:\n  phases: [{epochs: 1, unfreeze: [nothing_like_it]}]",
            "fit.phases[0].unfreeze: 'nothing_like_it' matches no layer in the model",
        ),
        (
            "fit:\n  phases: [{epochs: 1, unfreeze: {of: head, last: 1}}]",
            "fit.phases[0].unfreeze: 'head' is not a nested model",
        ),
        (
            "fit:\n  phases: [{epochs: 1, freeze: {first: 1, last: 2}}]",
            "fit.phases[0].freeze: give exactly one of 'first', 'last' or 'all_but_last', got first, last",
        ),
        ("fit:\n  phases: [{epochs: 1, optimizer: adamm}]", "fit.phases[0].optimizer: unknown optimizer 'adamm'"),
    ],
    ids=["epochs-and-phases", "pattern-matches-nothing", "positions-of-a-layer", "two-positions", "bad-optimizer"],
)
def test_bad_phases_are_config_errors(cli, workdir, change, message):
    text = CONFIG[: CONFIG.index("fit:")] + change + "\n"
    config = write_config(workdir, text)
    result = cli("train", config, "--quiet")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not (workdir / "runs").exists()
