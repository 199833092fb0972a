"""Logging integrations and shell completion."""

import importlib.util

from conftest import write_config
from typer.testing import CliRunner

from kerascli.cli import app

TENSORBOARD = """
data:
  train: {path: data/binary.csv, y: target}
model:
  layers:
    - {type: Dense, units: 2, activation: softmax}
compile: {loss: sparse_categorical_crossentropy}
fit:
  epochs: 1
  callbacks:
    - {type: TensorBoard, log_dir: tensorboard}
"""


def test_tensorboard_without_tensorflow_is_a_clear_error_before_the_run(cli, workdir, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorflow" else real(name, *a))
    config = write_config(workdir, TENSORBOARD)
    result = cli("train", config, "--quiet")
    assert result.exit_code == 2
    assert (
        "config.yaml:11:7: fit.callbacks[0]: callback TensorBoard needs tensorflow, which is not installed: pip install tensorflow"
        in result.output
    )
    assert "CSVLogger" in result.output
    assert not (workdir / "runs").exists()


def test_completion_lists_commands_and_option_values(workdir):
    def complete(words, cword):
        env = {"_KERASCLI_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
        return CliRunner().invoke(app, [], env=env, prog_name="kerascli").output.split()

    assert complete("kerascli i", 1) == ["init", "import"]
    assert complete("kerascli init --template t", 3) == ["tabular-classifier", "two-branch"]
    assert complete("kerascli validate --format g", 3) == ["github"]
