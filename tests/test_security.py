"""A config can never run code: refused tags, serialized Keras objects, unsafe models, paths, plugins."""

from __future__ import annotations

import json
import sys
import textwrap

import keras
import numpy as np
import pytest
from conftest import write_config

from kerascli.cli import app  # noqa: F401 - the CLI module must import without Keras side effects
from kerascli.config import catalog
from kerascli.run import rundir as artifacts

MODEL = "model:\n  layers:\n    - {type: Dense, units: 3, activation: softmax}\n"
DATA = "data:\n  train: {path: data/iris.csv, y: species}\n"


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "name: !!python/object/apply:os.system ['true']\n" + MODEL,
            "config.yaml:1:7: name: YAML tag '!!python/object/apply:os.system' is not allowed",
        ),
        ("seed: !!python/name:os.getpid\n" + MODEL, "YAML tag '!!python/name:os.getpid' is not allowed"),
        (
            DATA
            + "model:\n  layers:\n    - {type: Dense, units: 3, kernel_initializer: {class_name: Zeros, module: os, config: {}}}\n",
            "model.layers[0].kernel_initializer.class_name: 'class_name' is not allowed in a config",
        ),
        (
            DATA
            + "model:\n  layers:\n    - {type: Dense, units: 3, dtype: {registered_name: 'builtins>eval', config: {}}}\n",
            "model.layers[0].dtype.registered_name: 'registered_name' is not allowed in a config",
        ),
        (
            DATA + MODEL + "compile:\n  optimizer: {type: Adam, learning_rate: {module: os, class_name: system}}\n",
            "compile.optimizer.learning_rate.module: 'module' is not allowed in a config",
        ),
        (
            DATA + 'model:\n  layers:\n    - {type: Lambda, function: \'lambda x: __import__("os").system("true")\'}\n',
            "layer 'Lambda' cannot be used from a config (needs a Python callable)",
        ),
        (
            DATA + MODEL + "fit:\n  callbacks: [{type: LambdaCallback, on_train_begin: print}]\n",
            "callback 'LambdaCallback' cannot be used from a config (needs Python callables)",
        ),
        (
            DATA + MODEL + "fit:\n  callbacks: [{type: BackupAndRestore, backup_dir: ../../elsewhere}]\n",
            "fit.callbacks[0].backup_dir: expected a path inside the run directory, got '../../elsewhere'",
        ),
        (DATA + MODEL + "name: ../../etc\n", "name: expected a name of letters, digits"),
    ],
    ids=[
        "python-object",
        "python-name",
        "module-in-kwarg",
        "registered-name",
        "module-in-schedule",
        "lambda-layer",
        "lambda-callback",
        "callback-path",
        "run-name",
    ],
)
def test_config_cannot_name_code(cli, workdir, text, expected):
    path = write_config(workdir, text)
    for command in ("validate", "train"):
        result = cli(command, path)
        assert result.exit_code == 2, result.output
        assert expected in result.stderr
    assert not (workdir / "runs").exists()


@pytest.mark.parametrize("name", ["../../etc", "/etc/passwd", "..", "a/../../b", "~root", "C:\\Windows"])
def test_run_names_stay_inside_the_output_dir(tmp_path, name):
    run = artifacts.new_run_dir(tmp_path / "runs", name)
    assert (tmp_path / "runs") in run.resolve().parents


def test_a_model_file_with_code_is_refused_by_safe_mode(cli, workdir):
    run = workdir / "runs" / "evil" / "20260101-000000"
    run.mkdir(parents=True)
    config = write_config(workdir, DATA + MODEL)
    (run / "config.yaml").write_text(config.read_text().replace("data/iris.csv", str(workdir / "data" / "iris.csv")))
    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2), keras.layers.Dense(3)])
    model.save(run / "model.keras")
    result = cli("evaluate", run)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"refused to load {run / 'model.keras'}: Requested the deserialization of a `Lambda` layer whose "
        "`function` is a Python lambda (Keras safe mode)"
    ]


def test_npy_files_are_never_unpickled(cli, workdir):
    np.save(workdir / "x.npy", np.array([[{"a": 1}]] * 4, dtype=object), allow_pickle=True)
    np.save(workdir / "y.npy", np.arange(4))
    path = write_config(workdir, "data:\n  train: {x: x.npy, y: y.npy}\n" + MODEL)
    result = cli("train", path)
    assert result.exit_code == 2
    assert "x.npy holds Python objects (pickled data), which kerascli never loads" in result.stderr


PLUGIN = textwrap.dedent("""
    import keras

    @keras.saving.register_keras_serializable(package="fuzzplug")
    class Scale(keras.layers.Layer):
        \"\"\"Multiplies its input by a constant.

        Args:
            factor: the constant.
        \"\"\"

        def __init__(self, factor, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}
""")


@pytest.fixture
def plugin_module(workdir, monkeypatch):
    (workdir / "scaleplugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(workdir))
    yield "scaleplugin"
    catalog.load_catalog.cache_clear()  # forget the plugin's names for the next tests
    sys.modules.pop("scaleplugin", None)


def test_custom_layers_come_only_from_plugins_named_on_the_command_line(cli, workdir, plugin_module):
    path = write_config(
        workdir,
        DATA + "seed: 1\nmodel:\n  layers:\n    - {type: Scale, factor: 0.5}\n"
        "    - {type: Dense, units: 3, activation: softmax}\n"
        "compile: {loss: sparse_categorical_crossentropy}\n",
    )
    result = cli("validate", path)
    assert result.exit_code == 2 and "model.layers[0].type: unknown layer 'Scale'" in result.stderr

    result = cli("validate", path, "--plugin", plugin_module)
    assert result.exit_code == 0, result.output
    bad = write_config(workdir, "model:\n  layers:\n    - {type: Scale, factr: 2}\n", name="bad.yaml")
    result = cli("validate", bad, "--plugin", plugin_module)
    assert "Scale got an unexpected argument 'factr' (did you mean 'factor'?)" in result.stderr

    result = cli("train", path, "--plugin", plugin_module, "--quiet", "--set", "fit.epochs=1")
    assert result.exit_code == 0, result.output
    result = cli("predict", "--plugin", plugin_module, "--input", workdir / "data" / "iris-new.csv", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"] == 10


def test_a_plugin_that_fails_to_import_is_a_usage_error(cli, workdir):
    path = write_config(workdir, DATA + MODEL)
    result = cli("validate", path, "--plugin", "no_such_module_here")
    assert result.exit_code == 2
    assert result.stderr.startswith("--plugin no_such_module_here: cannot import it: ModuleNotFoundError")


def test_the_builder_refuses_serialized_objects_even_without_validation(workdir):
    from kerascli import config
    from kerascli.errors import ConfigError
    from kerascli.model import objects as build

    doc = config.parse("model: {}\n", "c.yaml", workdir / "c.yaml")
    with pytest.raises(ConfigError, match=r"model.layers\[0\].kernel_initializer.module: 'module' is not allowed"):
        build.make_layer(
            "Dense",
            {"units": 2, "kernel_initializer": {"module": "os", "class_name": "system"}},
            None,
            doc,
            ("model", "layers", 0),
        )
