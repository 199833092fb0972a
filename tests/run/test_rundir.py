"""`kerascli.run.rundir`: where runs may go, the lock on a run, damaged run files; all one-line errors."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys

import pytest
from conftest import REPO, write_config

from kerascli import atomic
from kerascli.errors import KerasCliError, UsageError
from kerascli.run.run_json import read_run_json
from kerascli.run.rundir import RunLock, check_output_dir, read_labels

CONFIG = """\
name: tiny
seed: 1
data:
  train: {path: data/iris.csv, y: species}
model:
  layers:
    - {type: Dense, units: 3, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy}
fit: {epochs: 1, batch_size: 64}
"""


def one_line(result) -> str:
    assert "Traceback" not in result.output + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda d: (d / "out").write_text("x"), "is a file, not a directory"),
        (lambda d: os.symlink(d / "nowhere", d / "out"), "is a broken symbolic link"),
    ],
    ids=["file", "dangling-symlink"],
)
def test_output_dir_that_cannot_hold_runs_is_refused_before_any_work(cli, workdir, make, expected):
    make(workdir)
    config = write_config(workdir, CONFIG)
    result = cli("train", config, "--output-dir", "out", "--quiet")
    assert result.exit_code == 2
    assert one_line(result).startswith("output directory out: ") and expected in result.stderr


def test_read_only_output_dir_is_refused(workdir, monkeypatch):
    class ReadOnly:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", lambda path: ReadOnly())
    with pytest.raises(UsageError, match=r"^output directory runs: .* is on a read-only file system$"):
        check_output_dir("runs", "tiny")


def test_a_name_too_long_for_a_directory_is_refused(workdir):
    with pytest.raises(UsageError, match=r"is 300 characters long; a run name names a directory and is at most 200"):
        check_output_dir("runs", "a" * 300)
    check_output_dir("runs", "a" * 200)


def test_a_full_disk_at_the_start_leaves_no_run_directory(cli, workdir, monkeypatch):
    config = write_config(workdir, CONFIG)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full)
    result = cli("train", config, "--quiet")
    assert result.exit_code == 1
    assert one_line(result).endswith("config.yaml: No space left on device")
    assert list((workdir / "runs" / "tiny").iterdir()) == []


def test_a_full_disk_during_evaluate_is_one_line(cli, workdir, monkeypatch):
    config = write_config(workdir, CONFIG.replace("  train:", "  validation: {split: 0.5}\n  train:"))
    assert cli("train", config, "--quiet").exit_code == 0
    run = next((workdir / "runs" / "tiny").iterdir())
    before = (run / "metrics.json").read_text()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full)
    result = cli("evaluate", run)
    assert result.exit_code == 1
    assert one_line(result) == f"cannot write {run / 'metrics.json'}: No space left on device"
    assert (run / "metrics.json").read_text() == before
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == []


def test_run_files_are_readable_by_the_group_and_others(cli, workdir):
    old = os.umask(0o022)
    try:
        assert cli("train", write_config(workdir, CONFIG), "--quiet").exit_code == 0
    finally:
        os.umask(old)
    run = next((workdir / "runs" / "tiny").iterdir())
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in run.iterdir() if p.is_file()}
    assert set(modes.values()) == {0o644}, modes


@pytest.mark.parametrize(
    "name, text, expected",
    [
        (
            "metrics.json",
            "{bad",
            "metrics.json:1:2: not valid JSON (Expecting property name enclosed in double quotes)",
        ),
        ("labels.json", "[1, 2]", "labels.json: holds a list, expected a JSON object"),
        ("run.json", '"done"', "run.json: holds a string, expected a JSON object"),
        ("labels.json", '{"species": 5}', "labels.json: 'species' holds 5, expected a list of class labels"),
    ],
)
def test_damaged_run_files_are_one_line(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(KerasCliError) as caught:
        read_labels(path) if name == "labels.json" else read_run_json(path)
    assert str(caught.value) == f"{path.parent}/{expected}; the run directory is damaged"


def test_missing_run_files_read_as_empty(tmp_path):
    assert read_run_json(tmp_path / "metrics.json") == {} and read_labels(tmp_path / "labels.json") == {}


HOLD = """
import sys, time
sys.path.insert(0, {repo!r})
from kerascli.run.rundir import RunLock
with RunLock({run!r}):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_resume_of_a_run_still_training_is_refused(cli, workdir):
    run = workdir / "runs" / "tiny" / "20260101-000000"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text(CONFIG)
    (run / "run.json").write_text(json.dumps({"status": "running"}))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD.format(repo=str(REPO), run=str(run))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = cli("train", "--resume", run, "--quiet")
        assert result.exit_code == 2
        assert (
            one_line(result)
            == f"{run} is in use: another kerascli process is training it; wait for it to finish (or stop it) first"
        )
    finally:
        holder.communicate("\n", timeout=30)
    with RunLock(run):  # released when its holder ends
        pass


def test_a_new_run_removes_the_temporaries_killed_runs_of_the_same_name_left(tmp_path):
    from kerascli.run.rundir import new_run_dir

    earlier = new_run_dir(tmp_path, "tiny")
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    stale = earlier / f".model.tmp-{atomic._HOST}-{child.pid}-x1y2.keras"
    stale.write_bytes(b"half a model")
    (earlier / "config.yaml").write_text("name: tiny\n")
    new_run_dir(tmp_path, "tiny")
    assert sorted(p.name for p in earlier.iterdir()) == ["config.yaml"]


def test_schema_to_a_directory_is_one_line(cli, workdir):
    (workdir / "out").mkdir()
    result = cli("schema", "-o", "out")
    assert result.exit_code == 2
    assert one_line(result) == "--output: expected a .json file, got 'out'"
    (workdir / "out.json").mkdir()
    result = cli("schema", "-o", "out.json", "--force")
    assert result.exit_code == 2
    assert one_line(result) == "--output out.json is a directory; expected a file name"
