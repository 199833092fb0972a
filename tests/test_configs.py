"""Every example config in configs/ validates, builds, trains one epoch and predicts."""

import json
import shutil

import pytest
import yaml
from conftest import CONFIGS

EXAMPLES = sorted(p.name for p in CONFIGS.glob("*.yaml"))
TENSORFLOW_ONLY = sorted(
    p.name for p in CONFIGS.glob("*.yaml") if (yaml.safe_load(p.read_text()) or {}).get("backend") == "tensorflow"
)
"""Examples that need the TensorFlow backend (string inputs): trained by tests/engine/test_backends.py on it."""


@pytest.fixture
def examples(workdir):
    shutil.copytree(CONFIGS, workdir / "configs")
    return workdir / "configs"


def test_there_are_examples():
    assert {"iris.yaml", "keras_note_strings.yaml", "keras_note_objects.yaml"} <= set(EXAMPLES)


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_trains_one_epoch_and_predicts(cli, examples, workdir, name):
    if name in TENSORFLOW_ONLY:
        pytest.skip("needs backend: tensorflow; trained on it by tests/engine/test_backends.py")
    config = examples / name
    assert cli("validate", config).exit_code == 0
    phases = (yaml.safe_load(config.read_text()).get("fit") or {}).get("phases") or []
    # One epoch, or one per phase (fit.epochs cannot be given with fit.phases).
    epochs = [f"fit.phases[{i}].epochs=1" for i in range(len(phases))] or ["fit.epochs=1"]
    result = cli("train", config, *[arg for value in epochs for arg in ("--set", value)], "--quiet", "--json")
    assert result.exit_code == 0, result.output
    run_dir = workdir / json.loads(result.output)["run_dir"]
    history = json.loads((run_dir / "history.json").read_text())
    assert all(len(values) == len(epochs) for values in history.values())
    result = cli("predict", run_dir, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"] > 0


def test_iris_reaches_090_validation_accuracy(cli, examples, workdir):
    result = cli("train", examples / "iris.yaml", "--quiet", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["metrics"]["accuracy"] >= 0.9


@pytest.mark.parametrize("name", ["keras_note_strings.yaml", "keras_note_objects.yaml"])
def test_keras_note_examples_match_the_note(cli, examples, workdir, name):
    """The note's code: Dense(1), epochs 5, batch 16, 30% split, evaluate/predict at batch 128."""
    result = cli("train", examples / name, "--quiet", "--json")
    assert result.exit_code == 0, result.output
    run_dir = workdir / json.loads(result.output)["run_dir"]
    history = json.loads((run_dir / "history.json").read_text())
    metric = "accuracy" if "strings" in name else "binary_accuracy"
    assert set(history) == {"loss", metric, "val_loss", f"val_{metric}"}
    assert len(history["loss"]) == 5
    config = (run_dir / "config.yaml").read_text()
    assert "batch_size: 16" in config and "split: 0.3" in config
    assert cli("evaluate", run_dir).exit_code == 0
    lines = (run_dir / "predictions.csv").read_text().splitlines() if cli("predict", run_dir).exit_code == 0 else []
    assert len(lines) == 1 + 20  # header + one row per row of binary-new.csv
