"""Prediction columns named after what the user named: target columns, `keep` identifiers."""

import json

import numpy as np
from conftest import write_config

from kerascli.config.spec import Source
from kerascli.data import predictions


def test_multi_label_columns_take_the_target_names():
    headers, cols = predictions.columns(
        "dense_1", np.array([[0.9, 0.1, 0.7]]), None, predictions.BINARY, "", ["sports", "politics", "tech"]
    )
    assert headers == ["sports", "politics", "tech"] and [c.tolist() for c in cols] == [[0.9], [0.1], [0.7]]


def test_target_columns_of_a_source():
    assert predictions.target_columns(Source(path="d.csv", y="price"), ["dense_1"]) == {"dense_1": ["price"]}
    assert predictions.target_columns(Source(path="d.csv", y=["a", "b"]), ["out"]) == {"out": ["a", "b"]}
    assert predictions.target_columns(Source(x="x.npy", y="y.npy"), ["out"]) == {}  # files name no columns


def test_regression_predictions_are_named_after_the_target_and_keep_ids(cli, workdir):
    rows = "\n".join(f"{i},{i * 0.1:.2f},{i * 0.2 + 1:.2f}" for i in range(40))
    (workdir / "d.csv").write_text("id,x,price\n" + rows + "\n")
    (workdir / "new.csv").write_text("id,x\nk1,0.5\nk2,1.5\n")
    config_path = write_config(
        workdir,
        """
data:
  train: {path: d.csv, x: [x], y: price}
  predict: {path: new.csv, keep: [id]}
model: {layers: [{type: Dense, units: 1}]}
compile: {optimizer: adam, loss: mse}
fit: {epochs: 1}
""",
    )
    result = cli("train", config_path, "--quiet", "--json")
    assert result.exit_code == 0, result.output
    run_dir = workdir / json.loads(result.output)["run_dir"]
    assert cli("predict", run_dir).exit_code == 0
    lines = (run_dir / "predictions.csv").read_text().splitlines()
    assert lines[0] == "id,price"
    assert [line.split(",")[0] for line in lines[1:]] == ["k1", "k2"]


def test_keep_names_a_missing_column(cli, workdir):
    (workdir / "d.csv").write_text("x,y\n1,2\n2,3\n")
    config_path = write_config(
        workdir,
        """
data:
  train: {path: d.csv, x: [x], y: y}
  predict: {path: d.csv, keep: [ident]}
model: {layers: [{type: Dense, units: 1}]}
compile: {optimizer: adam, loss: mse}
fit: {epochs: 1}
""",
    )
    result = cli("train", config_path, "--quiet", "--json")
    run_dir = workdir / json.loads(result.output)["run_dir"]
    result = cli("predict", run_dir)
    assert result.exit_code == 2 and "data.predict.keep: no column 'ident' in d.csv" in result.output


def test_keep_is_for_predict_only(cli, workdir):
    config_path = write_config(
        workdir,
        """
data:
  train: {path: d.csv, x: [x], y: y, keep: [id]}
model: {layers: [{type: Dense, units: 1}]}
compile: {optimizer: adam, loss: mse}
""",
    )
    result = cli("validate", config_path)
    assert result.exit_code == 2 and "'keep' belongs on data.predict" in result.output
