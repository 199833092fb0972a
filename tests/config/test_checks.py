"""`kerascli.config.checks`: Keras names, graphs and safety, checked without Keras."""

import pytest
from conftest import write_config

from kerascli import config
from kerascli.config.checks import check
from kerascli.config.checks.safety import outside_run_dir, serialized_keys

HEAD = "data:\n  train: {path: data/iris.csv, y: species}\n"


def problems_of(workdir, text):
    warnings = []
    found = check(config.load(write_config(workdir, HEAD + text)), warnings=warnings)

    def show(problem):
        return problem.render().replace(f"{workdir}/", "")

    return [show(p) for p in found], [show(w) for w in warnings]


def test_every_problem_is_found_at_once(workdir):
    found, _ = problems_of(
        workdir,
        "model:\n  layers:\n    - {type: Dence, units: 3}\n    - {type: Dense, unit: 3, activation: reluu}\n"
        "compile: {optimizer: adamm, loss: msee}\n",
    )
    assert found == [
        "config.yaml:5:8: model.layers[0].type: unknown layer 'Dence' (did you mean 'Dense'?)",
        "config.yaml:6:21: model.layers[1].unit: Dense got an unexpected argument 'unit' (did you mean 'units'?)",
        "config.yaml:6:30: model.layers[1].activation: unknown activation 'reluu' (did you mean 'relu'?)",
        "config.yaml:7:11: compile.optimizer: unknown optimizer 'adamm' (did you mean 'Adam'?)",
        "config.yaml:7:29: compile.loss: unknown loss 'msee' (did you mean 'mse'?)",
    ]


def test_a_schedule_is_named_as_one(workdir):
    found, _ = problems_of(workdir, "compile:\n  optimizer: {type: Adam, learning_rate: {type: ExpDecay}}\n")
    assert any("unknown learning-rate schedule 'ExpDecay'" in p for p in found)


def test_excluded_layers_say_why(workdir):
    found, _ = problems_of(workdir, "model:\n  layers:\n    - {type: Lambda}\n")
    assert any("layer 'Lambda' cannot be used from a config (needs a Python callable)" in p for p in found)


def test_dead_nodes_are_warnings_not_problems(workdir):
    found, warnings = problems_of(
        workdir,
        "model:\n  layers:\n    - {name: a, type: Dense, units: 3}\n    - {name: b, type: Dense, units: 3, inputs: a}\n"
        "  outputs: a\n",
    )
    assert found == []
    assert warnings == ["config.yaml:6:7: model.layers[1]: node 'b' feeds no output of the model: its result is unused"]


@pytest.mark.parametrize(
    ("path", "outside"),
    [("history.csv", False), ("logs/run.csv", False), ("../x.csv", True), ("/tmp/x.csv", True), ("C:\\x.csv", True)],
)
def test_callback_paths_stay_in_the_run_directory(path, outside):
    assert outside_run_dir(path) is outside


def test_serialization_keys_are_found_at_any_depth():
    value = {"a": [{"b": {"class_name": "X"}}], "module": "os"}
    assert sorted(serialized_keys(value, ("model",))) == [("model", "a", 0, "b", "class_name"), ("model", "module")]
