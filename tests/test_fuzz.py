"""Mutated configs never crash kerascli (a few examples; benchmarks/fuzz.py runs thousands)."""

from __future__ import annotations

import shutil

from conftest import CONFIGS
from fuzzing import check_cli, mutated_config
from fuzzing_yaml import yaml_structure
from hypothesis import HealthCheck, given, settings

SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _setup(tmp_path):
    if not (tmp_path / "data").exists():
        shutil.copytree(CONFIGS / "data", tmp_path / "data")


@settings(max_examples=60, **SETTINGS)
@given(text=mutated_config())
def test_validate_never_crashes(text, tmp_path):
    _setup(tmp_path)
    path = tmp_path / "fuzz.yaml"
    path.write_text(text)
    crash = check_cli(["validate", str(path)])
    assert crash is None, f"{text}\n---\n{crash}"


@settings(max_examples=2, **SETTINGS)
@given(text=mutated_config())
def test_train_one_epoch_never_crashes(text, tmp_path):
    _setup(tmp_path)
    path = tmp_path / "fuzz.yaml"
    path.write_text(text)
    crash = check_cli(["train", str(path), "--set", "fit.epochs=1", "--quiet", "--output-dir", str(tmp_path / "runs")])
    assert crash is None, f"{text}\n---\n{crash}"


@settings(max_examples=80, **SETTINGS)
@given(data=yaml_structure())
def test_attacked_yaml_never_crashes_validate(data, tmp_path):
    _setup(tmp_path)
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    crash = check_cli(["validate", str(path)])
    assert crash is None, f"{data[:2000]!r}\n---\n{crash}"
