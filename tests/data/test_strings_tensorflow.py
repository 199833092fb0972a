"""Raw strings in the graph (backend: tensorflow): train → evaluate → predict on raw CSV text, Keras' string layers.

Keras fixes its backend at its first import and this process runs JAX, so one
subprocess on TensorFlow runs every scenario through the real CLI and reports
back; the assertions are here. TensorFlow is in the `test` extra (CI fails
without it); elsewhere, without it, these tests skip:

    pip install -e '.[test]'
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import CONFIGS

if importlib.util.find_spec("tensorflow") is None:
    if os.environ.get("CI"):
        raise RuntimeError("TensorFlow is not installed, but CI must run these tests: it is in the test extra")
    pytest.skip("TensorFlow is not installed: pip install -e '.[tensorflow]'", allow_module_level=True)

# A custom standardisation, as a Keras user writes one: a registered layer of string ops.
PLUGIN = '''
import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="striptags")
class StripTags(keras.layers.Layer):
    """Lower-cases and replaces HTML tags by spaces."""

    def call(self, x):
        return tf.strings.regex_replace(tf.strings.lower(x), "<[^>]*>", " ")

    def compute_output_spec(self, x):
        return keras.KerasTensor(x.shape, dtype="string")
'''

TEXT = """
seed: 1
backend: tensorflow
data:
  train: {path: reviews.csv, x: review, y: sentiment}
  validation: {split: 0.25, shuffle: false}
  test: {path: reviews.csv}
  predict: {path: new.csv, keep: [id]}
model:
  inputs: {review: {dtype: string}}
  layers:
    - {name: strip, type: StripTags}
    - {name: vectorize, type: TextVectorization, max_tokens: 40, output_sequence_length: 8, standardize: null}
    - {type: Embedding, input_dim: 40, output_dim: 4}
    - {type: GlobalAveragePooling1D}
    - {type: Dense, units: 1, activation: sigmoid}
compile: {optimizer: adam, loss: binary_crossentropy, metrics: [accuracy]}
fit: {epochs: 1, batch_size: 8}
"""

CATEGORY = """
seed: 2
backend: tensorflow
data:
  train:
    path: data/patients.csv
    x: {numeric: [age, chol], thal: thal}
    y: target
  validation: {split: 0.2}
  predict: {path: data/patients-new.csv, keep: [id]}
model:
  inputs: {numeric: {shape: [2]}, thal: {dtype: string}}
  layers:
    - {name: scaled, type: Normalization, inputs: numeric}
    - {name: lookup, type: StringLookup, output_mode: one_hot, max_tokens: 5, pad_to_max_tokens: true, inputs: thal}
    - {name: joined, type: Concatenate, inputs: [scaled, lookup]}
    - {type: Dense, units: 1, activation: sigmoid}
compile: {optimizer: adam, loss: binary_crossentropy}
fit: {epochs: 1}
"""

# Runs in the subprocess: the CLI in-process (one TensorFlow import), then Keras directly for the references.
WORKER = r"""
import csv, json, sys
from pathlib import Path
import numpy as np
from typer.testing import CliRunner
from kerascli.cli import app

runner = CliRunner()
def run(*args):
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return {"exit_code": result.exit_code, "stdout": result.stdout, "stderr": result.stderr[-3000:]}

report = {}
# First, with neither --backend nor KERAS_BACKEND: the config's `backend: tensorflow` starts Keras.
category = report["category"] = {"train": run("train", "category.yaml", "--json")}
if category["train"]["exit_code"] == 0:
    run_dir = json.loads(category["train"]["stdout"])["run_dir"]
    category["run_dir"] = run_dir
    category["predict"] = run("predict", run_dir, "--json")
    import keras

    model = keras.saving.load_model(Path(run_dir) / "model.keras")
    category["vocabulary"] = [str(t) for t in model.get_layer("lookup").get_vocabulary()]
text = report["text"] = {"train": run("train", "text.yaml", "--plugin", "striptags", "--backend", "tensorflow", "--json")}
if text["train"]["exit_code"] == 0:
    run_dir = json.loads(text["train"]["stdout"])["run_dir"]
    text["run_dir"] = run_dir
    text["evaluate"] = run("evaluate", run_dir, "--plugin", "striptags", "--backend", "tensorflow", "--json")
    text["predict"] = run("predict", run_dir, "--plugin", "striptags", "--backend", "tensorflow", "--json")
    import keras
    import striptags

    model = keras.saving.load_model(Path(run_dir) / "model.keras")
    text["vocabulary"] = [str(t) for t in model.get_layer("vectorize").get_vocabulary()]
    rows = list(csv.DictReader(open("reviews.csv")))
    training = np.array([[r["review"]] for r in rows[: len(rows) - len(rows) // 4]], dtype=object)
    reference = keras.layers.TextVectorization(max_tokens=40, output_sequence_length=8, standardize=None)
    reference.adapt(striptags.StripTags()(training))  # Keras' own adapt on the exact tensor reaching the layer
    text["reference_vocabulary"] = [str(t) for t in reference.get_vocabulary()]
    new = np.array([[r["review"]] for r in csv.DictReader(open("new.csv"))], dtype=object)
    text["direct"] = model.predict(keras.ops.convert_to_tensor(new, dtype="string"), verbose=0).ravel().tolist()
print("REPORT " + json.dumps(report))
"""


@pytest.fixture(scope="module")
def tensorflow_report(tmp_path_factory):
    """Runs WORKER on TensorFlow; returns `(report, workdir)`."""
    workdir = tmp_path_factory.mktemp("strings")
    shutil.copytree(CONFIGS / "data", workdir / "data")
    reviews = [
        ("<b>Great</b> film, GREAT cast", "pos"),
        ("awful <i>plot</i>", "neg"),
        ("great <br/>fun", "pos"),
        ("Boring and awful", "neg"),
    ] * 6
    lines = ["review,sentiment"] + [f'"{text}",{label}' for text, label in reviews]
    (workdir / "reviews.csv").write_text("\n".join(lines) + "\n")
    (workdir / "new.csv").write_text('id,review\na1,"<p>great</p> cast"\na2,awful\na3,never seen words\n')
    (workdir / "striptags.py").write_text(PLUGIN)
    (workdir / "text.yaml").write_text(TEXT)
    (workdir / "category.yaml").write_text(CATEGORY)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("XLA_FLAGS", None)
    env.pop("KERAS_BACKEND", None)  # the configs say backend: tensorflow
    process = subprocess.run(
        [sys.executable, "-c", WORKER], cwd=workdir, env=env, capture_output=True, text=True, timeout=600
    )
    lines = [line for line in process.stdout.splitlines() if line.startswith("REPORT ")]
    assert process.returncode == 0 and lines, process.stderr[-3000:]
    return json.loads(lines[-1][len("REPORT ") :]), workdir


def _ok(step: dict) -> dict:
    assert step["exit_code"] == 0, step["stdout"] + step["stderr"]
    return json.loads(step["stdout"])


def test_text_vectorization_after_a_custom_standardisation_is_adapted_on_the_standardised_training_rows(
    tensorflow_report,
):
    report, workdir = tensorflow_report
    _ok(report["text"]["train"])
    run_dir = workdir / report["text"]["run_dir"]
    assert report["text"]["vocabulary"] == report["text"]["reference_vocabulary"]  # Keras' adapt on StripTags' output
    assert "great" in report["text"]["vocabulary"] and not any("<" in t for t in report["text"]["vocabulary"])
    [record] = json.loads((run_dir / "run.json").read_text())["adapted"]
    assert record["layer"] == "vectorize" and record["class"] == "TextVectorization"
    assert record["rows"] == 18 and record["input"] == "the graph before it"  # the 18 training rows, not validation
    assert not (run_dir / "vocabularies.json").exists()  # the vocabulary lives in model.keras


def test_evaluate_and_predict_read_raw_strings_with_nothing_but_the_model(tensorflow_report):
    report, workdir = tensorflow_report
    metrics = _ok(report["text"]["evaluate"])["metrics"]
    assert set(metrics) == {"loss", "accuracy"}
    assert _ok(report["text"]["predict"])["rows"] == 3
    run_dir = workdir / report["text"]["run_dir"]
    header, *rows = (run_dir / "predictions.csv").read_text().splitlines()
    assert header == "id,label,p_pos"
    assert [r.split(",")[0] for r in rows] == ["a1", "a2", "a3"]
    probabilities = [float(r.split(",")[2]) for r in rows]
    assert probabilities == pytest.approx(report["text"]["direct"], abs=1e-6)  # as model.predict on the raw strings


def test_string_lookup_on_a_raw_category_column_is_adapted_and_predicts(tensorflow_report):
    report, workdir = tensorflow_report
    _ok(report["category"]["train"])
    assert report["category"]["vocabulary"][0] == "[UNK]"
    assert set(report["category"]["vocabulary"][1:]) == {"normal", "fixed", "reversible"}
    run_dir = workdir / report["category"]["run_dir"]
    info = json.loads((run_dir / "run.json").read_text())
    assert info["versions"]["backend"] == "tensorflow"  # from the config alone
    adapted = {r["layer"]: r for r in info["adapted"]}
    assert set(adapted) == {"scaled", "lookup"} and adapted["lookup"]["input"] == "input 'thal'"
    predicted = _ok(report["category"]["predict"])["rows"]
    assert predicted == len((workdir / "data" / "patients-new.csv").read_text().splitlines()) - 1
