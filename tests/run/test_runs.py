"""`kerascli runs` and `kerascli diff` over real runs: statuses, varied keys, filters, exact differences; `plot A B`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import pytest
from conftest import write_config

from kerascli.engine.keras_import import load_keras
from kerascli.model import callbacks as build
from kerascli.run import runs_table

keras = load_keras()

CONFIG = """\
name: exp
seed: 7
data:
  train: {path: data/iris.csv, y: species}
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


class Interrupt(keras.callbacks.Callback):
    """Sends this process SIGINT after the first batch of the second epoch (one epoch completed)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == 1 and batch == 0:
            os.kill(os.getpid(), signal.SIGINT)


def _runs_json(cli, *args):
    result = cli("runs", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.slow
def test_runs_shows_completed_interrupted_and_failed_runs_and_what_varied(cli, workdir, monkeypatch):
    config = write_config(workdir, CONFIG)
    assert cli("train", config, "--quiet").exit_code == 0
    original = build.make_callbacks
    monkeypatch.setattr(build, "make_callbacks", lambda *a, **k: original(*a, **k) + [Interrupt()])
    assert cli("train", config, "--quiet", "--set", "compile.optimizer.learning_rate=0.02").exit_code == 130
    monkeypatch.setattr(build, "make_callbacks", original)
    diverging = [
        "--set",
        "compile.optimizer={type: SGD, learning_rate: 1.0e+30}",
        "--set",
        "fit.callbacks=[{type: TerminateOnNaN}]",
    ]
    assert cli("train", config, "--quiet", *diverging).exit_code == 1

    listed = _runs_json(cli)
    assert [(r["status"], r["epochs"]) for r in listed] == [("completed", 2), ("interrupted", 1), ("failed", 0)]
    assert [r["varied"]["compile.optimizer.learning_rate"] for r in listed] == [0.01, 0.02, 1e30]
    assert [r["varied"]["compile.optimizer.type"] for r in listed] == ["Adam", "Adam", "SGD"]
    # fit.callbacks is [] in two runs and a list of one in the third: one varied key, not one per item
    assert set(listed[0]["varied"]) == {"compile.optimizer.type", "compile.optimizer.learning_rate", "fit.callbacks"}
    assert set(listed[0]["metrics"]) == {"loss", "accuracy"} and len(listed[1]["metrics"]) == 2

    table = cli("runs").stdout
    assert "3 runs" in table and "compile.optimizer.learning_rate" in table
    assert all(status in table for status in ("completed", "interrupted", "failed"))

    assert [r["status"] for r in _runs_json(cli, "--status", "failed", "--status", "interrupted")] == [
        "interrupted",
        "failed",
    ]
    assert [
        r["varied"]["compile.optimizer.learning_rate"]
        for r in _runs_json(cli, "--sort", "compile.optimizer.learning_rate", "-r")
    ] == [1e30, 0.02, 0.01]
    assert len(_runs_json(cli, "--since", "1h")) == 3 and _runs_json(cli, "--since", "2099-01-01") == []
    assert _runs_json(cli, "--name", "ex?") != [] and _runs_json(cli, "--name", "other*") == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--status", "done"], "--status: expected one of completed, interrupted, failed, running, died, got 'done'"),
        (
            ["--since", "yesterday"],
            "--since: expected a date (2026-12-01), a time (2026-12-01T10:00) or an age (30m, 6h, 2d), got 'yesterday'",
        ),
        (["--sort", "val_los"], "--sort: no run has 'val_los'; expected a column, a metric or a config key"),
        (["nowhere"], "no such runs directory: nowhere"),
    ],
    ids=["status", "since", "sort", "directory"],
)
def test_runs_usage_errors(cli, workdir, args, message):
    _fake_run(workdir / "runs" / "a" / "20261201-100000", {"status": "completed"}, {"loss": [1.0]})
    result = cli("runs", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message)


def _fake_run(run_dir, info, history=None, config=None):
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps({"config": config or {"name": run_dir.parent.name}, **info}))
    if history is not None:
        (run_dir / "history.json").write_text(json.dumps(history))
    return run_dir


def test_a_running_run_whose_process_is_gone_has_died(workdir):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(gone.stdout)
    here = {"host": socket.gethostname()}
    _fake_run(workdir / "runs" / "a" / "20261201-100000", {"status": "running", "process": {**here, "pid": pid}})
    _fake_run(
        workdir / "runs" / "b" / "20261201-100000", {"status": "running", "process": {**here, "pid": os.getpid()}}
    )
    _fake_run(
        workdir / "runs" / "c" / "20261201-100000", {"status": "running", "process": {"host": "elsewhere", "pid": pid}}
    )
    assert [r.status for r in runs_table.read_runs(workdir / "runs")] == ["died", "running", "running"]


@pytest.mark.slow
def test_diff_lists_exactly_the_learning_rate_and_the_changed_data_file(cli, workdir):
    config = write_config(workdir, CONFIG)
    assert cli("train", config, "--quiet").exit_code == 0
    data = workdir / "data" / "iris.csv"
    text = data.read_text()
    changed = text.replace("6.7,3.0,5.0,1.7", "6.8,3.0,5.0,1.7", 1)  # one value, same size
    assert changed != text and len(changed) == len(text)
    data.write_text(changed)
    assert cli("train", config, "--quiet", "--set", "compile.optimizer.learning_rate=0.001").exit_code == 0
    run_a, run_b = sorted((workdir / "runs" / "exp").iterdir())

    result = cli("diff", run_a, run_b, "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["config"] == [{"key": "compile.optimizer.learning_rate", "a": 0.01, "b": 0.001}]
    assert [d["key"] for d in found["data"]] == ["data.train.path"]
    assert found["data"][0]["a"]["sha256"] != found["data"][0]["b"]["sha256"]
    assert found["versions"] == []
    metrics = {m["metric"]: m for m in found["metrics"]}
    assert set(metrics) == {"loss", "accuracy"}
    assert metrics["loss"]["delta"] == pytest.approx(metrics["loss"]["b"] - metrics["loss"]["a"])

    text = cli("diff", run_a, run_b).stdout
    assert "compile.optimizer.learning_rate: 0.01 → 0.001" in text
    assert "versions: same" in text and "data.train.path:" in text

    result = cli("plot", run_a, run_b)
    assert result.exit_code == 0, result.output
    assert (workdir / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = cli("plot", run_a, run_b)
    assert again.exit_code == 2 and "learning_curves.png exists; pass --force" in again.stderr
    assert cli("plot", run_a, run_b, "--force").exit_code == 0


def test_diff_of_a_directory_that_is_not_a_run(cli, workdir):
    (workdir / "empty").mkdir()
    result = cli("diff", "empty", "empty")
    assert result.exit_code == 2
    assert result.stderr.strip() == "empty is not a run directory (no run.json in it or below it)"


def test_runs_reads_a_hostile_config_yaml_with_the_bounded_parser(cli, workdir):
    # A run directory is data too: its config.yaml is parsed with the config's limits (nesting,
    # aliases, tags), so a damaged or hostile one shows as a run without settings, not a traceback.
    hostile = {
        "20260101-000000": "a: " + "[" * 5000 + "]" * 5000 + "\n",
        "20260101-000001": "a: !!python/name:os.system\n",
    }
    for stamp, text in hostile.items():
        run = workdir / "runs" / "exp" / stamp
        run.mkdir(parents=True)
        (run / "run.json").write_text(json.dumps({"status": "completed", "name": "exp", "epochs": 1}))
        (run / "config.yaml").write_text(text)
    rows = _runs_json(cli, "runs")
    assert [row["status"] for row in rows] == ["completed", "completed"]


@pytest.mark.parametrize("run_json", ["[1, 2]", '"text"', "3"], ids=["list", "string", "number"])
def test_a_run_json_that_is_no_object_is_one_line(cli, workdir, run_json):
    good = _fake_run(workdir / "runs" / "a" / "20261201-100000", {"status": "completed"}, {"loss": [1.0]})
    bad = workdir / "runs" / "a" / "20261201-100001"
    bad.mkdir()
    (bad / "run.json").write_text(run_json)
    assert len(_runs_json(cli, "runs")) == 1  # the damaged one is skipped, as an unreadable one is
    result = cli("diff", bad, good)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().startswith(f"{bad / 'run.json'}: holds ")
    assert result.stderr.strip().endswith("expected a JSON object; the run directory is damaged")


@pytest.mark.parametrize("history", ["[1]", '{"loss": 3}'], ids=["list", "scalar"])
def test_plot_of_a_history_json_of_the_wrong_shape_is_one_line(cli, workdir, history):
    run = _fake_run(workdir / "runs" / "a" / "20261201-100000", {"status": "completed"})
    (run / "config.yaml").write_text("name: a\nmodel: {layers: [{type: Dense, units: 1}]}\n")
    (run / "model.keras").write_bytes(b"")
    (run / "history.json").write_text(history)
    result = cli("plot", run, "-o", workdir / "p.png")
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (workdir / "p.png").exists()
