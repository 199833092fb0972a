"""End to end through the CLI: train → evaluate → predict, exit codes, start-up."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import write_config


def test_import_cli_does_not_import_keras():
    code = "import sys, kerascli.cli; assert 'keras' not in sys.modules and 'jax' not in sys.modules, sorted(m for m in sys.modules if m.startswith(('keras', 'jax')))"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("command", ["validate", "runs", "diff"])
def test_fast_commands_do_not_import_keras(iris_config, workdir, command):
    for stamp in ("20261201-100000", "20261201-110000"):  # two runs as `train` leaves them, for runs and diff
        run = workdir / "runs" / "iris" / stamp
        run.mkdir(parents=True)
        (run / "run.json").write_text(
            json.dumps({"status": "completed", "config": {"name": "iris", "seed": int(stamp[-6:])}})
        )
        (run / "history.json").write_text(json.dumps({"loss": [1.0, 0.5]}))
    args = {
        "validate": [str(iris_config)],
        "runs": [str(workdir / "runs")],
        "diff": [str(p) for p in sorted((workdir / "runs" / "iris").iterdir())],
    }[command]
    code = (
        "import sys; from typer.testing import CliRunner; from kerascli.cli import app;"
        f"r = CliRunner().invoke(app, {[command, *args]!r}); assert r.exit_code == 0, r.output;"
        "assert 'keras' not in sys.modules, r.output"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_train_evaluate_predict_iris(cli, iris_config, workdir):
    result = cli("train", iris_config, "--set", "fit.epochs=2", "--quiet")
    assert result.exit_code == 0, result.output
    runs = list((workdir / "runs" / "iris").iterdir())
    assert len(runs) == 1
    run = runs[0]
    for name in ("config.yaml", "model.keras", "history.json", "metrics.json", "run.json", "labels.json"):
        assert (run / name).is_file(), name
    history = json.loads((run / "history.json").read_text())
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 2 for v in history.values())
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and info["seed"] == 42 and info["versions"]["backend"] == "jax"
    assert {"load_data", "build", "fit", "save"} <= set(info["timings"])
    assert json.loads((run / "labels.json").read_text()) == {"dense_1": ["setosa", "versicolor", "virginica"]}
    assert "epochs: 2" in (run / "config.yaml").read_text()
    assert set(json.loads((run / "metrics.json").read_text())["validation"]) == {"loss", "accuracy"}

    result = cli("evaluate", "--json")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)["metrics"]) == {"loss", "accuracy"}
    assert "test" in json.loads((run / "metrics.json").read_text())

    result = cli("predict", "--batch-size", "128")
    assert result.exit_code == 0, result.output
    lines = (run / "predictions.csv").read_text().splitlines()
    assert lines[0] == "label,p_setosa,p_versicolor,p_virginica"
    assert len(lines) == 1 + 10  # one row per row of iris-new.csv
    assert lines[1].split(",")[0] in {"setosa", "versicolor", "virginica"}

    out = workdir / "p.npy"
    result = cli("predict", str(run), "--input", workdir / "data" / "iris-test.csv", "--output", out)
    assert result.exit_code == 0, result.output
    probs = np.load(out)
    assert probs.shape == (30, 3) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_seeded_reruns_give_identical_history(cli, iris_config, workdir):
    for _ in range(2):
        assert cli("train", iris_config, "--set", "fit.epochs=3", "--quiet").exit_code == 0
    runs = sorted((workdir / "runs" / "iris").iterdir())
    assert len(runs) == 2 and runs[0] != runs[1]
    first, second = (json.loads((r / "history.json").read_text()) for r in runs)
    assert first == second


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "data:\n  train: {path: data/iris.csv, y: species}\nmodel:\n  layers:\n    - {type: Dense, units: 3}\nfit:\n  epochz: 2\n",
            "config.yaml:7:3: fit.epochz: unknown key 'epochz' (did you mean 'epochs'?)",
        ),
        (
            "data:\n  train: {path: data/iris.csv, y: species}\nmodel:\n  layers:\n    - {type: Dence, units: 3}\n",
            "config.yaml:5:8: model.layers[0].type: unknown layer 'Dence' (did you mean 'Dense'?)",
        ),
        (
            "data:\n  train: {path: data/iris.csv, y: species}\nmodel:\n  layers:\n    - {type: Dense, unit: 3}\n",
            "config.yaml:5:21: model.layers[0].unit: Dense got an unexpected argument 'unit' (did you mean 'units'?)",
        ),
    ],
    ids=["typo-key", "unknown-layer", "bad-kwarg"],
)
def test_invalid_config_exits_2_with_location(cli, workdir, text, expected):
    path = write_config(workdir, text)
    for command in ("validate", "train"):
        result = cli(command, path)
        assert result.exit_code == 2
        assert expected in result.output
        assert "Traceback" not in result.output
    assert not (workdir / "runs").exists()


def test_keras_rejection_names_the_node_and_line(cli, workdir):
    path = write_config(
        workdir,
        "data:\n  train: {path: data/iris.csv, y: species}\nmodel:\n  layers:\n"
        "    - {type: Dense, units: 8}\n    - {name: out, type: Dense, units: 0}\n"
        "compile: {loss: sparse_categorical_crossentropy}\n",
    )
    result = cli("train", path)
    assert result.exit_code == 2
    assert "config.yaml:6:7: model.layers[1]: Dense(units=0) was rejected by Keras" in result.output
    assert not (workdir / "runs").exists()


def test_every_problem_is_reported_at_once(cli, workdir):
    path = write_config(
        workdir,
        "model:\n  layers:\n    - {type: Dense, unit: 3, activation: reluu}\n"
        "compile: {optimizer: adamm}\nfit: {epochs: ten}\n",
    )
    result = cli("validate", path)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 4, lines
    assert [line.split(": ")[1] for line in lines] == [
        "model.layers[0].unit",
        "model.layers[0].activation",
        "compile.optimizer",
        "fit.epochs",
    ]


def test_debug_shows_the_traceback(cli, workdir):
    path = write_config(workdir, "model:\n  layers:\n    - {type: Dense, units: 3}\n")
    result = cli("--debug", "train", path)
    assert result.exit_code == 2
    assert "Traceback" in result.output and "missing required key 'train'" in result.output


def test_evaluate_without_runs_is_a_usage_error(cli):
    result = cli("evaluate")
    assert result.exit_code == 2
    assert "no run found under ./runs" in result.output


def test_console_script_runs_as_module(iris_config):
    result = subprocess.run(
        [sys.executable, "-m", "kerascli", "validate", str(iris_config)], capture_output=True, text=True
    )
    assert result.returncode == 0 and "ok" in result.stdout


def test_validate_json_carries_the_warnings(cli, workdir):
    path = write_config(
        workdir,
        "data:\n  train: {path: data/iris.csv, y: species}\nmodel:\n  layers:\n"
        "    - {name: a, type: Dense, units: 3}\n    - {name: b, type: Dense, units: 3, inputs: a}\n  outputs: a\n",
    )
    result = cli("validate", "--json", path)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["valid"] is True
    assert [(w["line"], w["path"], w["message"]) for w in report["warnings"]] == [
        (6, "model.layers[1]", "warning: node 'b' feeds no output of the model: its result is unused")
    ]
