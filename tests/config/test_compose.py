"""`extends:`: the merge rules, positions in the file that wrote each value, paths relative to it, cycles."""

from __future__ import annotations

import shutil

import pytest
from conftest import CONFIGS

from kerascli.config import load
from kerascli.errors import ConfigError

BASE = """\
name: base
seed: 1
data:
  train: {path: data/iris.csv, x: [sepal_length, sepal_width, petal_length, petal_width], y: species}
  validation: {split: 0.3}
model:
  layers:
    - {type: Dense, units: 16, activation: relu}
    - {type: Dense, units: 3, activation: softmax}
compile:
  optimizer: {type: Adam, learning_rate: 0.01}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
fit: {epochs: 2, batch_size: 16}
"""


@pytest.fixture
def base(workdir):
    """`base/base.yaml` beside its own copy of the iris data; the configs that extend it are in the workdir."""
    shutil.copytree(CONFIGS / "data", workdir / "base" / "data")
    path = workdir / "base" / "base.yaml"
    path.write_text(BASE)
    return path


def write(path, text):
    path.write_text(text)
    return path


def test_mappings_merge_lists_are_replaced_and_null_deletes(base, workdir):
    child = write(
        workdir / "child.yaml",
        "extends: base/base.yaml\nname: child\ncompile:\n  optimizer: {learning_rate: 0.001}\n  metrics: null\n"
        "model:\n  layers:\n    - {type: Dense, units: 3, activation: softmax}\n",
    )
    doc = load(child)
    assert doc.data["name"] == "child"
    assert doc.data["compile"] == {
        "optimizer": {"type": "Adam", "learning_rate": 0.001},
        "loss": "sparse_categorical_crossentropy",
    }
    assert doc.data["model"]["layers"] == [{"type": "Dense", "units": 3, "activation": "softmax"}]
    assert doc.data["fit"] == {"epochs": 2, "batch_size": 16}
    assert "extends" not in doc.data
    assert doc.files == [base.resolve(), child.resolve()]


def test_null_inside_a_list_is_a_value_not_a_deletion(base, workdir):
    child = write(
        workdir / "child.yaml", "extends: base/base.yaml\nfit:\n  callbacks: [{type: EarlyStopping, baseline: null}]\n"
    )
    assert load(child).data["fit"]["callbacks"] == [{"type": "EarlyStopping", "baseline": None}]


def test_a_list_of_bases_applies_in_order_and_bases_extend_further(base, workdir):
    write(workdir / "small.yaml", "extends: base/base.yaml\nfit: {epochs: 1, batch_size: 8}\n")
    write(workdir / "fast.yaml", "fit: {batch_size: 64}\ncompile: {optimizer: {learning_rate: 0.1}}\n")
    child = write(workdir / "child.yaml", "extends: [small.yaml, fast.yaml]\nfit: {epochs: 3}\n")
    doc = load(child)
    assert doc.data["fit"] == {"epochs": 3, "batch_size": 64}
    assert doc.data["compile"]["optimizer"] == {"type": "Adam", "learning_rate": 0.1}
    assert [p.name for p in doc.files] == ["base.yaml", "small.yaml", "fast.yaml", "child.yaml"]


def test_paths_are_relative_to_the_file_that_wrote_them(base, workdir):
    child = write(workdir / "child.yaml", "extends: base/base.yaml\ndata: {test: {path: data/iris-test.csv}}\n")
    doc = load(child)
    train, test = doc.data["data"]["train"]["path"], doc.data["data"]["test"]["path"]
    assert doc.resolve_path(("data", "train", "path"), train) == workdir / "base" / "data" / "iris.csv"
    assert doc.resolve_path(("data", "test", "path"), test) == workdir / "data" / "iris-test.csv"


def test_each_value_keeps_the_position_of_its_file(base, workdir):
    child = write(workdir / "child.yaml", "extends: base/base.yaml\nfit:\n  epochs: 5\n")
    doc = load(child, ["compile.loss=mse"])
    assert doc.problem(("fit", "epochs"), "x").render() == f"{child}:3:3: fit.epochs: x"
    assert doc.problem(("fit", "batch_size"), "x").render() == f"{base}:14:18: fit.batch_size: x"
    assert doc.problem(("compile", "loss"), "x").render() == "--set compile.loss=mse: compile.loss: x"


def test_errors_in_the_base_and_the_child_each_point_at_their_file(cli, base, workdir):
    base.write_text(BASE.replace("activation: relu", "activation: reluu"))
    write(workdir / "child.yaml", "extends: base/base.yaml\nfit: {epochs: 0}\n")
    result = cli("validate", "child.yaml")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "base/base.yaml:8:32: model.layers[0].activation: unknown activation 'reluu' (did you mean 'relu'?)",
        "child.yaml:2:7: fit.epochs: expected a value greater than 0, got 0",
    ]


def test_a_yaml_error_in_the_base_names_the_base(cli, base, workdir):
    base.write_text("fit:\n  epochs: 2\n  epochs: 3\n")
    write(workdir / "child.yaml", "extends: base/base.yaml\n")
    result = cli("validate", "child.yaml")
    assert result.exit_code == 2
    assert result.stderr.strip() == "base/base.yaml:3:3: fit.epochs: duplicate key 'epochs' (first defined on line 2)"


def test_a_cycle_is_an_error(cli, workdir):
    write(workdir / "a.yaml", "extends: b.yaml\nname: a\n")
    write(workdir / "b.yaml", "name: b\nextends: [a.yaml]\n")
    result = cli("validate", "a.yaml")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "b.yaml:2:11: extends[0]: cycle a.yaml → b.yaml → a.yaml: a config cannot extend itself, directly or through other files"
    )


def test_a_diamond_is_not_a_cycle(base, workdir):
    write(workdir / "left.yaml", "extends: base/base.yaml\nfit: {epochs: 4}\n")
    write(workdir / "right.yaml", "extends: base/base.yaml\nseed: 7\n")
    doc = load(write(workdir / "child.yaml", "extends: [left.yaml, right.yaml]\n"))
    assert (doc.data["fit"]["epochs"], doc.data["seed"]) == (2, 7)  # right's copy of base sets epochs back


@pytest.mark.parametrize(
    "extends, message",
    [
        ("nowhere.yaml", "child.yaml:1:1: extends: no such config file: nowhere.yaml"),
        ("3", "child.yaml:1:1: extends: expected a config file or a list of them, got 3"),
        ("[base.txt]", "child.yaml:1:11: extends[0]: expected a YAML config file (.yaml or .yml), got 'base.txt'"),
        ("[{a: 1}]", "child.yaml:1:11: extends[0]: expected the path of a YAML config file, got {'a': 1}"),
    ],
    ids=["missing", "not-a-path", "not-yaml", "mapping"],
)
def test_a_bad_extends_is_reported_at_its_place(cli, workdir, extends, message):
    write(workdir / "child.yaml", f"extends: {extends}\n")
    result = cli("validate", "child.yaml")
    assert result.exit_code == 2
    assert result.stderr.strip() == message


def test_set_applies_to_the_merged_config_but_not_to_extends(base, workdir):
    child = write(workdir / "child.yaml", "extends: base/base.yaml\n")
    assert load(child, ["fit.batch_size=4"]).data["fit"] == {"epochs": 2, "batch_size": 4}
    with pytest.raises(ConfigError) as info:
        load(child, ["extends=other.yaml"])
    assert info.value.lines() == [
        "--set extends=other.yaml: extends: cannot be set with --set: the files a config extends are merged before "
        "overrides apply; change 'extends' in the config instead"
    ]


def test_training_a_child_stores_the_merged_config_and_its_files(cli, base, workdir):
    import json

    import yaml

    child = write(workdir / "child.yaml", "extends: base/base.yaml\nname: child\nfit: {epochs: 1}\n")
    result = cli("train", child, "--quiet")
    assert result.exit_code == 0, result.output
    (run,) = (workdir / "runs" / "child").iterdir()
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert "extends" not in config
    assert config["fit"]["epochs"] == 1 and config["fit"]["batch_size"] == 16
    assert config["data"]["train"]["path"] == str(workdir / "base" / "data" / "iris.csv")
    info = json.loads((run / "run.json").read_text())
    assert info["config_files"] == [str(base.resolve()), str(child.resolve())]
