"""`distribution:` and multi-process training through keras.distribution (JAX).

Training runs in subprocesses: the number of CPU devices
(`XLA_FLAGS=--xla_force_host_platform_device_count`) and the multi-process
runtime are fixed when JAX starts, so they cannot change inside this process.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from conftest import write_config

CONFIG = """\
name: dist
seed: 7
data:
  train: {path: data/iris.csv, y: species}
  validation: {split: 0.2}            # 120 training rows: every batch splits over 2 devices
model:
  layers:
    - {type: Dense, units: 8, activation: relu}
    - {type: Dense, units: 3, activation: softmax}
compile:
  optimizer: {type: Adam, learning_rate: 0.01}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
fit: {epochs: 2, batch_size: 16}
"""

LINE = CONFIG.count("\n") + 1  # where a test appends `distribution:`
TIMEOUT = 300


def _env(devices: int | None) -> dict:
    env = dict(os.environ, KERAS_BACKEND="jax")
    env.pop("XLA_FLAGS", None)
    for name in (
        "KERAS_DISTRIBUTION_JOB_ADDRESSES",
        "KERAS_DISTRIBUTION_NUM_PROCESSES",
        "KERAS_DISTRIBUTION_PROCESS_ID",
    ):
        env.pop(name, None)
    if devices:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    return env


def _kerascli(args, cwd, env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "kerascli", *map(str, args)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen) -> str:
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"kerascli did not finish in {TIMEOUT} s:\n{err[-3000:]}")
    assert process.returncode == 0, err[-3000:]
    return out


def _weights(run_dir):
    import keras

    return keras.saving.load_model(run_dir / "model.keras").get_weights()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the config section (no Keras) ------------------------------------------


@pytest.mark.parametrize(
    "section, location, message",
    [
        (
            "{type: data_paralel}",
            "distribution.type",
            "unknown distribution type 'data_paralel' (did you mean 'data_parallel'?)",
        ),
        ("{devices: [cpu:0]}", "distribution", "missing required key 'type'"),
        ("{type: data_parallel, devices: [gpu0]}", "distribution.devices[0]", "expected a device name such as gpu:0"),
        (
            "{type: data_parallel, device: [gpu:0]}",
            "distribution.device",
            "unknown key 'device' (did you mean 'devices'?)",
        ),
        (
            "{type: model_parallel, mesh: {shape: [2, 1], axis_names: [batch]}, layout: {'d.*': [null]}}",
            "distribution.mesh",
            "mesh.shape has 2 axes but axis_names has 1",
        ),
        (
            "{type: model_parallel, mesh: {shape: [1, 2], axis_names: [batch, model]}, layout: {'d.*': [null, modle]}}",
            "distribution.layout",
            "layout 'd.*' names axis 'modle', which is not a mesh axis",
        ),
        (
            "{type: model_parallel, mesh: {shape: [1, 2], axis_names: [batch, model]}, layout: {'d[': [null, model]}}",
            "distribution.layout",
            "layout key 'd[' is not a valid regular expression",
        ),
    ],
    ids=["type-typo", "no-type", "device-name", "unknown-key", "mesh-rank", "unknown-axis", "bad-regex"],
)
def test_invalid_distribution_section(cli, workdir, section, location, message):
    path = write_config(workdir, CONFIG + f"distribution: {section}\n")
    result = cli("validate", path)
    assert result.exit_code == 2
    assert f"config.yaml:{LINE}:" in result.output and f"{location}: {message}" in result.output


def test_distribution_needs_the_jax_backend(cli, workdir):
    path = write_config(workdir, CONFIG + "distribution: {type: data_parallel}\n")
    result = cli("train", path, "--backend", "torch", "--quiet")
    assert result.exit_code == 2
    assert (
        f"config.yaml:{LINE}:16: distribution.type: keras.distribution needs the jax backend, the run uses 'torch'"
        in result.output
    )
    assert not (workdir / "runs").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--num-processes", "2"], "missing: --coordinator, --process-id"),
        (
            ["--coordinator", "localhost", "--num-processes", "2", "--process-id", "0"],
            "--coordinator: expected HOST:PORT of process 0",
        ),
        (
            ["--coordinator", "127.0.0.1:1234", "--num-processes", "2", "--process-id", "2"],
            "--process-id: expected 0 to 1 (--num-processes 2), got 2",
        ),
    ],
    ids=["incomplete", "no-port", "id-out-of-range"],
)
def test_bad_multi_process_options(cli, workdir, args, message):
    path = write_config(workdir, CONFIG)
    result = cli("train", path, *args, "--quiet")
    assert result.exit_code == 2
    assert message in result.output


def test_multi_process_options_also_come_from_keras_environment_variables(cli, workdir, monkeypatch):
    monkeypatch.setenv("KERAS_DISTRIBUTION_NUM_PROCESSES", "2")
    result = cli("train", write_config(workdir, CONFIG), "--quiet")
    assert result.exit_code == 2
    assert "missing: --coordinator, --process-id" in result.output


def test_multi_process_needs_a_fixed_seed(cli, workdir):
    path = write_config(workdir, CONFIG.replace("seed: 7\n", ""))
    result = cli(
        "train", path, "--coordinator", "127.0.0.1:1234", "--num-processes", "2", "--process-id", "0", "--quiet"
    )
    assert result.exit_code == 2
    assert "multi-process training needs a fixed seed" in result.output


def test_layout_key_that_matches_no_variable_is_an_error(cli, workdir):
    """Keras would silently replicate the variable; kerascli refuses (1 CPU device: a 1x1 mesh)."""
    path = write_config(
        workdir,
        CONFIG
        + (
            "distribution:\n"
            "  type: model_parallel\n"
            "  mesh: {shape: [1, 1], axis_names: [batch, model]}\n"
            "  layout:\n"
            "    'dense_0/kernel': [null, model]\n"
            "    'dense_1/kernal': [model, null]\n"
        ),
    )
    result = cli("train", path, "--quiet")
    assert result.exit_code == 2, result.output
    assert (
        f"config.yaml:{LINE + 5}:5: distribution.layout.dense_1/kernal: layout key 'dense_1/kernal' matches no variable "
        "of the model"
    ) in result.output
    assert "(did you mean 'dense_1/kernel'?)" in result.output
    assert "dense_0/kernel" not in result.output.split("dense_1/kernal")[0]  # the matching key is fine
    assert not (workdir / "runs").exists()


def test_model_parallel_trains_and_records_the_distribution(cli, workdir):
    import keras

    path = write_config(
        workdir,
        CONFIG
        + (
            "distribution:\n"
            "  type: model_parallel\n"
            "  mesh: {shape: [1, 1], axis_names: [batch, model]}\n"
            "  layout: {'dense_.*/kernel': [null, model]}\n"
        ),
    )
    result = cli("train", path, "--quiet", "--json", "--set", "fit.epochs=1")
    assert result.exit_code == 0, result.output
    run_dir = workdir / json.loads(result.output)["run_dir"]
    info = json.loads((run_dir / "run.json").read_text())
    assert info["distribution"] == {"type": "model_parallel", "batch_axis_devices": 1, "processes": 1}
    assert keras.distribution.distribution() is None  # released after the run


def test_each_process_gets_an_equal_contiguous_shard_that_splits_over_its_devices(workdir):
    """103 rows, 2 processes x 2 devices: 50 rows each (a multiple of 2), 3 dropped."""
    from kerascli.data import Arrays
    from kerascli.engine import distribution
    from kerascli.run import validating as runner

    checked = runner.validate(write_config(workdir, CONFIG))
    doc, cfg = checked.doc, checked.cfg
    rows = Arrays({"x": np.arange(103.0)[:, None]}, {"y": np.arange(103)})
    shards = []
    for process_id in (0, 1):
        plan = distribution.Plan(doc, cfg, distribution.Cluster("127.0.0.1:1234", 2, process_id), "jax")
        plan.batch_axis_size = 4  # what `apply` finds: 2 processes x 2 local devices
        shards.append(plan.shard(rows, "train"))
        assert plan.rows_dropped == {"train": 3} and plan.local_batch(16) == 8
    assert [list(s.y["y"][[0, -1]]) for s in shards] == [[0, 49], [50, 99]]
    assert plan.writer is False


# -- training on several devices and processes --------------------------------


def test_data_parallel_on_two_devices_matches_one_device(cli, workdir):
    """Same seed, same global batch: 2-device data parallel ends with the same weights.

    The 2-device run is a real `kerascli train` with the progress display on
    (it overrides `on_train_batch_end`, see KERAS_NOTES "Distribution"); the
    1-device run trains in this process meanwhile.
    """
    write_config(workdir, CONFIG, "single.yaml")
    write_config(workdir, CONFIG + "distribution: {type: data_parallel}\n", "parallel.yaml")
    parallel = _kerascli(["train", "parallel.yaml", "--output-dir", "parallel"], workdir, _env(devices=2))
    result = cli("train", "single.yaml", "--output-dir", "single")
    assert result.exit_code == 0, result.output
    _finish(parallel)
    (single_dir,) = (workdir / "single" / "dist").iterdir()
    (parallel_dir,) = (workdir / "parallel" / "dist").iterdir()
    info = json.loads((parallel_dir / "run.json").read_text())
    assert info["distribution"] == {"type": "data_parallel", "batch_axis_devices": 2, "processes": 1}
    assert "distribution" not in json.loads((single_dir / "run.json").read_text())
    for a, b in zip(_weights(single_dir), _weights(parallel_dir), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    history = [json.loads((d / "history.json").read_text()) for d in (single_dir, parallel_dir)]
    np.testing.assert_allclose(history[0]["loss"], history[1]["loss"], rtol=1e-4)


def test_two_processes_train_together_and_only_process_0_writes(workdir):
    # A Normalization without state: both processes adapt it on all 96 training rows, not their 48-row shard.
    write_config(
        workdir,
        CONFIG.replace("    - {type: Dense, units: 8", "    - {type: Normalization}\n    - {type: Dense, units: 8"),
    )
    port = _free_port()
    env = _env(devices=None)
    processes = [
        _kerascli(
            [
                "train",
                "config.yaml",
                "--json",
                "--coordinator",
                f"127.0.0.1:{port}",
                "--num-processes",
                "2",
                "--process-id",
                str(i),
            ],
            workdir,
            env,
        )
        for i in (0, 1)
    ]
    # JAX's CPU collectives (Gloo) print a connection line on stdout before kerascli's JSON.
    first, second = (json.loads(out[out.index("{") :]) for out in map(_finish, processes))
    assert second["run_dir"] is None
    (run_dir,) = (workdir / "runs" / "dist").iterdir()  # one run directory, from process 0
    assert first["run_dir"] == str(run_dir.relative_to(workdir))
    assert first["metrics"] == pytest.approx(second["metrics"], rel=1e-6)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "completed"
    assert info["distribution"] == {
        "type": "data_parallel",
        "batch_axis_devices": 2,
        "processes": 2,
        "coordinator": f"127.0.0.1:{port}",
    }
    history = json.loads((run_dir / "history.json").read_text())
    assert len(history["loss"]) == 2 and np.isfinite(history["loss"]).all()
    assert [(record["class"], record["rows"]) for record in info["adapted"]] == [("Normalization", 96)]
