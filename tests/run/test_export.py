"""`kerascli export`: artifacts that their own runtime runs to Keras' predictions, described by signature.json."""

import csv
import importlib.util
import json
import shutil

import numpy as np
import pytest
from conftest import CONFIGS
from typer.testing import CliRunner

from kerascli.cli import app
from kerascli.errors import KerasCliError, UsageError
from kerascli.run.export import exporting, formats

IRIS_COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def kerascli(*args):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def train(directory, config: str):
    shutil.copytree(CONFIGS / "data", directory / "data", dirs_exist_ok=True)
    shutil.copy(CONFIGS / config, directory / config)
    result = kerascli("train", directory / config, "-o", directory / "runs", "--quiet", "--set", "fit.epochs=2")
    assert result.exit_code == 0, result.output
    return next((directory / "runs").glob("*/*"))


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory):
    return train(tmp_path_factory.mktemp("iris"), "iris.yaml")


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_onnx_export_runs_in_onnxruntime_like_kerascli_predict(iris_run, tmp_path):
    result = kerascli("export", iris_run, "--format", "onnx", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["source"] == "validation" and report["rows"] == 36
    assert max(report["max_abs_diff"].values()) <= 1e-4
    directory = iris_run / "export" / "onnx"
    assert sorted(p.name for p in directory.iterdir()) == ["model.onnx", "signature.json"]

    # A consumer with only onnxruntime and signature.json gets `kerascli predict`'s answers.
    signature = json.loads((directory / "signature.json").read_text())
    (spec,) = signature["inputs"]
    (output,) = signature["outputs"]
    assert spec["columns"] == IRIS_COLUMNS and spec["shape"] == [None, 4]
    assert output["classes"] == ["setosa", "versicolor", "virginica"]
    assert output["columns"] == ["label", "p_setosa", "p_versicolor", "p_virginica"]
    rows = read_csv(CONFIGS / "data" / "iris-new.csv")
    x = np.array([[float(row[c]) for c in spec["columns"]] for row in rows], dtype=np.float32)
    import onnxruntime

    session = onnxruntime.InferenceSession(str(directory / "model.onnx"))
    assert [o.name for o in session.get_outputs()] == [output["name"]]
    (probabilities,) = session.run(None, {spec["name"]: x})
    predicted = kerascli("predict", iris_run, "--input", CONFIGS / "data" / "iris-new.csv", "-o", tmp_path / "p.csv")
    assert predicted.exit_code == 0, predicted.output
    expected = read_csv(tmp_path / "p.csv")
    assert [output["classes"][i] for i in probabilities.argmax(axis=1)] == [row["label"] for row in expected]
    keras_p = np.array([[float(row[c]) for c in output["columns"][1:]] for row in expected])
    assert np.abs(probabilities - keras_p).max() <= 1e-4


@pytest.mark.slow
def test_an_existing_export_is_replaced_only_with_force(iris_run, tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "mine.txt").write_text("keep")
    result = CliRunner().invoke(app, ["export", str(iris_run), "-o", str(target)])
    assert result.exit_code == 2
    assert f"{target} already exists; pass --force to replace it" in result.output
    assert (target / "mine.txt").read_text() == "keep"
    result = kerascli("export", iris_run, "-o", target, "--force")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in target.iterdir()) == ["model.onnx", "signature.json"]


@pytest.mark.slow
def test_an_artifact_that_disagrees_with_keras_is_refused_and_nothing_is_written(iris_run, tmp_path, monkeypatch):
    real = exporting._write_and_run

    def off_by_a_bit(*args):
        outputs, runtime = real(*args)
        return {name: values + 1e-3 for name, values in outputs.items()}, runtime

    monkeypatch.setattr(exporting, "_write_and_run", off_by_a_bit)
    with pytest.raises(KerasCliError, match=r"differ from Keras' predict by up to 0\.001 on 36 validation rows"):
        exporting.export(str(iris_run), "onnx", tmp_path / "out")
    assert list(tmp_path.iterdir()) == []  # no export, no staging leftovers


@pytest.mark.slow
def test_openvino_export_of_a_two_output_model(tmp_path):
    if importlib.util.find_spec("openvino") is None:
        pytest.skip("openvino is not installed (pip install 'kerascli[openvino]')")
    run = train(tmp_path, "multihead.yaml")
    result = kerascli("export", run, "--format", "openvino", "--json")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)["max_abs_diff"]) == {"kind", "value"}
    signature = json.loads((run / "export" / "openvino" / "signature.json").read_text())
    assert [(o["name"], o["kind"]) for o in signature["outputs"]] == [("kind", "categorical"), ("value", "regression")]
    assert signature["outputs"][0]["columns"] == ["kind.label", "kind.p_high", "kind.p_low", "kind.p_mid"]
    assert signature["outputs"][1]["columns"] == ["value"]
    assert (run / "export" / "openvino" / "model.bin").is_file()


@pytest.mark.parametrize(
    ("name", "missing", "extra"),
    [
        ("onnx", "onnxruntime", "onnx"),
        ("openvino", "openvino", "openvino"),
        ("tf_saved_model", "tensorflow", "tensorflow"),
        ("litert", "ai_edge_litert", "litert"),
    ],
)
def test_a_missing_dependency_is_one_line_naming_the_extra(monkeypatch, name, missing, extra):
    # Everything else the format needs counts as installed.
    monkeypatch.setattr(importlib.util, "find_spec", lambda module, *a: None if module == missing else object())
    with pytest.raises(KerasCliError) as caught:
        formats.get(name)
    assert caught.value.lines() == [
        f"export --format {name} needs {missing}, which is not installed: pip install 'kerascli[{extra}]'"
    ]


def test_an_unknown_format_lists_the_formats():
    with pytest.raises(
        UsageError, match="unknown export format 'tflite', expected one of: onnx, openvino, tf_saved_model, litert"
    ):
        formats.get("tflite")
