"""`validate --deep`: what `train` would refuse before its first step, found without training or writing."""

from __future__ import annotations

import pytest
from conftest import write_config

CONFIG = """\
data:
  train: {path: data/iris.csv, x: [sepal_length, sepal_width, petal_length, petal_width], y: species}
  validation: {split: 0.2}
model:
  layers:
    - {type: Dense, units: 8, activation: relu}
    - {type: Dense, units: 3, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
fit:
  epochs: 1
  callbacks: [{type: ReduceLROnPlateau, factor: 0.5}]
"""


@pytest.mark.parametrize(
    "change, message",
    [
        (
            ("factor: 0.5", "factor: 1.5"),
            "config.yaml:11:15: fit.callbacks[0]: ReduceLROnPlateau was rejected by Keras: "
            "ReduceLROnPlateau does not support a factor >= 1.0. Received factor=1.5",
        ),
        (
            ("petal_width]", "petal_size]"),
            "config.yaml:2:32: data.train.x: no column 'petal_size' in iris.csv (did you mean 'petal_width'?)",
        ),
        (
            ("model:\n", "model:\n  inputs: {input: {shape: [3]}}\n"),
            "config.yaml:5:12: model.inputs.input: input 'input' expects samples of shape [3], the data has [4]",
        ),
        (
            ("units: 3, activation: softmax", "units: 2, activation: softmax"),
            "config.yaml:2:91: data.train.y: label 2 of 'dense_1' (iris.csv: line 6) is outside the model's 2 classes (0 to 1)",
        ),
    ],
    ids=["callback-rejected", "column-missing", "shape-mismatch", "labels-outside-classes"],
)
def test_deep_finds_what_train_would_refuse(cli, workdir, change, message):
    config = write_config(workdir, CONFIG.replace(*change))
    assert cli("validate", config).exit_code == 0  # the Keras-free checks cannot see it
    result = cli("validate", "--deep", config)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [message.replace("config.yaml", str(config))]
    assert sorted(p.name for p in workdir.iterdir()) == ["config.yaml", "data"]  # nothing written


def test_deep_passes_a_config_that_trains(cli, workdir):
    config = write_config(workdir, CONFIG)
    result = cli("validate", "--deep", config)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{config}: ok"
    assert sorted(p.name for p in workdir.iterdir()) == ["config.yaml", "data"]


@pytest.mark.parametrize("name", ["text_column", "structured"])
def test_deep_passes_the_encoded_column_examples(cli, name):
    # Their text and category columns are encoded with vocabularies fitted on the head rows,
    # so every column has as many rows as the targets.
    from pathlib import Path

    config = Path(__file__).parents[2] / "configs" / f"{name}.yaml"
    result = cli("validate", "--deep", str(config))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{config}: ok"


def test_deep_reads_the_test_source_too(cli, workdir):
    test = "  test: {path: data/test.csv}\n"
    config = write_config(
        workdir, CONFIG.replace("  validation: {split: 0.2}\n", "  validation: {split: 0.2}\n" + test)
    )
    (workdir / "data" / "test.csv").write_text("sepal_length,sepal_width,petal_length,species\n5.1,3.5,1.4,0\n")
    result = cli("validate", "--deep", config)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{config}:4:3: data.test.x: no column 'petal_width' in test.csv (did you mean 'sepal_width'?)"
    ]
    assert sorted(p.name for p in workdir.iterdir()) == ["config.yaml", "data"]  # nothing written


def test_deep_names_the_files_own_line_after_a_quoted_line_break(cli, workdir):
    test = "  test: {path: data/test.csv}\n"
    config = write_config(
        workdir, CONFIG.replace("  validation: {split: 0.2}\n", "  validation: {split: 0.2}\n" + test)
    )
    (workdir / "data" / "test.csv").write_text(
        "sepal_length,sepal_width,petal_length,petal_width,species,note\n"
        '5.1,3.5,1.4,0.2,setosa,"a note\nover two lines"\n'
        "4.9,,1.4,0.2,setosa,short\n"  # line 4 of the file, the second row
    )
    result = cli("validate", "--deep", config)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{config}:4:3: data.test.x: test.csv: column 'sepal_width', line 4: NaN (an empty cell reads as NaN)"
    ]
