"""`summary --plugin`, and the hint for a custom layer named without the `--plugin` its run used."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import write_config

PLUGIN = """
import keras

@keras.saving.register_keras_serializable(package="kclihint")
class Tripler(keras.layers.Layer):
    def call(self, x):
        return x * 3.0
"""

CONFIG = """\
name: custom
data:
  train: {path: data/iris.csv, y: species}
model:
  layers:
    - {name: scaled, type: Tripler}
    - {name: species, type: Dense, units: 3, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy}
fit: {epochs: 1}
"""


def test_summary_takes_plugins_and_validate_names_the_module_a_run_used(cli, workdir, monkeypatch):
    (workdir / "kcli_hint_mod.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(workdir))
    config = write_config(workdir, CONFIG)
    result = cli("summary", config, "--plugin", "kcli_hint_mod", "--json")
    assert result.exit_code == 0, result.output
    assert [row["type"] for row in json.loads(result.stdout)["layers"]][1] == "Tripler"

    assert cli("train", config, "--plugin", "kcli_hint_mod", "--quiet").exit_code == 0
    run_json = next((workdir / "runs" / "custom").glob("*/run.json"))
    assert json.loads(run_json.read_text())["plugins"]["kcli_hint_mod"] == ["Tripler", "kclihint>Tripler"]

    sys.modules.pop("kcli_hint_mod", None)
    from keras.saving import get_custom_objects

    get_custom_objects().pop("kclihint>Tripler", None)
    get_custom_objects().pop("Tripler", None)
    from kerascli.config.catalog import load_catalog

    load_catalog.cache_clear()  # a new process: the catalogue without the plugin's names
    result = cli("validate", config)
    assert result.exit_code == 2
    assert (
        f"model.layers[0].type: unknown layer 'Tripler': it is registered by the plugin module 'kcli_hint_mod' "
        f"that {run_json.parent.relative_to(workdir)} was trained with; pass --plugin kcli_hint_mod" in result.stderr
    )


@pytest.mark.slow
def test_export_and_serve_take_the_plugins_a_run_was_trained_with(cli, workdir, monkeypatch):
    (workdir / "kcli_serve_mod.py").write_text(textwrap.dedent(PLUGIN.replace("kclihint", "kcliserve")))
    monkeypatch.syspath_prepend(str(workdir))
    config = write_config(workdir, CONFIG)
    assert cli("train", config, "--plugin", "kcli_serve_mod", "--quiet").exit_code == 0
    run = next((workdir / "runs" / "custom").glob("*/"))

    # The export subprocess starts without the custom layer: it imports the --plugin modules itself.
    result = cli("export", str(run), "--format", "onnx", "--plugin", "kcli_serve_mod", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["max_abs_diff"]["species"] <= 1e-4

    from fastapi.testclient import TestClient

    from kerascli.run.serve.serving import ServeOptions, build_app

    with TestClient(build_app(ServeOptions(target=str(run), plugins=["kcli_serve_mod"]))) as client:
        answer = client.post(
            "/predict",
            json={"rows": [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}]},
        )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["predictions"]) == 1
    sys.modules.pop("kcli_serve_mod", None)


@pytest.mark.slow
def test_predict_with_a_plugin_loads_keras_on_the_runs_backend(workdir):
    # The plugin is imported before the run is opened: Keras must start on the run's `backend:`
    # (torch here), not on the default, or opening the run refuses the second backend.
    import subprocess

    module = textwrap.dedent(PLUGIN.replace("kclihint", "kclitorch"))
    (workdir / "kcli_torch_mod.py").write_text(module + "\nopen('backend.txt', 'w').write(keras.backend.backend())\n")
    write_config(workdir, "backend: torch\n" + CONFIG)
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[2]), str(workdir)])

    def kerascli(*args):
        return subprocess.run(
            [sys.executable, "-m", "kerascli", *args], cwd=workdir, env=env, capture_output=True, text=True
        )

    trained = kerascli("train", "config.yaml", "--plugin", "kcli_torch_mod", "--quiet")
    assert trained.returncode == 0, trained.stderr
    (workdir / "backend.txt").unlink()
    predicted = kerascli(
        "predict", "--plugin", "kcli_torch_mod", "--input", "data/iris.csv", "--output", "out.csv", "--json"
    )
    assert predicted.returncode == 0, predicted.stderr
    assert json.loads(predicted.stdout)["rows"] > 0 and (workdir / "out.csv").is_file()
    assert (workdir / "backend.txt").read_text() == "torch"  # the plugin was imported with Keras on torch
