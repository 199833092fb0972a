"""SIGINT/SIGTERM at any moment: exit 130/143, run.json "interrupted", a checkpoint that resumes — every time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import keras  # noqa: F401 - imported before any signal: an import cut short would break later tests
import numpy as np
import pytest
from conftest import write_config

import kerascli.model.callbacks  # noqa: F401 - likewise (the train command imports them lazily)
import kerascli.run.fitting
import kerascli.run.train

CONFIG = """\
name: sig
seed: 3
data:
  train: {path: data/iris.csv, y: species}
  validation: {split: 0.3}
model:
  layers:
    - {type: Dense, units: 8, activation: relu}
    - {type: Dropout, rate: 0.3}
    - {type: Dense, units: 3, activation: softmax}
compile:
  optimizer: {type: Adam, learning_rate: 0.01}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
fit: {epochs: 3000, batch_size: 4}
"""
SIGNALS = (signal.SIGINT, signal.SIGTERM)


@pytest.fixture
def harmless_signals():
    """SIGINT/SIGTERM do nothing to pytest itself while the test runs (the commands install their own)."""
    previous = {s: signal.signal(s, lambda *a: None) for s in SIGNALS}
    yield
    for s, handler in previous.items():
        signal.signal(s, handler)


@pytest.mark.slow
def test_twenty_signals_at_random_moments_always_stop_cleanly(cli, workdir, harmless_signals, monkeypatch):
    # Before the fix, 9 of 20 such signals ended in "training failed: ... Buffer has been deleted or
    # donated" (exit 1, run.json "failed"): the checkpoint callback read `self.model` on Keras'
    # callback thread, which on JAX syncs the training state mid-step.
    config = write_config(workdir, CONFIG)
    rng = np.random.default_rng(15)
    senders = []

    def arming(phase):  # starts the clock when `phase` starts
        def run(*args, **kwargs):
            if senders[-1][0] is phase:
                senders[-1][1].start()
            return phase(*args, **kwargs)

        return run

    plan, fit = kerascli.run.train.plan, kerascli.run.fitting._fit
    monkeypatch.setattr(kerascli.run.train, "plan", arming(plan))
    monkeypatch.setattr(kerascli.run.fitting, "_fit", arming(fit))
    resumable = []
    for i in range(20):
        signum = int(rng.choice(SIGNALS))
        # Half from the start of `train` (config checks, build, compile, run directory),
        # half from the start of `fit` (batches, validation, checkpoint writes).
        phase = plan if i % 2 == 0 else fit
        senders.append((phase, threading.Timer(float(rng.uniform(0.0, 1.5)), os.kill, (os.getpid(), signum))))
        result = cli("train", config, "--quiet", "-o", f"r{i}")
        senders[-1][1].join()
        assert result.exit_code == 128 + signum, (i, signum, result.output)
        assert "Traceback" not in result.output and "training failed" not in result.output
        runs = list((workdir / f"r{i}").glob("sig/*"))
        if not runs:  # stopped before the run directory existed: nothing written
            assert f"interrupted by {signal.Signals(signum).name}" in result.stderr
            continue
        info = json.loads((runs[0] / "run.json").read_text())
        assert info["status"] == "interrupted", (i, info)
        history = json.loads((runs[0] / "history.json").read_text()) if (runs[0] / "history.json").exists() else {}
        assert all(len(v) == info["epochs"] for v in history.values())
        if info["epochs"] >= 1:
            assert (runs[0] / "checkpoint" / "checkpoint.json").is_file()
            resumable.append((runs[0], info["epochs"]))
    assert resumable, "no signal landed after a completed epoch; widen the delays"
    run, done = resumable[-1]
    monkeypatch.undo()  # no more signals
    result = cli("train", "--resume", run, "--quiet", "--set", f"fit.epochs={done + 1}")
    assert result.exit_code == 0, result.output
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and info["resumed_from_epoch"] == done and info["epochs"] == done + 1


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "kerascli", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )


def _wait_for_line(process: subprocess.Popen, text: str) -> list[str]:
    lines = []
    for line in process.stderr:
        lines.append(line)
        if text in line:
            return lines
    pytest.fail(f"never printed {text!r}: {''.join(lines)}")


@pytest.mark.slow
def test_a_second_ctrl_c_while_exiting_prints_no_traceback(workdir):
    config = write_config(workdir, CONFIG)
    process = _start(["train", str(config)], workdir)
    try:
        _wait_for_line(process, "epoch 1/")
        process.send_signal(signal.SIGINT)
        lines = _wait_for_line(process, "interrupted by SIGINT after")
        process.send_signal(signal.SIGINT)  # while Python and JAX shut down (atexit)
        lines += process.stderr.readlines()
        assert process.wait(timeout=60) == 130
    finally:
        process.kill()
    stderr = "".join(lines)
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    run = next(workdir.glob("runs/sig/*"))
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"


@pytest.mark.slow
def test_sigterm_during_predict_exits_143_and_writes_nothing(cli, workdir):
    config = write_config(workdir, CONFIG.replace("epochs: 3000", "epochs: 1"))
    assert cli("train", config, "--quiet").exit_code == 0
    rows = np.random.default_rng(0).normal(size=(3_000_000, 4)).astype(np.float32)
    np.save(workdir / "many.npy", rows)
    process = _start(["predict", "--input", "many.npy", "--output", "out.csv", "--batch-size", "4096"], workdir)
    try:
        while process.poll() is None and not list(workdir.glob(".out*")):
            threading.Event().wait(0.02)  # the temporary predictions file exists: predicting
        process.send_signal(signal.SIGTERM)
        stderr = process.stderr.read()
        assert process.wait(timeout=60) == 143, stderr
    finally:
        process.kill()
    assert "interrupted by SIGTERM" in stderr and "Traceback" not in stderr
    assert not (workdir / "out.csv").exists() and not list(workdir.glob(".out*"))


def test_a_signal_inside_a_finaliser_prints_no_traceback(monkeypatch):
    # A signal that lands while Python runs a finaliser (a weakref callback of importlib's module
    # locks, while `import keras` runs) raises there; Python printed "Exception ignored in:
    # <function _get_module_lock.<locals>.cb>" and a traceback. The signal is kept for the guard.
    from kerascli.run import signals

    class Finalised:
        def __del__(self):
            signals._raise_first(signal.SIGINT, None)  # the handler, run inside the finaliser

    printed = []  # what Python's hook would print as "Exception ignored in: ..."
    monkeypatch.setattr(sys, "unraisablehook", printed.append)
    with pytest.raises(KeyboardInterrupt):  # and the command does not end as if no signal came
        with signals.command_signals():
            obj = Finalised()
            del obj
            with signals.SignalGuard() as guard:
                assert guard.stopped  # the swallowed signal still stops the run
    assert [u.exc_type for u in printed] == []


def test_a_swallowed_signal_stops_predict_before_it_writes(cli, workdir, monkeypatch):
    # A signal whose KeyboardInterrupt a finaliser swallowed (during `import keras`) must not end in exit 0.
    from kerascli.run import inference, signals

    config = write_config(workdir, CONFIG.replace("epochs: 3000", "epochs: 1"))
    assert cli("train", config, "--quiet").exit_code == 0
    original = inference.open_run

    def open_then_swallow(*args):
        ctx = original(*args)
        signals._seen["signum"] = signal.SIGTERM  # what `_raise_first` records before its raise is swallowed
        return ctx

    monkeypatch.setattr(inference, "open_run", open_then_swallow)
    result = cli("predict", "--output", "out.csv")
    assert result.exit_code == 143 and "interrupted by SIGTERM" in result.stderr
    assert not (workdir / "out.csv").exists()
