"""`kerascli.run.train`: the phases of a training run, and what each leaves behind."""

import json

import pytest
from conftest import write_config

from kerascli.errors import ConfigError
from kerascli.run import train as training

CONFIG = """\
name: phases
seed: 3
data:
  train: {path: data/iris.csv, y: species}
  validation: {split: 0.3}
model:
  layers:
    - {name: hidden, type: Dense, units: 4, activation: relu}
    - {name: dead, type: Dense, units: 2, inputs: hidden}
    - {type: Dense, units: 3, activation: softmax, inputs: hidden}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 1, batch_size: 32}
"""


def test_plan_fixes_seed_and_backend_and_passes_warnings_on(workdir):
    warnings = []
    t = training.plan(write_config(workdir, CONFIG), [], None, None, warnings.append)
    assert t.seed == 3
    assert t.backend_name == "jax"
    assert [w.message for w in warnings] == ["warning: node 'dead' feeds no output of the model: its result is unused"]
    assert "validate" in t.timer.timings


def test_plan_draws_a_seed_when_the_config_has_none(workdir):
    t = training.plan(write_config(workdir, CONFIG.replace("seed: 3\n", "")), [], None, None, None)
    assert 0 <= t.seed < 2**31


def test_phases_up_to_compile_write_nothing(workdir):
    t = training.plan(write_config(workdir, CONFIG), [], None, None, None)
    for phase in (training.start, training.load_data, training.build, training.check, training.compile_model):
        phase(t)
    assert t.model.count_params() == (4 * 4 + 4) + (4 * 3 + 3)  # 'dead' feeds no output: Keras leaves it out
    assert t.labels == {t.cfg.model.output_names()[0]: ["setosa", "versicolor", "virginica"]}
    assert (len(t.train_data), len(t.validation)) == (84, 36)  # iris.csv's 120 rows, 30% for validation
    assert not (workdir / "runs").exists()


def test_train_records_each_phase_in_run_json(workdir):
    result = training.train(write_config(workdir, CONFIG), output_dir=workdir / "runs", quiet=True)
    info = json.loads((result.run_dir / "run.json").read_text())
    assert info["status"] == "completed"
    assert {"validate", "import", "load_data", "build", "fit", "evaluate", "save", "total"} <= set(info["timings"])
    assert 0 < info["compile_seconds"] <= info["timings"]["fit"]  # the first step: compiling the train step
    assert sorted(p.name for p in result.run_dir.iterdir()) == [
        "config.yaml",
        "history.json",
        "labels.json",
        "metrics.json",
        "model.keras",
        "run.json",
    ]


def test_a_compile_error_leaves_no_run_directory(workdir):
    bad = CONFIG.replace("metrics: [accuracy]", "metrics: [accuracy], loss_weights: {nope: 1.0}")
    with pytest.raises(ConfigError, match="'nope' is not a model output"):
        training.train(write_config(workdir, bad), output_dir=workdir / "runs", quiet=True)
    assert not (workdir / "runs").exists()
