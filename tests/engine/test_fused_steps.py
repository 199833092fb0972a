"""Fused steps (kerascli.engine.fused_steps): one compiled program per execution, the same training as Keras' loop."""

from __future__ import annotations

import json
import signal

import keras
import numpy as np
import pytest
from conftest import write_config

from kerascli.engine import fused_steps
from kerascli.model import callbacks as build


def blobs(rows=200, seed=0):
    rng = np.random.default_rng(seed)
    return {"a": rng.normal(size=(rows, 5)).astype("float32"), "b": rng.normal(size=(rows, 3)).astype("float32")}, (
        rng.integers(0, 3, size=rows).astype("int32")
    )


def two_input_model(steps_per_execution=4):
    """Dropout (a seed generator) and BatchNormalization (non-trainable state) on two named inputs."""
    keras.utils.set_random_seed(3)
    a, b = keras.Input(shape=(5,), name="a"), keras.Input(shape=(3,), name="b")
    h = keras.layers.Concatenate()([a, b])
    h = keras.layers.Dense(16, activation="relu")(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.Dropout(0.4)(h)
    out = keras.layers.Dense(3, activation="softmax")(h)
    model = keras.Model({"a": a, "b": b}, out)
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


def train(fused: bool, rows=200, steps_per_execution=4, **fit_args):
    model = two_input_model(steps_per_execution)
    if fused:
        assert fused_steps.install(model)
    x, y = blobs(rows)
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, **fit_args)
    return model, history.history


def state(model) -> list:
    return [v.numpy() for v in model.variables + model.optimizer.variables]


@pytest.mark.parametrize(
    "rows, steps_per_execution, fit_args, per_epoch",
    [
        # 200 rows at batch 16: 12 batches and one of 8 rows. 4 per execution: 3 fused, the small one Keras'.
        (200, 4, {}, (3, 1)),
        (200, 4, {"class_weight": {0: 1.0, 1: 2.0, 2: 0.5}}, (3, 1)),
        (200, 4, {"shuffle": False}, (3, 1)),
        # 5 per execution: 5, 5, then 2 fused (a short loop) before the small batch.
        (200, 5, {}, (3, 1)),
        # 192 rows: 12 batches alike, 5, 5 and 2 steps, all fused.
        (192, 5, {}, (3, 0)),
    ],
    ids=["shuffled", "class-weights", "in-order", "short-then-small", "short-execution"],
)
def test_seeded_fused_run_is_bit_identical_to_keras_loop(rows, steps_per_execution, fit_args, per_epoch):
    fused, fused_history = train(True, rows, steps_per_execution, **fit_args)
    keras_loop, keras_history = train(False, rows, steps_per_execution, **fit_args)
    assert isinstance(fused.train_function, fused_steps.FusedTrainFunction)
    assert not isinstance(keras_loop.train_function, fused_steps.FusedTrainFunction)
    assert (fused.train_function.fused, fused.train_function.stepwise) == (2 * per_epoch[0], 2 * per_epoch[1])
    assert fused_history == keras_history  # loss and accuracy of both epochs, exactly
    assert all(np.array_equal(a, b) for a, b in zip(state(fused), state(keras_loop), strict=True))
    # The seed generator advanced the same way: the next dropout masks agree too.
    x, _ = blobs(16, seed=1)
    assert np.array_equal(
        keras.ops.convert_to_numpy(fused(x, training=True)), keras.ops.convert_to_numpy(keras_loop(x, training=True))
    )


def test_train_on_batch_and_evaluate_keep_keras_functions():
    model = two_input_model()
    assert fused_steps.install(model)
    x, y = blobs(16)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    assert (model.train_function.fused, model.train_function.stepwise) == (0, 1)
    assert set(model.evaluate(x, y, return_dict=True, verbose=0)) == {"loss", "accuracy"}


def test_recompiling_drops_the_fused_function_and_install_is_idempotent():
    model = two_input_model()
    assert fused_steps.install(model) and fused_steps.install(model)
    function = model.train_function
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", steps_per_execution=4)
    assert model.train_function is None  # Keras resets it: kerascli installs again before each fit
    assert fused_steps.install(model) and model.train_function is not function


def test_where_keras_loop_is_kept(monkeypatch):
    assert fused_steps.unavailable(two_input_model(steps_per_execution=1)) == "one step per execution"
    eager = two_input_model()
    eager.compile(optimizer="adam", loss="sparse_categorical_crossentropy", steps_per_execution=4, run_eagerly=True)
    assert fused_steps.unavailable(eager) == "not jit-compiled"
    monkeypatch.setenv(fused_steps.ENV_VAR, "0")
    model = two_input_model()
    assert not fused_steps.install(model) and model.train_function is None
    monkeypatch.delenv(fused_steps.ENV_VAR)
    distribution = keras.distribution.DataParallel(devices=keras.distribution.list_devices()[:1])
    with distribution.scope():
        assert fused_steps.unavailable(model) == "a keras.distribution is set"
    assert fused_steps.unavailable(model) is None


def test_only_numpy_batches_alike_the_first_are_fused():
    batch = (np.zeros((4, 2), "float32"), np.zeros(4, "int32"))
    signature = fused_steps._signature(batch)
    assert (
        signature is not None and fused_steps._signature((np.ones((4, 2), "float32"), np.ones(4, "int32"))) == signature
    )
    assert fused_steps._signature((np.zeros((3, 2), "float32"), np.zeros(3, "int32"))) != signature
    assert fused_steps._signature((np.zeros((4, 2), "float64"), np.zeros(4, "int32"))) != signature
    assert fused_steps._signature((np.zeros((4, 2), "float32"),)) != signature
    assert fused_steps._signature(("text", np.zeros(4, "int32"))) is None
    stacked = fused_steps._stack([batch, (np.ones((4, 2), "float32"), np.ones(4, "int32"))], 3)
    assert stacked[0].shape == (3, 4, 2) and stacked[0][1:].tolist() == [[[1.0, 1.0]] * 4] * 2  # padded with the last


def test_an_execution_waits_for_all_but_the_last_two_before_it(monkeypatch):
    # JAX dispatches asynchronously: unbounded, every queued execution held its stacked batches.
    import jax

    model = two_input_model(steps_per_execution=2)
    assert fused_steps.install(model)
    function = model.train_function
    dispatched, waited = [], []
    program = function._program

    def recording_program(*args):
        logs, state = program(*args)
        dispatched.append((logs, len(waited)))
        return logs, state

    real_wait = jax.block_until_ready
    monkeypatch.setattr(function, "_program", recording_program)
    monkeypatch.setattr(jax, "block_until_ready", lambda x: waited.append(x) or real_wait(x))
    x, y = blobs(192)  # 12 batches of 16 an epoch: 6 executions, all fused
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert function.fused == 12 and len(function._in_flight) == fused_steps.MAX_IN_FLIGHT == 2
    assert [id(logs) for logs, _ in dispatched[:10]] == [id(w) for w in waited]  # the oldest first, each once
    assert [before for _, before in dispatched] == [0, 0, 0, *range(1, 10)]


BLOBS = """\
name: fused
seed: 5
data:
  train: {path: blobs.npz}
  validation: {split: 0.2}
model:
  layers:
    - {type: Dense, units: 16, activation: relu}
    - {type: Dropout, rate: 0.3}
    - {type: Dense, units: 3, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 2, batch_size: 8}
"""


@pytest.fixture
def blobs_config(workdir):
    rng = np.random.default_rng(0)
    np.savez(workdir / "blobs.npz", x=rng.normal(size=(1000, 6)), y=rng.integers(0, 3, size=1000))
    return write_config(workdir, BLOBS)


def run_files(run) -> tuple:
    info = json.loads((run / "run.json").read_text())
    weights = keras.saving.load_model(run / "model.keras", safe_mode=True).get_weights()
    return info, json.loads((run / "history.json").read_text()), weights


def only_run(base):
    (run,) = [p for p in base.glob("*/*") if p.is_dir()]
    return run


def test_train_fuses_by_default_and_matches_the_switched_off_run(cli, workdir, blobs_config, monkeypatch):
    models, install = [], fused_steps.install
    monkeypatch.setattr(fused_steps, "install", lambda model: models.append(model) or install(model))
    assert cli("train", blobs_config, "--quiet", "-o", "fused").exit_code == 0
    # 800 training rows at batch 8: 100 steps an epoch, 5 per execution, each execution one program.
    assert (models[0].train_function.fused, models[0].train_function.stepwise) == (40, 0)
    monkeypatch.setenv(fused_steps.ENV_VAR, "0")
    assert cli("train", blobs_config, "--quiet", "-o", "keras").exit_code == 0
    (fused_info, fused_history, fused_weights), (keras_info, keras_history, keras_weights) = (
        run_files(only_run(workdir / "fused")),
        run_files(only_run(workdir / "keras")),
    )
    assert fused_info["profile"]["settings"]["steps_per_execution"] == 5
    assert fused_info["profile"]["settings"]["fused_steps"] is True
    assert keras_info["profile"]["settings"]["fused_steps"] is False
    assert fused_history == keras_history and set(fused_history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(np.array_equal(a, b) for a, b in zip(fused_weights, keras_weights, strict=True))


class SendSignal(keras.callbacks.Callback):
    """Sends `signum` to this process at the end of execution `batch` of epoch `epoch`."""

    def __init__(self, epoch, batch, signum):
        super().__init__()
        self.at, self.signum, self.epoch, self.fired = (epoch, batch), signum, None, False

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at and not self.fired:
            self.fired = True
            signal.raise_signal(self.signum)


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"])
def test_a_signal_mid_epoch_then_resume_equals_the_uninterrupted_fused_run(
    cli, workdir, blobs_config, monkeypatch, signum, code
):
    assert cli("train", blobs_config, "--quiet", "-o", "full").exit_code == 0
    full = only_run(workdir / "full")
    original = build.make_callbacks
    sender = SendSignal(epoch=1, batch=49, signum=signum)  # the end of the 10th execution of 5 steps, mid-epoch
    monkeypatch.setattr(build, "make_callbacks", lambda *a, **k: original(*a, **k) + [sender])
    result = cli("train", blobs_config, "--quiet", "-o", "part")
    assert result.exit_code == code, result.output
    assert sender.fired and f"interrupted by {signum.name} after 1 completed epoch(s)" in result.stderr
    run = only_run(workdir / "part")
    monkeypatch.setattr(build, "make_callbacks", original)
    assert cli("train", "--resume", run, "--quiet").exit_code == 0
    resumed_info, resumed_history, resumed_weights = run_files(run)
    full_info, full_history, full_weights = run_files(full)
    assert resumed_info["resumed_from_epoch"] == 1 and resumed_info["profile"]["settings"]["fused_steps"] is True
    assert resumed_history == full_history
    assert all(np.array_equal(a, b) for a, b in zip(resumed_weights, full_weights, strict=True))
