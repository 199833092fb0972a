"""Fast defaults (kerascli.engine.speed) and the `--profile` report (kerascli.run.profiling)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import write_config

from kerascli.engine import keras_import, speed


def test_auto_steps_per_execution_keeps_progress_live():
    assert speed.steps_per_execution("auto", "jax", steps=3125) == speed.MAX_AUTO_STEPS
    assert speed.steps_per_execution("auto", "jax", steps=100) == 5  # 20 progress updates per epoch
    assert speed.steps_per_execution("auto", "jax", steps=7) == 1
    assert speed.steps_per_execution("auto", "tensorflow", steps=3125) == speed.MAX_AUTO_STEPS


def test_explicit_steps_per_execution_is_kept():
    assert speed.steps_per_execution(1, "jax", steps=3125) == 1
    assert speed.steps_per_execution(64, "jax", steps=7) == 64


def test_auto_is_one_where_more_would_change_behaviour():
    import keras

    assert speed.steps_per_execution("auto", "torch", steps=3125) == 1  # torch rejects > 1
    # ModelCheckpoint counts batches through its batch hook; EarlyStopping has none.
    assert speed.steps_per_execution("auto", "jax", 3125, [keras.callbacks.ModelCheckpoint]) == 1
    assert speed.steps_per_execution("auto", "jax", 3125, [keras.callbacks.EarlyStopping]) == speed.MAX_AUTO_STEPS


def test_steps_per_epoch_rounds_up_or_takes_the_request():
    assert speed.steps_per_epoch(105, 16) == 7
    assert speed.steps_per_epoch(100_000, 128) == 782
    assert speed.steps_per_epoch(100_000, 128, requested=10) == 10


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(keras_import.CACHE_ENV, str(tmp_path / "xla"))
    monkeypatch.delenv(keras_import.CACHE_SWITCH_ENV, raising=False)
    assert keras_import.cache_dir() == tmp_path / "xla"
    monkeypatch.setenv(keras_import.CACHE_SWITCH_ENV, "0")
    assert keras_import.cache_dir() is None


def test_profile_prints_phases_and_run_json_records_them(cli, iris_config, workdir, capsys):
    result = cli("train", iris_config, "--set", "fit.epochs=3", "--quiet", "--profile")
    assert result.exit_code == 0, result.output
    assert (
        "profile (seconds)" in result.output and "compile" in result.output and "steps_per_execution=1" in result.output
    )
    run = next((workdir / "runs" / "iris").iterdir())
    info = json.loads((run / "run.json").read_text())
    profile = info["profile"]
    assert len(profile["epoch_seconds"]) == 3
    assert profile["settings"]["steps_per_execution"] == 1  # 7 steps per epoch: too few to group
    assert profile["first_epoch"] == profile["epoch_seconds"][0]
    assert {"steady_epoch", "compile_estimate", "samples_per_second"} <= set(profile)
    assert {"validate", "import", "load_data", "build", "fit", "evaluate", "save", "total"} <= set(info["timings"])
    # The final validation metrics are the last epoch's (no second pass over the data).
    history = json.loads((run / "history.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())["validation"]
    assert metrics == {"loss": history["val_loss"][-1], "accuracy": history["val_accuracy"][-1]}


@pytest.mark.parametrize("spe, expected", [("auto", 4), ("1", 1)])
def test_auto_steps_per_execution_trains_and_is_recorded(cli, workdir, spe, expected):
    rng = np.random.default_rng(0)
    np.savez(workdir / "blobs.npz", x=rng.normal(size=(1280, 4)), y=rng.integers(0, 2, size=1280))
    config = write_config(
        workdir,
        (
            "seed: 1\n"
            "data:\n  train: {path: blobs.npz}\n"
            "model:\n  layers:\n    - {type: Dense, units: 1, activation: sigmoid}\n"
            "compile: {optimizer: adam, loss: binary_crossentropy}\n"
            "fit: {epochs: 2, batch_size: 16}\n"
        ),
    )
    result = cli("train", config, "--set", f"compile.steps_per_execution={spe}", "--json")
    assert result.exit_code == 0, result.output
    run = next((workdir / "runs" / "config").iterdir())
    info = json.loads((run / "run.json").read_text())
    assert info["profile"]["settings"]["steps_per_execution"] == expected  # 80 steps // 20 updates = 4
    assert len(json.loads((run / "history.json").read_text())["loss"]) == 2
    assert f"steps_per_execution: {spe}" in (run / "config.yaml").read_text()


def test_steps_per_execution_rejects_other_words(cli, iris_config):
    result = cli("validate", iris_config, "--set", "compile.steps_per_execution=fast")
    assert result.exit_code == 2
    assert "compile.steps_per_execution" in result.output


@pytest.fixture
def pool_data(workdir):
    from kerascli.engine import jax_pool

    rng = np.random.default_rng(0)
    np.savez(workdir / "images.npz", x=rng.random((64, 4, 4, 1)), y=rng.integers(0, 2, size=64))
    jax_pool.disable()
    jax_pool.reset_counts()
    yield write_config(
        workdir,
        (
            "seed: 1\n"
            "data:\n  train: {path: images.npz}\n"
            "model:\n  layers:\n    - {type: MaxPooling2D, pool_size: 2}\n    - {type: Flatten}\n"
            "    - {type: Dense, units: 1, activation: sigmoid}\n"
            "compile: {optimizer: adam, loss: binary_crossentropy}\n"
            "fit: {epochs: 1, batch_size: 32}\n"
        ),
    )
    jax_pool.disable()
    jax_pool.reset_counts()


@pytest.mark.parametrize(
    "override, env, expected",
    [
        ((), None, True),
        (("--set", "compile.fast_pool=false"), None, False),
        ((), "0", False),
    ],
    ids=["default-on", "config-off", "env-off"],
)
def test_fast_pool_follows_config_and_env(cli, workdir, pool_data, monkeypatch, override, env, expected):
    from kerascli.engine import jax_pool

    if env is not None:
        monkeypatch.setenv(jax_pool.ENV_VAR, env)
    result = cli("train", pool_data, "--quiet", *override)
    assert result.exit_code == 0, result.output
    run = next((workdir / "runs" / "config").iterdir())
    assert json.loads((run / "run.json").read_text())["profile"]["settings"]["fast_pool"] is expected
    assert (jax_pool.call_counts()["fast"] > 0) is expected  # the model's pool was traced on the fast path


def test_xla_flags_are_appended_only_where_known(monkeypatch):
    import sys

    monkeypatch.delitem(sys.modules, "jax", raising=False)  # as before JAX starts
    monkeypatch.delenv(keras_import.XLA_SWITCH_ENV, raising=False)
    monkeypatch.setenv("XLA_FLAGS", "--xla_user_flag=1")
    flag = keras_import.XLA_CPU_FLAGS["0.10."][0]
    assert keras_import.add_xla_flags("jax", "0.12.0") == []  # unknown there: could abort the process
    assert keras_import.add_xla_flags("tensorflow", "0.10.2") == []
    assert keras_import.add_xla_flags("jax", "0.10.2") == [flag]
    assert keras_import.add_xla_flags("jax", "0.10.2") == []  # never twice
    import os

    assert os.environ["XLA_FLAGS"] == f"--xla_user_flag=1 {flag}"  # the user's flags stay
    monkeypatch.setenv("XLA_FLAGS", "")
    monkeypatch.setenv(keras_import.XLA_SWITCH_ENV, "0")
    assert keras_import.add_xla_flags("jax", "0.10.2") == []
