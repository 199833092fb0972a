"""evaluate / predict on a trained run: columns by name, outputs that never overwrite, the final metrics table."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from kerascli.cli import app

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
# x is not given: the inputs are "every column but species", which a file may order differently.
CONFIG = """\
name: cols
seed: 5
data:
  train: {path: data/iris.csv, y: species}
  validation: {split: 0.3}
  test: {path: data/iris-test.csv}
model:
  layers:
    - {type: Dense, units: 8, activation: relu}
    - {type: Dense, units: 3, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 2, batch_size: 16}
"""


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One trained run (and the text `train` printed), shared by the tests below."""
    home = tmp_path_factory.mktemp("cols")
    shutil.copytree(CONFIGS / "data", home / "data")
    (home / "cols.yaml").write_text(CONFIG)
    result = invoke("train", home / "cols.yaml", "-o", home / "runs")
    assert result.exit_code == 0, result.output
    return home, next((home / "runs" / "cols").iterdir()), result.output


def rewrite(source: Path, target: Path, columns) -> Path:
    """Writes `source` with its columns picked (and ordered) by `columns(header) -> [names]`."""
    rows = list(csv.DictReader(source.open()))
    names = columns(list(rows[0]))
    with target.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        writer.writerows([[row.get(n, "1") for n in names] for row in rows])
    return target


def test_run_json_records_the_training_columns(trained):
    _, run, _ = trained
    inputs = json.loads((run / "run.json").read_text())["inputs"]
    assert inputs == {
        "input": {
            "columns": ["sepal_length", "sepal_width", "petal_length", "petal_width"],
            "dtypes": ["double"] * 4,
        }
    }


def test_predict_selects_columns_by_name(trained, tmp_path):
    home, run, _ = trained
    new = home / "data" / "iris-new.csv"
    outputs = {}
    for name, columns in {
        "same": lambda h: h,
        "reversed": lambda h: h[::-1],
        "extra": lambda h: ["id", *h, "notes"],
    }.items():
        source = rewrite(new, tmp_path / f"{name}.csv", columns)
        result = invoke("predict", run, "--input", source, "--output", tmp_path / f"{name}-out.csv")
        assert result.exit_code == 0, result.output
        outputs[name] = (tmp_path / f"{name}-out.csv").read_text()
    assert outputs["reversed"] == outputs["same"] == outputs["extra"]


def test_predict_names_a_missing_column_and_the_input_file(trained, tmp_path):
    home, run, _ = trained
    source = rewrite(home / "data" / "iris-new.csv", tmp_path / "renamed.csv", lambda h: [*h[:3], "other"])
    result = invoke("predict", run, "--input", source, "--output", tmp_path / "out.csv")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{source}: --input: renamed.csv has no column 'petal_width', which the model was trained on "
        "(its inputs read: sepal_length, sepal_width, petal_length, petal_width)"
    ]
    assert not (tmp_path / "out.csv").exists()


def test_evaluate_on_reordered_test_columns_gives_the_same_loss(trained, tmp_path):
    home, run, _ = trained
    reordered = rewrite(home / "data" / "iris-test.csv", tmp_path / "test-rev.csv", lambda h: h[::-1])
    plain = invoke("evaluate", run, "--json")
    moved = invoke("evaluate", run, "--json", "--set", f"data.test.path={reordered}")
    assert plain.exit_code == moved.exit_code == 0, moved.output
    assert json.loads(moved.output)["metrics"] == json.loads(plain.output)["metrics"]


def test_predict_never_writes_over_its_input_or_an_existing_file(trained, tmp_path):
    _, run, _ = trained
    victim = tmp_path / "victim.csv"
    victim.write_text("sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n")
    result = invoke("predict", run, "--input", victim, "--output", victim)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"--output {victim} is the input file; write the output to another file"
    assert victim.read_text().startswith("sepal_length,")

    taken = tmp_path / "taken.csv"
    taken.write_text("mine\n")
    result = invoke("predict", run, "--input", victim, "--output", taken)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"--output {taken} exists; choose another name or pass --force to overwrite it"
    assert taken.read_text() == "mine\n"
    assert invoke("predict", run, "--input", victim, "--output", taken, "--force").exit_code == 0
    assert taken.read_text().startswith("label,")


def test_plot_and_import_refuse_to_overwrite(trained, tmp_path):
    _, run, _ = trained
    victim = tmp_path / "victim.yaml"
    victim.write_text("a: 1\n")
    result = invoke("plot", run, "-o", victim)
    assert result.exit_code == 2
    assert (
        result.stderr.strip() == f"--output: expected a .png file, got '{victim}' (a .yaml name would hold PNG bytes)"
    )
    result = invoke("import", run / "model.keras", "-o", victim)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"--output {victim} exists; choose another name or pass --force to overwrite it"
    assert victim.read_text() == "a: 1\n"
    png = tmp_path / "curves.png"
    png.write_bytes(b"old")
    assert invoke("plot", run, "-o", png).exit_code == 2
    assert invoke("plot", run, "-o", png, "--force").exit_code == 0 and png.read_bytes()[:4] == b"\x89PNG"


def test_final_metrics_show_train_and_validation_side_by_side(trained):
    _, run, printed = trained
    history = json.loads((run / "history.json").read_text())
    validation = json.loads((run / "metrics.json").read_text())["validation"]
    header = next(line for line in printed.splitlines() if "metric" in line and "final" not in line)
    assert "train (last epoch)" in header and "validation" in header
    row = next(line for line in printed.splitlines() if line.strip("│ ").startswith("accuracy"))
    cells = [c.strip() for c in row.strip("│").split("│")]
    assert cells == ["accuracy", f"{history['accuracy'][-1]:.4f}", f"{validation['accuracy']:.4f}"]
    assert np.isclose(validation["accuracy"], history["val_accuracy"][-1])
