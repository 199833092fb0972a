"""`kerascli.atomic` and `kerascli.run.rundir`: files written whole or not at all; runs never reused."""

import json
import os

import pytest

from kerascli.atomic import atomic_path, write_json
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
