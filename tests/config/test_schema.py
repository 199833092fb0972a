"""The JSON Schema: fresh, Keras-free, accepts the examples, rejects typos."""

import json
import os
import subprocess
import sys

import jsonschema
import pytest
import yaml
from conftest import CONFIGS, REPO

from kerascli.config.schema import build_schema, dumps_schema

SCHEMA_FILE = REPO / "schemas" / "kerascli.schema.json"
EXAMPLES = sorted(CONFIGS.glob("*.yaml"))


@pytest.fixture(scope="module")
def validator():
    # (checking the 650 kB schema against the meta-schema takes ~10 s; the
    # accept/reject tests below exercise every kind of definition instead)
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))


def test_committed_schema_is_fresh():
    assert SCHEMA_FILE.read_text() == dumps_schema(build_schema()), (
        "schemas/kerascli.schema.json is stale: run `kerascli schema -o schemas/kerascli.schema.json --force`"
    )


def test_schema_command_does_not_import_keras(tmp_path):
    target = tmp_path / "s.json"
    code = (
        "import sys; from typer.testing import CliRunner; from kerascli.cli import app;"
        f"r = CliRunner().invoke(app, ['schema', '-o', {str(target)!r}]); assert r.exit_code == 0, r.output;"
        "assert 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert json.loads(target.read_text())["title"] == "kerascli config"


def test_schema_prints_to_stdout(cli):
    result = cli("schema")
    assert result.exit_code == 0
    layer_names = [item["const"] for item in json.loads(result.output)["$defs"]["layer_name"]["anyOf"]]
    assert {"Dense", "Conv2D", "MaxPool2D", "LSTM"} <= set(layer_names)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_starts_with_the_schema_line_and_is_accepted(validator, path):
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=../schemas/kerascli.schema.json\n")
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(yaml.safe_load(text))]
    assert errors == []


def _iris():
    return yaml.safe_load((CONFIGS / "iris.yaml").read_text())


def _set(path, value):
    def change(data):
        node = data
        for part in path[:-1]:
            node = node[part]
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return change


DELETE = object()

TYPOS = [
    ("layer-argument", _set(("model", "layers", 0, "unit"), 16), ["model", "layers", 0], "'unit' was unexpected"),
    ("layer-type", _set(("model", "layers", 0, "type"), "Dence"), ["model", "layers", 0, "type"], "Dence"),
    (
        "missing-required",
        _set(("model", "layers", 0, "units"), DELETE),
        ["model", "layers", 0],
        "'units' is a required",
    ),
    ("activation", _set(("model", "layers", 0, "activation"), "relux"), ["model", "layers", 0, "activation"], "relux"),
    (
        "initializer",
        _set(("model", "layers", 0, "kernel_initializer"), "he_normall"),
        ["model", "layers", 0, "kernel_initializer"],
        "he_normall",
    ),
    ("argument-type", _set(("model", "layers", 0, "use_bias"), "yes"), ["model", "layers", 0, "use_bias"], "'yes'"),
    ("optimizer-name", _set(("compile", "optimizer"), "adamm"), ["compile", "optimizer"], "adamm"),
    (
        "optimizer-argument",
        _set(("compile", "optimizer"), {"type": "Adam", "learnin_rate": 0.1}),
        ["compile", "optimizer"],
        "learnin_rate",
    ),
    ("loss", _set(("compile", "loss"), "sparse_categorical_crossentropyy"), ["compile", "loss"], "crossentropyy"),
    ("metric", _set(("compile", "metrics"), ["acuracy"]), ["compile", "metrics", 0], "acuracy"),
    ("section-key", _set(("fit", "epoch"), 3), ["fit"], "'epoch' was unexpected"),
    ("top-level-key", _set(("modle",), {}), [], "'modle' was unexpected"),
    (
        "callback",
        _set(("fit", "callbacks"), [{"type": "EarlyStopping", "patiense": 3}]),
        ["fit", "callbacks", 0],
        "patiense",
    ),
    ("spec-constraint", _set(("fit", "epochs"), 0), ["fit", "epochs"], "minimum"),
]


@pytest.mark.parametrize("change,path,fragment", [t[1:] for t in TYPOS], ids=[t[0] for t in TYPOS])
def test_schema_rejects_typos(validator, change, path, fragment):
    data = _iris()
    change(data)
    errors = list(validator.iter_errors(data))
    assert errors, "the schema accepted a broken config"
    best = jsonschema.exceptions.best_match(errors)
    assert list(best.absolute_path) == path
    assert fragment in best.message or any(fragment in str(e.instance) or fragment in e.message for e in errors)


ACCEPTED = [
    (
        "schedule",
        _set(
            ("compile", "optimizer"),
            {
                "type": "Adam",
                "learning_rate": {
                    "type": "ExponentialDecay",
                    "initial_learning_rate": 0.1,
                    "decay_steps": 10,
                    "decay_rate": 0.9,
                },
            },
        ),
    ),
    ("alias-layer", _set(("model", "layers", 0), {"type": "MaxPool1D", "pool_size": 2})),
    ("wrapper", _set(("model", "layers", 0), {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 4}})),
    ("per-output-loss", _set(("compile", "loss"), {"digit": "mse", "size": {"type": "Huber", "delta": 2.0}})),
    ("keras-config-initializer", _set(("model", "layers", 0, "kernel_initializer"), {"type": "HeNormal", "seed": 1})),
    ("csv-logger", _set(("fit", "callbacks"), [{"type": "CSVLogger", "filename": "log.csv"}])),
]


@pytest.mark.parametrize("change", [t[1] for t in ACCEPTED], ids=[t[0] for t in ACCEPTED])
def test_schema_accepts_valid_variants(validator, change):
    data = _iris()
    change(data)
    assert [e.message for e in validator.iter_errors(data)] == []


def test_schema_output_refuses_a_yaml_name_and_an_existing_file(cli, tmp_path):
    victim = tmp_path / "victim.yaml"
    victim.write_text("name: hand-written\n")
    result = cli("schema", "-o", victim)
    assert result.exit_code == 2
    assert (
        result.stderr.strip() == f"--output: expected a .json file, got '{victim}' (a .yaml name would hold JSON bytes)"
    )
    assert victim.read_text() == "name: hand-written\n"

    taken = tmp_path / "taken.json"
    taken.write_text("{}")
    result = cli("schema", "-o", taken)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"--output {taken} exists; choose another name or pass --force to overwrite it"
    assert taken.read_text() == "{}"
    assert cli("schema", "-o", taken, "--force").exit_code == 0
    assert json.loads(taken.read_text())["title"] == "kerascli config"


def test_schema_file_takes_the_mode_the_umask_gives(cli, tmp_path):
    previous = os.umask(0o027)
    try:
        assert cli("schema", "-o", tmp_path / "s.json").exit_code == 0
    finally:
        os.umask(previous)
    assert (tmp_path / "s.json").stat().st_mode & 0o777 == 0o640
