"""The TensorFlow and torch backends: every example trains and predicts on each.

Keras fixes its backend at its first import, so each backend runs in one
subprocess that trains every example config for one epoch and predicts (the
JAX runs are tests/test_configs.py, in this process). torch and TensorFlow are
in the `test` extra and must be there in CI; elsewhere a missing one skips:

    .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest tests/engine/test_backends.py
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import CONFIGS

from kerascli.engine import backend

EXAMPLES = sorted(p.name for p in CONFIGS.glob("*.yaml"))
TENSORFLOW_ONLY = [n for n in EXAMPLES if "\nbackend: tensorflow\n" in (CONFIGS / n).read_text()]
"""Examples with string inputs (Keras' string layers in the graph): TensorFlow only."""
TIMEOUT = 600

# Runs in the subprocess: every example through the real CLI (in-process, one
# Keras import), then `predict` on the run trained on JAX by the test process.
WORKER = """
import json, sys
from pathlib import Path
import yaml
from typer.testing import CliRunner
from kerascli.cli import app

runner = CliRunner()
def run(*args):
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    # stdout alone is the --json answer: TensorFlow's logging writes to stderr (kept for the failure message)
    return {"exit_code": result.exit_code, "output": result.stdout, "stderr": result.stderr[-3000:]}

report = {}
for name in sys.argv[1].split(","):
    phases = (yaml.safe_load(Path(f"configs/{name}").read_text()).get("fit") or {}).get("phases") or []
    epochs = [f"fit.phases[{i}].epochs=1" for i in range(len(phases))] or ["fit.epochs=1"]  # one epoch (a phase)
    train = run("train", f"configs/{name}", *[a for e in epochs for a in ("--set", e)], "--quiet", "--json")
    entry = report[name] = {"train": train}
    if train["exit_code"] == 0:
        entry["predict"] = run("predict", json.loads(train["output"])["run_dir"], "--json")
report["jax_run"] = run("predict", "jax_run", "--output", "jax_run_predictions.csv", "--json")
print("REPORT " + json.dumps(report))
"""


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _require(name: str) -> None:
    if _installed(name):
        return
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed, but CI must run the {name} tests: it is in the test extra")
    pytest.skip(f"{name} is not installed ({backend.INSTALL[name]})")


@pytest.fixture(scope="module")
def jax_run(tmp_path_factory):
    """The iris example trained for one epoch on JAX (this process) and its predictions."""
    from kerascli.run import inference
    from kerascli.run import train as runner

    base = tmp_path_factory.mktemp("jax")
    shutil.copytree(CONFIGS, base / "configs")
    result = runner.train(base / "configs" / "iris.yaml", ["fit.epochs=1"], output_dir=base / "runs", quiet=True)
    predictions, _ = inference.predict(str(result.run_dir))
    return result.run_dir, predictions


@pytest.fixture(scope="module", params=["torch", "tensorflow"])
def backend_report(request, tmp_path_factory, jax_run):
    """Runs WORKER on one backend; returns `(backend, report, workdir)`."""
    name = request.param
    _require(name)
    workdir = tmp_path_factory.mktemp(name)
    shutil.copytree(CONFIGS, workdir / "configs")
    shutil.copytree(jax_run[0], workdir / "jax_run")
    env = dict(os.environ, KERAS_BACKEND=name, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("XLA_FLAGS", None)
    examples = [n for n in EXAMPLES if name == "tensorflow" or n not in TENSORFLOW_ONLY]
    process = subprocess.run(
        [sys.executable, "-c", WORKER, ",".join(examples)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    lines = [line for line in process.stdout.splitlines() if line.startswith("REPORT ")]
    assert process.returncode == 0 and lines, process.stderr[-3000:]
    return name, json.loads(lines[-1][len("REPORT ") :]), workdir


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_trains_one_epoch_and_predicts(backend_report, example):
    name, report, workdir = backend_report
    if example not in report:
        pytest.skip(f"{example} needs backend: tensorflow (string inputs)")
    train = report[example]["train"]
    assert train["exit_code"] == 0, train["output"] + train["stderr"]
    run_dir = workdir / json.loads(train["output"])["run_dir"]
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "completed" and info["versions"]["backend"] == name
    history = json.loads((run_dir / "history.json").read_text())
    epochs = len(history.get("phase") or [1])  # one epoch, or one per phase of fit.phases
    assert history and all(len(values) == epochs for values in history.values())
    predict = report[example]["predict"]
    assert predict["exit_code"] == 0, predict["output"] + predict["stderr"]
    assert json.loads(predict["output"])["rows"] > 0


def test_model_trained_on_jax_predicts_the_same_on_another_backend(backend_report, jax_run):
    name, report, workdir = backend_report
    assert report["jax_run"]["exit_code"] == 0, report["jax_run"]["output"]
    header, *rows = jax_run[1].read_text().splitlines()
    other_header, *other_rows = (workdir / "jax_run_predictions.csv").read_text().splitlines()
    assert other_header == header and header.startswith("label,p_")
    assert [r.split(",")[0] for r in other_rows] == [r.split(",")[0] for r in rows]  # the same labels
    ours = np.array([[float(v) for v in r.split(",")[1:]] for r in rows])
    theirs = np.array([[float(v) for v in r.split(",")[1:]] for r in other_rows])
    np.testing.assert_allclose(theirs, ours, atol=1e-5)


def test_missing_backend_names_the_pip_command(cli, iris_config, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    result = cli("train", iris_config, "--backend", "torch", "--quiet")
    assert result.exit_code == 2
    assert "backend 'torch' is not installed; install it with: pip install 'kerascli[torch]'" in result.output
    assert not (iris_config.parent / "runs").exists()


def test_unknown_backend_is_a_usage_error(cli, iris_config, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "mxnet")
    result = cli("train", iris_config, "--quiet")
    assert result.exit_code == 2
    assert "KERAS_BACKEND: unknown backend 'mxnet', expected one of: jax, tensorflow, torch" in result.output


def test_backend_precedence_flag_over_environment_over_config(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert backend.resolve("tensorflow", "jax") == "tensorflow"
    assert backend.resolve(None, "jax") == "torch"
    monkeypatch.delenv("KERAS_BACKEND")
    assert backend.resolve(None, "tensorflow") == "tensorflow"
    assert backend.resolve(None, None) == "jax"
