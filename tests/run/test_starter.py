"""`kerascli init`: every template validates and trains one epoch on the user's data."""

import json
import shutil

import numpy as np
import pytest
import yaml
from conftest import CONFIGS


@pytest.fixture
def data_dir(workdir):
    shutil.copytree(CONFIGS / "data", workdir / "data")
    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, 3))
    price = features @ [1.5, -2.0, 0.5] + 3
    rows = ["size,rooms,age,price"] + [f"{a:.3f},{b:.3f},{c:.3f},{p:.3f}" for (a, b, c), p in zip(features, price)]
    (workdir / "data" / "houses.csv").write_text("\n".join(rows) + "\n")
    np.savez(
        workdir / "data" / "digits.npz",
        x=rng.integers(0, 256, size=(40, 8, 8), dtype=np.uint8),
        y=rng.integers(0, 3, size=40),
    )
    return workdir / "data"


CASES = [
    ("tabular-classifier", ["data/iris.csv", "data/iris-test.csv"], "Dense, units: 3, activation: softmax"),
    ("regression", ["data/houses.csv"], "Dense, units: 1}"),
    ("image-cnn", ["data/digits.npz"], "Reshape, target_shape: [8, 8, 1]"),
    ("two-branch", ["data/binary.csv"], "x: {left: [f1, f2], right: [f3, f4]}"),
]


@pytest.mark.parametrize("template,data,expected", CASES, ids=[c[0] for c in CASES])
def test_template_validates_and_trains_one_epoch(cli, workdir, data_dir, template, data, expected):
    args = ["init", "--template", template, "-o", "configs/starter.yaml"]
    for path in data:
        args += ["--data", path]
    (workdir / "configs").mkdir()
    result = cli(*args)
    assert result.exit_code == 0, result.output
    text = (workdir / "configs" / "starter.yaml").read_text()
    assert text.startswith("# Starter config written by `kerascli init --template")
    assert expected in text
    assert "path: ../data/" in text  # data paths are relative to the config
    result = cli("validate", "configs/starter.yaml")
    assert result.exit_code == 0, result.output
    result = cli("train", "configs/starter.yaml", "--set", "fit.epochs=1", "--quiet", "--json")
    assert result.exit_code == 0, result.output
    run_dir = workdir / json.loads(result.output)["run_dir"]
    assert all(len(v) == 1 for v in json.loads((run_dir / "history.json").read_text()).values())
    # the CSVLogger callback of every template logs into the run directory
    assert (run_dir / "history.csv").read_text().startswith("epoch,")


@pytest.mark.parametrize(
    "args,message",
    [
        (["--template", "tabular-classifier"], "init needs the training data: --data TRAIN_FILE"),
        (
            ["--template", "svm", "--data", "data/iris.csv"],
            "unknown template 'svm', expected one of: tabular-classifier, regression, image-cnn, two-branch",
        ),
        (
            ["--template", "regression", "--data", "data/iris.csv"],
            "the target 'species' is not numeric; for class labels use --template tabular-classifier",
        ),
        (
            ["--template", "tabular-classifier", "--data", "data/houses.csv"],
            "holds fractional numbers; for a numeric target use --template regression",
        ),
        (["--data", "data/iris.csv", "--target", "specie"], "no column 'specie'"),
        (["--template", "image-cnn", "--data", "data/iris.csv"], "reads an .npz file"),
        (["--data", "data/nope.csv"], "no such file: data/nope.csv"),
    ],
    ids=[
        "no-data",
        "unknown-template",
        "regression-on-labels",
        "classifier-on-numbers",
        "unknown-target",
        "image-on-csv",
        "missing-file",
    ],
)
def test_init_errors_say_what_to_do(cli, data_dir, args, message):
    result = cli("init", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_init_does_not_overwrite_without_force(cli, workdir, data_dir):
    (workdir / "kerascli.yaml").write_text("mine\n")
    result = cli("init", "--data", "data/iris.csv")
    assert result.exit_code == 2 and "pass --force" in result.output
    assert (workdir / "kerascli.yaml").read_text() == "mine\n"
    assert cli("init", "--data", "data/iris.csv", "--force").exit_code == 0
    assert yaml.safe_load((workdir / "kerascli.yaml").read_text())["data"]["train"]["y"] == "species"
