"""`kerascli tune` end to end on Iris: trials as runs, best.yaml, resume, pruning, --jobs, bad spaces."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import write_config

IRIS = """\
name: iris
seed: 42
data:
  train: {path: data/iris.csv, x: [sepal_length, sepal_width, petal_length, petal_width], y: species}
  validation: {split: 0.3}
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
# Two params; the activation changes the compiled program, the learning rate does not (cheap trials).
SPACE = """\
tune:
  space:
    compile.optimizer.learning_rate: {loguniform: [1.0e-3, 1.0e-1]}
    model.layers[0].activation: {choice: [relu, tanh]}
  sampler: random
"""


def trials_of(db: Path) -> list[tuple[int, str]]:
    """(number, state) of every trial in the study's SQLite file, read without Optuna."""
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT number, state FROM trials ORDER BY number").fetchall()


def trial_dirs(workdir: Path) -> list[Path]:
    return sorted((workdir / "runs" / "iris" / "tune" / "iris").glob("trial-*"))


@pytest.mark.slow
def test_random_search_writes_a_run_per_trial_and_a_best_yaml_that_trains(cli, workdir):
    config = write_config(workdir, IRIS + SPACE, "iris.yaml")
    result = cli("tune", config, "--trials", "6", "--quiet")
    assert result.exit_code == 0, result.output
    runs = trial_dirs(workdir)
    assert [r.name for r in runs] == [f"trial-{i:04d}" for i in range(6)]
    for run in runs:
        info = json.loads((run / "run.json").read_text())
        assert info["status"] == "completed" and (run / "model.keras").is_file()
        assert info["tune"]["study"] == "iris" and info["tune"]["state"] in ("complete", "pruned")
        assert set(info["tune"]["params"]) == {"compile.optimizer.learning_rate", "model.layers[0].activation"}
    best = workdir / "runs" / "iris" / "tune" / "iris" / "best.yaml"
    infos = {r.name: json.loads((r / "run.json").read_text())["tune"] for r in runs}
    values = {name: info["value"] for name, info in infos.items() if info["state"] == "complete"}
    best_run = min(values, key=values.get)
    best_config = yaml.safe_load(best.read_text())
    trained = yaml.safe_load((runs[int(best_run[-4:])] / "config.yaml").read_text())
    assert best_config == trained and "tune" not in best_config
    assert f"best: trial {int(best_run[-4:])}" in result.output
    again = cli("train", best, "--quiet", "--output-dir", workdir / "again")
    assert again.exit_code == 0, again.output
    assert len(list((workdir / "again" / "iris").iterdir())) == 1
    report = cli("tune", config, "--report", "--json")
    assert report.exit_code == 0, report.output
    found = json.loads(report.stdout)
    assert set(found["importances"]) == {"compile.optimizer.learning_rate", "model.layers[0].activation"}
    assert abs(sum(found["importances"].values()) - 1) < 1e-6
    assert Path(found["history_png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_sigint_stops_after_the_trial_and_resume_completes_the_rest(cli, workdir):
    config = write_config(
        workdir, IRIS + SPACE.replace("sampler: random", "sampler: random\n  pruner: none"), "iris.yaml"
    )
    db = workdir / "runs" / "iris" / "tune.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "kerascli", "tune", str(config), "--trials", "4", "--quiet"],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if db.exists() and sum(state == "COMPLETE" for _, state in _quietly(trials_of, db)) >= 2:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=240)
    assert process.returncode == 130, err
    assert "continue with: kerascli tune" in err and "--resume" in err
    first = trials_of(db)
    assert 2 <= len(first) < 4 and all(state == "COMPLETE" for _, state in first), (first, _errors(db), err[-400:])
    result = cli("tune", config, "--trials", "4", "--resume", "--quiet")
    assert result.exit_code == 0, result.output
    assert trials_of(db) == [(i, "COMPLETE") for i in range(4)]
    assert [r.name for r in trial_dirs(workdir)] == [f"trial-{i:04d}" for i in range(4)]
    again = cli("tune", config, "--trials", "4", "--quiet")  # the study exists: not without --resume
    assert again.exit_code == 2 and "already exists" in again.stderr


def _errors(db: Path) -> list[tuple[int, str, str]]:
    """(trial id, key, value) of the attributes that say why a trial did not complete (`error`, `interrupted`)."""
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT trial_id, key, value_json FROM trial_user_attributes WHERE key IN ('error', 'interrupted')"
        ).fetchall()


def _quietly(read, db):
    try:
        return read(db)
    except sqlite3.Error:  # the schema is being created
        return []


@pytest.mark.slow
def test_a_trial_that_does_not_learn_is_pruned_one_that_diverges_fails(cli, workdir):
    # Zero output weights start every trial at loss ln(3) = 1.0986; a learning rate of 1e-9 stays there and is
    # pruned from epoch 2 on by a threshold below it, the learning one drops under it and completes. Two output
    # units for three classes is a combination train refuses: those trials fail with its message, the study goes on.
    text = IRIS.replace(
        "{type: Dense, units: 3, activation: softmax}",
        "{type: Dense, units: 3, activation: softmax, kernel_initializer: zeros}",
    )
    text = text.replace("epochs: 2", "epochs: 4")
    space = (
        "tune:\n  space:\n    compile.optimizer.learning_rate: {choice: [0.05, 1.0e-9]}\n"
        "    model.layers[1].units: {choice: [3, 2]}\n"
        "  sampler: grid\n  pruner: {type: ThresholdPruner, upper: 1.09, n_warmup_steps: 1}\n"
    )
    config = write_config(workdir, text + space, "iris.yaml")
    result = cli("tune", config, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    trials = {tuple(t["params"].values()): t for t in summary["trials"]}
    assert trials[1e-9, 3]["state"] == "pruned" and trials[0.05, 3]["state"] == "complete"
    assert trials[1e-9, 3]["note"] == "pruned after epoch 2"
    for failed in (trials[0.05, 2], trials[1e-9, 2]):
        assert failed["state"] == "failed" and "outside the model's 2 classes" in failed["note"], failed
    run = workdir / "runs" / "iris" / "tune" / "iris" / f"trial-{trials[1e-9, 3]['number']:04d}"
    assert json.loads((run / "run.json").read_text())["tune"]["state"] == "pruned"
    assert len(json.loads((run / "history.json").read_text())["loss"]) == 2  # stopped after epoch 2 of 4


@pytest.mark.slow
def test_two_jobs_run_two_processes_on_one_sqlite_file(cli, workdir):
    config = write_config(workdir, IRIS + SPACE, "iris.yaml")
    result = cli("tune", config, "--trials", "4", "--jobs", "2", "--quiet")
    assert result.exit_code == 0, result.output + result.stderr
    assert "locked" not in result.output + result.stderr
    db = workdir / "runs" / "iris" / "tune.db"
    assert trials_of(db) == [(i, "COMPLETE") for i in range(4)]
    workers, cpus = {}, {}
    for run in trial_dirs(workdir):
        info = json.loads((run / "run.json").read_text())
        start, seconds = info["tune"]["started"], info["timings"]["total"]
        workers.setdefault(info["tune"]["worker"], []).append((start, start + seconds))
        cpus[info["tune"]["worker"]] = set(info["tune"]["cpus"])
    assert sorted(workers) == [0, 1]
    if len(os.sched_getaffinity(0)) >= 2:  # each pinned to its own share of the cores
        assert not cpus[0] & cpus[1], cpus
    spans = [(min(a for a, _ in runs), max(b for _, b in runs)) for runs in workers.values()]
    assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1], "the two workers did not run at the same time"


def test_a_bad_space_file_is_exit_2_at_its_line_and_writes_nothing(cli, workdir):
    config = write_config(workdir, IRIS, "iris.yaml")
    space = workdir / "space.yaml"
    space.write_text("space:\n  model.layers[0].units: {uniform: [4, 32]}\n  fit.epochs: {choice: []}\n")
    result = cli("tune", config, "--space", space)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{space}:2:3: model.layers[0].units: {{uniform: [4, 32]}} gives floats, but 'units' of Dense takes an "
        "integer (use {int: [4, 32]})",
        f"{space}:3:16: fit.epochs: expected a non-empty list of values, got an empty list",
    ]
    assert not (workdir / "runs").exists()


def test_an_unknown_optuna_class_is_exit_2_at_its_line(cli, workdir):
    text = IRIS + SPACE + "  pruner: {type: MedianPrunr, n_startup_trials: 1}\n"
    config = write_config(workdir, text, "iris.yaml")
    result = cli("tune", config)
    assert result.exit_code == 2
    line = len(text.splitlines())
    assert result.stderr.splitlines() == [
        f"{config}:{line}:3: tune.pruner: 'MedianPrunr' is not an Optuna pruner (did you mean 'MedianPruner'?)"
    ]
    assert not (workdir / "runs").exists()


def test_workers_share_the_cores_and_the_missing_trials():
    from kerascli.run.tune.workers import cpu_shares, quotas

    assert cpu_shares(2, [0, 1, 2, 3]) == [[0, 1], [2, 3]]
    assert cpu_shares(3, [0, 1, 2, 3, 4]) == [[0, 1], [2, 3], [4]]
    assert cpu_shares(3, [0, 1]) == [[0], [1], [0]]
    assert quotas(7, 3) == [3, 2, 2] and quotas(1, 2) == [1, 0]
