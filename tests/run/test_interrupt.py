"""Ctrl-C / SIGTERM during fit, resume, failing runs, and SIGKILL at any moment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import write_config

from kerascli.model import callbacks as build
from kerascli.run import interrupt

CONFIG = """\
name: res
seed: 7
data:
  train: {path: data/iris.csv, y: species}
model:
  layers:
    - {type: Dense, units: 8, activation: relu}
    - {type: Dropout, rate: 0.3}
    - {type: Dense, units: 3, activation: softmax}
compile:
  optimizer: {type: Adam, learning_rate: 0.01}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
fit: {epochs: 2, batch_size: 16}
"""


class SendSignal(keras.callbacks.Callback):
    """Sends `signum` to this process `times` times after batch `batch` of epoch `epoch`."""

    def __init__(self, epoch, batch, signum=signal.SIGINT, times=1):
        super().__init__()
        self.at, self.signum, self.times = (epoch, batch), signum, times
        self.epoch = None
        self.fired = False

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at and not self.fired:
            self.fired = True
            for _ in range(self.times):
                os.kill(os.getpid(), self.signum)


@pytest.fixture
def send_signal(monkeypatch):
    """Makes the next `train` send itself a signal mid-fit (once)."""

    def arm(epoch, batch, signum=signal.SIGINT):
        sender = SendSignal(epoch, batch, signum)
        original = build.make_callbacks
        monkeypatch.setattr(build, "make_callbacks", lambda *a, **k: original(*a, **k) + [sender])

    return arm


def only_run(base: Path) -> Path:
    runs = [p for p in base.glob("*/*") if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def weights(run: Path) -> list:
    return keras.saving.load_model(run / "model.keras", safe_mode=True).get_weights()


def test_interrupt_then_resume_equals_an_uninterrupted_run(cli, workdir, send_signal):
    config = write_config(workdir, CONFIG)
    assert cli("train", config, "--quiet", "-o", "full").exit_code == 0
    full = only_run(workdir / "full")

    send_signal(epoch=1, batch=2)  # in the last epoch: one epoch completed
    result = cli("train", config, "--quiet", "-o", "part")
    assert result.exit_code == 130, result.output
    run = only_run(workdir / "part")
    assert "interrupted by SIGINT after 1 completed epoch(s)" in result.stderr
    assert f"kerascli train --resume {run.relative_to(workdir)}" in result.stderr
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "interrupted" and info["epochs"] == 1
    history = json.loads((run / "history.json").read_text())
    assert set(history) == {"loss", "accuracy"} and all(len(v) == 1 for v in history.values())
    assert (run / "checkpoint" / "checkpoint.json").is_file()
    assert not (run / "model.keras").exists()

    result = cli("train", "--resume", run, "--quiet")
    assert result.exit_code == 0, result.output
    assert json.loads((run / "run.json").read_text())["status"] == "completed"
    assert json.loads((run / "run.json").read_text())["resumed_from_epoch"] == 1
    assert json.loads((run / "history.json").read_text()) == json.loads((full / "history.json").read_text())
    assert all(np.array_equal(a, b) for a, b in zip(weights(run), weights(full)))
    assert not (run / "checkpoint").exists()

    result = cli("train", "--resume", run)
    assert result.exit_code == 2 and "the run has completed" in result.stderr


class CheckpointSpy(keras.callbacks.Callback):
    """Records, at each epoch's end, the epochs the run's checkpoint holds on disk (None: no checkpoint yet)."""

    def __init__(self, run_dirs):
        super().__init__()
        self.run_dirs, self.seen = run_dirs, []

    def on_epoch_end(self, epoch, logs=None):
        states = [r / "checkpoint" / "checkpoint.json" for r in self.run_dirs.glob("*/*")]
        self.seen.append(next((json.loads(s.read_text())["epochs_done"] for s in states if s.is_file()), None))


@pytest.mark.parametrize("seconds, on_disk", [(3600.0, [None, None, None, None]), (0.0, [None, 1, 2, 3])])
def test_short_epochs_are_checkpointed_when_due_and_a_stop_writes_the_last_one(
    cli, workdir, monkeypatch, seconds, on_disk
):
    # The spy runs before the checkpointer at each epoch's end: it sees the epochs before this one.
    monkeypatch.setattr(interrupt, "CHECKPOINT_SECONDS", seconds)
    config = write_config(workdir, CONFIG.replace("epochs: 2", "epochs: 5"))
    spy, sender = CheckpointSpy(workdir / "runs"), SendSignal(epoch=4, batch=2)
    original = build.make_callbacks
    monkeypatch.setattr(build, "make_callbacks", lambda *a, **k: original(*a, **k) + [spy, sender])
    result = cli("train", config, "--quiet")
    assert result.exit_code == 130, result.output
    assert spy.seen[:4] == on_disk  # epoch 5 was cut short by the signal
    run = only_run(workdir / "runs")
    state = json.loads((run / "checkpoint" / "checkpoint.json").read_text())
    history = json.loads((run / "history.json").read_text())
    assert state["epochs_done"] == 4 and all(len(v) == 4 for v in history.values())
    assert [p.name for p in (run / "checkpoint").glob("*.npz")] == ["epoch-00004.npz"]


class FailIn(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("disk on fire")


def test_a_failed_run_keeps_the_checkpoint_of_its_last_completed_epoch(cli, workdir, monkeypatch):
    monkeypatch.setattr(interrupt, "CHECKPOINT_SECONDS", 3600.0)  # epochs 1-2 wait in memory
    config = write_config(workdir, CONFIG.replace("epochs: 2", "epochs: 4"))
    original = build.make_callbacks
    monkeypatch.setattr(build, "make_callbacks", lambda *a, **k: original(*a, **k) + [FailIn(2)])
    result = cli("train", config, "--quiet")
    assert result.exit_code == 1 and "disk on fire" in result.stderr
    run = only_run(workdir / "runs")
    assert json.loads((run / "run.json").read_text())["epochs"] == 2
    assert json.loads((run / "checkpoint" / "checkpoint.json").read_text())["epochs_done"] == 2
    monkeypatch.undo()
    result = cli("train", "--resume", run, "--quiet")
    assert result.exit_code == 0, result.output
    assert json.loads((run / "run.json").read_text())["resumed_from_epoch"] == 2


def test_sigterm_in_the_first_epoch_keeps_an_empty_history(cli, workdir, send_signal):
    config = write_config(workdir, CONFIG)
    send_signal(epoch=0, batch=1, signum=signal.SIGTERM)
    result = cli("train", config, "--quiet")
    assert result.exit_code == 143
    run = only_run(workdir / "runs")
    assert json.loads((run / "history.json").read_text()) == {}
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"


def test_a_second_ctrl_c_exits_at_once(workdir):
    config = write_config(workdir, CONFIG.replace("epochs: 2", "epochs: 50"))
    script = textwrap.dedent(f"""
        import os, signal, sys, keras
        sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).parents[1])!r}]
        from test_interrupt import SendSignal
        from kerascli import cli
        from kerascli.model import callbacks as build
        original = build.make_callbacks
        build.make_callbacks = lambda *a, **k: original(*a, **k) + [SendSignal(1, 0, signal.SIGINT, times=2)]
        sys.argv = ["kerascli", "train", {str(config)!r}, "--quiet"]
        cli.main()
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 130, result.stderr
    assert "SIGINT again: exiting now" in result.stderr
    run = only_run(workdir / "runs")
    # Exited at once, inside epoch 2: the checkpoint of epoch 1 is intact.
    state = json.loads((run / "checkpoint" / "checkpoint.json").read_text())
    assert state["epochs_done"] == 1
    _check_files(run)


def test_nan_loss_with_terminate_on_nan_fails_with_exit_1(cli, workdir):
    config = write_config(
        workdir,
        CONFIG.replace("{type: Adam, learning_rate: 0.01}", "{type: SGD, learning_rate: 1.0e+30}").replace(
            "fit: {epochs: 2, batch_size: 16}", "fit:\n  epochs: 2\n  callbacks: [{type: TerminateOnNaN}]"
        ),
    )
    result = cli("train", config, "--quiet")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "training diverged: the loss is nan in epoch 1" in result.stderr
    info = json.loads((only_run(workdir / "runs") / "run.json").read_text())
    assert info["status"] == "failed" and "training diverged" in info["error"]


def test_keras_error_mid_fit_fails_with_exit_1(cli, workdir):
    config = write_config(
        workdir,
        CONFIG.replace(
            "fit: {epochs: 2, batch_size: 16}",
            "fit:\n  epochs: 1\n  callbacks: [{type: CSVLogger, filename: no/such/dir/log.csv}]",
        ),
    )
    result = cli("train", config, "--quiet")
    assert result.exit_code == 1
    assert result.stderr.startswith("training failed: ") and "log.csv" in result.stderr
    info = json.loads((only_run(workdir / "runs") / "run.json").read_text())
    assert info["status"] == "failed" and "log.csv" in info["error"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--resume", "nowhere"], "cannot resume nowhere: not a run directory"),
        (["cfg.yaml", "--resume", "nowhere"], "give either a CONFIG to train or --resume RUN_DIR"),
        ([], "give either a CONFIG to train or --resume RUN_DIR"),
    ],
    ids=["not-a-run", "both", "neither"],
)
def test_resume_usage_errors(cli, args, message):
    result = cli("train", *args)
    assert result.exit_code == 2 and message in result.stderr


def _wait_for(predicate, process, timeout=240.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process.poll() is not None:
            pytest.fail(f"training ended before the kill point: {process.stderr.read()}")
        time.sleep(0.01)
    pytest.fail("kill point never reached")


def _check_files(run: Path) -> None:
    """Every file kerascli wrote is complete: JSON parses, arrays and models load."""
    for path in run.rglob("*"):
        if path.name.startswith("."):
            continue  # a temporary file, never a result
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as saved:
                [saved[k] for k in saved.files]
        elif path.suffix == ".keras":
            keras.saving.load_model(path, safe_mode=True)


def test_kill_9_never_leaves_a_corrupt_file(workdir):
    # Long enough to reach the first checkpoint, CHECKPOINT_SECONDS into fit (killed there).
    config = write_config(workdir, CONFIG.replace("epochs: 2", "epochs: 100000"))
    points = {
        "run started": lambda run: (run / "run.json").is_file(),
        "mid-training": lambda run: (
            (run / "checkpoint" / "checkpoint.json").is_file()
            and json.loads((run / "checkpoint" / "checkpoint.json").read_text())["epochs_done"] >= 1
        ),
    }
    for i, reached in enumerate(points.values()):
        base = workdir / f"kill{i}"
        process = subprocess.Popen(
            [sys.executable, "-m", "kerascli", "train", str(config), "--quiet", "-o", str(base)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_for(lambda reached=reached, base=base: any(reached(r) for r in base.glob("*/*")), process)
            time.sleep(np.random.default_rng(i).uniform(0, 0.05))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
        finally:
            process.kill()
        _check_files(only_run(base))


@pytest.mark.parametrize(
    "state, message",
    [
        ("[1, 2]", "checkpoint.json holds no JSON object; the checkpoint is damaged"),
        ('{"weights": "../../model.keras"}', "names weights '../../model.keras', expected a file name"),
        ('{"weights": 7}', "names weights '7', expected a file name"),
    ],
    ids=["not-an-object", "weights-outside", "weights-not-a-name"],
)
def test_a_damaged_checkpoint_is_a_one_line_error(tmp_path, state, message):
    from kerascli.errors import UsageError
    from kerascli.run.interrupt import read_state

    (tmp_path / "checkpoint").mkdir()
    (tmp_path / "checkpoint" / "checkpoint.json").write_text(state)
    (tmp_path / "model.keras").write_text("not weights")
    with pytest.raises(UsageError) as caught:
        read_state(tmp_path)
    assert str(caught.value).startswith(f"cannot resume {tmp_path}: ") and message in str(caught.value)
