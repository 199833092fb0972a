"""`summary --plugin`, and the hint for a custom layer named without the `--plugin` its run used."""

from __future__ import annotations

import json
import sys
import textwrap

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
