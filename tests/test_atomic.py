"""`kerascli.atomic` and `kerascli.run.rundir`: files written whole or not at all; runs never reused."""

import errno
import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

from kerascli import atomic
from kerascli.atomic import atomic_path, write_json
from kerascli.errors import KerasCliError, UsageError
from kerascli.run.rundir import latest_run, new_run_dir


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"loss": 1.0})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk gone")
    assert json.loads(target.read_text()) == {"loss": 1.0}
    assert os.listdir(tmp_path) == ["metrics.json"]


def test_json_turns_nan_into_null(tmp_path):
    write_json(tmp_path / "h.json", {"loss": [1.0, float("nan")]})
    assert json.loads((tmp_path / "h.json").read_text()) == {"loss": [1.0, None]}


def test_run_directories_are_never_reused_and_the_latest_is_found(tmp_path):
    first = new_run_dir(tmp_path, "iris")
    second = new_run_dir(tmp_path, "iris")
    assert first != second and first.parent == second.parent == tmp_path / "iris"
    assert latest_run(tmp_path) is None  # neither has a model yet
    for run, stamp in ((first, 1_000_000), (second, 2_000_000)):
        (run / "config.yaml").write_text("name: iris\n")
        (run / "model.keras").write_bytes(b"x")
        os.utime(run / "model.keras", (stamp, stamp))
    assert latest_run(tmp_path) == second
    assert latest_run(tmp_path, "iris") == second


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_files_get_the_umask_mode_not_mkstemps_0600(tmp_path, umask_022):
    write_json(tmp_path / "new.json", {})
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644
    os.umask(0o027)
    write_json(tmp_path / "group.json", {})
    assert stat.S_IMODE((tmp_path / "group.json").stat().st_mode) == 0o640


def test_an_overwritten_file_keeps_its_mode(tmp_path, umask_022):
    target = tmp_path / "shared.json"
    target.write_text("{}")
    target.chmod(0o664)
    write_json(target, {"a": 1})
    assert stat.S_IMODE(target.stat().st_mode) == 0o664
    assert json.loads(target.read_text()) == {"a": 1}


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporaries_a_killed_writer_left_are_removed_by_the_next_write(tmp_path):
    target = tmp_path / "metrics.json"
    host = atomic._HOST
    dead = tmp_path / f".metrics.tmp-{host}-{_dead_pid()}-abc123.json"
    live = tmp_path / f".metrics.tmp-{host}-{os.getppid()}-def456.json"  # a process that is running
    other_host = tmp_path / f".metrics.tmp-00000000-{_dead_pid()}-ghi789.json"
    other_file = tmp_path / f".history.tmp-{host}-{_dead_pid()}-jkl012.json"
    for path in (dead, live, other_host, other_file):
        path.write_text("half")
    write_json(target, {"loss": 1.0})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["metrics.json", live.name, other_host.name, other_file.name]
    )


def test_a_full_disk_is_one_line_naming_the_file_and_the_old_file_stays(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"loss": 1.0})
    with pytest.raises(KerasCliError, match=r"^cannot write .*metrics\.json: No space left on device$"):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert json.loads(target.read_text()) == {"loss": 1.0}
    assert os.listdir(tmp_path) == ["metrics.json"]


def test_a_directory_as_the_target_is_a_usage_error(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(UsageError, match=r"cannot write .*out: it is a directory; give a file name"):
        write_json(tmp_path / "out", {})
    (tmp_path / "afile").write_text("x")
    with pytest.raises(KerasCliError, match=r"cannot write .*afile/m\.json: a parent of it is a file, not a directory"):
        write_json(tmp_path / "afile" / "m.json", {})


def _signal_after_creating(original):
    def temp_then_signal(target):
        original(target)  # the file exists, its path never reaches the caller
        raise KeyboardInterrupt

    return temp_then_signal


def test_a_signal_right_after_the_temporary_is_made_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "temp_beside", _signal_after_creating(atomic.temp_beside))
    with pytest.raises(KeyboardInterrupt):
        with atomic.atomic_path(tmp_path / "model.keras"):
            pass
    assert list(tmp_path.iterdir()) == []


def test_a_signal_while_predictions_start_leaves_nothing(tmp_path, monkeypatch):
    from kerascli.data import writing

    monkeypatch.setattr(writing, "temp_beside", _signal_after_creating(writing.temp_beside))
    with pytest.raises(KeyboardInterrupt):
        with writing.PredictionWriter(tmp_path / "out.csv", {}, {}) as writer:
            writer.write({"y": np.zeros((3, 1), dtype=np.float32)})
    assert list(tmp_path.iterdir()) == []
