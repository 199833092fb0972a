"""Tests for kerascli.catalog: the shipped catalogue of Keras names."""

import importlib.util
import inspect
import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="kerascli-test-keras-"))

from kerascli.config import catalog as catalog_module  # noqa: E402
from kerascli.config.catalog import (  # noqa: E402
    KINDS,
    Argument,
    Catalog,
    Entry,
    load_catalog,
)
from kerascli.introspection import docstrings, generate  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

ALLOWED_TYPES = {
    None,
    "integer",
    "number",
    "boolean",
    "string",
    "array",
    "object",
    "integer|array",
    "string|object",
}


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


@pytest.fixture(scope="module")
def generated(keras):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return generate.generate_catalog(keras)


# ---------------------------------------------------------------------------
# Loading without Keras.
# ---------------------------------------------------------------------------


def test_load_does_not_import_keras(tmp_path):
    code = (
        "import sys\n"
        "from kerascli.config.catalog import load_catalog\n"
        "c = load_catalog()\n"
        "assert c.get('layers', 'Dense') is not None\n"
        "assert c.suggest('layers', 'Dence') == 'Dense'\n"
        "bad = [m for m in ('keras', 'jax', 'numpy') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env["KERAS_HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_load_is_cached():
    assert load_catalog() is load_catalog()


def test_catalog_json_is_small():
    size = catalog_module.CATALOG_PATH.stat().st_size
    assert size < 1_500_000, size


# ---------------------------------------------------------------------------
# Contents of the shipped catalogue.
# ---------------------------------------------------------------------------


def test_dense(cat):
    dense = cat.get("layers", "Dense")
    assert isinstance(dense, Entry)
    assert dense.kind == "layers" and dense.name == "Dense" and dense.form == "class"
    units = dense.arguments["units"]
    assert isinstance(units, Argument)
    assert units.required is True
    assert units.type == "integer"
    assert units.default is None
    assert "dimensionality" in units.description
    activation = dense.arguments["activation"]
    assert activation.required is False and activation.default is None
    assert dense.arguments["use_bias"].default is True
    assert dense.arguments["use_bias"].type == "boolean"
    assert dense.arguments["kernel_initializer"].default == "glorot_uniform"
    assert dense.arguments["kernel_initializer"].type == "string|object"
    # Base Layer keyword arguments pass through **kwargs.
    for name in ("name", "dtype", "trainable", "input_shape"):
        assert name in dense.accepts_kwargs
    assert "units" not in dense.accepts_kwargs
    assert "batch_size" not in dense.accepts_kwargs  # Keras 3 rejects it.
    assert set(dense.allowed_kwargs()) >= {"units", "name", "kernel_regularizer"}
    assert dense.description.startswith("Just your regular densely-connected")


def test_layer_aliases_and_exclusions(cat):
    assert cat.get("layers", "MaxPool2D").name == "MaxPooling2D"
    assert cat.get("layers", "MaxPool2D") is cat.get("layers", "MaxPooling2D")
    assert cat.aliases("layers")["Convolution2D"] == "Conv2D"
    names = cat.names("layers")
    assert names == sorted(names)
    assert "MaxPool2D" in names and "MaxPooling2D" in names
    assert "MaxPool2D" not in cat.canonical_names("layers")
    for excluded in (
        "Lambda",
        "Input",
        "InputSpec",
        "InputLayer",
        "TFSMLayer",
        "JaxLayer",
        "FlaxLayer",
        "TorchModuleWrapper",
        "Layer",
        "Wrapper",
        "add",
        "concatenate",
        "serialize",
        "deserialize",
    ):
        assert excluded not in names, excluded
        assert cat.get("layers", excluded) is None
    for kept in ("Bidirectional", "TimeDistributed", "Normalization", "Rescaling"):
        assert kept in names, kept
    assert cat.get("layers", "Bidirectional").arguments["layer"].type == "object"


def test_layer_argument_types(cat):
    conv = cat.get("layers", "Conv2D")
    assert conv.arguments["kernel_size"].type == "integer|array"
    assert conv.arguments["strides"].default == [1, 1]  # Tuples become lists.
    assert conv.arguments["strides"].type == "integer|array"
    assert cat.get("layers", "Reshape").arguments["target_shape"].type == "array"
    assert cat.get("layers", "Dropout").arguments["rate"].type == "number"


def test_optimizers(cat):
    adam = cat.get("optimizers", "adam")
    assert adam.name == "Adam"
    assert adam is cat.get("optimizers", "Adam")
    assert adam.arguments["learning_rate"].default == 0.001
    assert adam.arguments["learning_rate"].type == "number"
    assert "decay" not in adam.allowed_kwargs()  # Ignored by Keras 3.
    names = cat.names("optimizers")
    assert "Lamb" in names
    assert "lamb" not in names  # keras.optimizers.get cannot reach Lamb.
    for excluded in ("Optimizer", "LossScaleOptimizer", "MultiOptimizer"):
        assert excluded not in names
    assert cat.get("optimizers", "sgd").name == "SGD"


def test_schedules(cat):
    assert "CosineDecay" in cat.names("schedules")
    assert "LearningRateSchedule" not in cat.names("schedules")
    decay = cat.get("schedules", "ExponentialDecay")
    assert decay.arguments["decay_steps"].required
    assert decay.arguments["decay_steps"].type == "integer"


def test_losses(cat):
    names = cat.names("losses")
    for name in (
        "sparse_categorical_crossentropy",
        "categorical_crossentropy",
        "binary_crossentropy",
        "mse",
        "mean_squared_error",
        "mae",
        "MeanSquaredError",
        "crossentropy",
        "ce",
    ):
        assert name in names, name
    assert cat.get("losses", "mse").name == "mean_squared_error"
    assert cat.get("losses", "mse").form == "function"
    assert cat.get("losses", "ce").form == "special"
    assert cat.get("losses", "MeanSquaredError").form == "class"
    assert "Loss" not in names and "LossFunctionWrapper" not in names


def test_metrics(cat):
    names = cat.names("metrics")
    for name in ("accuracy", "acc", "mse", "mae", "binary_accuracy", "AUC", "auc"):
        assert name in names, name
    assert cat.get("metrics", "acc").name == "accuracy"
    assert cat.get("metrics", "accuracy").form == "special"
    assert cat.get("metrics", "Accuracy").form == "class"
    assert cat.get("metrics", "binary_accuracy").name == "BinaryAccuracy"
    # compile() special-cases "crossentropy"/"ce" for losses only.
    assert "ce" not in names and "crossentropy" not in names
    assert "Metric" not in names and "MeanMetricWrapper" not in names


def test_callbacks(cat):
    names = cat.names("callbacks")
    assert "EarlyStopping" in names
    assert "TensorBoard" in names
    for excluded in (
        "LambdaCallback",
        "LearningRateScheduler",
        "Callback",
        "CallbackList",
        "History",
        "ProgbarLogger",
    ):
        assert excluded not in names, excluded
    patience = cat.get("callbacks", "EarlyStopping").arguments["patience"]
    assert patience.default == 0 and patience.type == "integer"
    min_delta = cat.get("callbacks", "EarlyStopping").arguments["min_delta"]
    assert min_delta.type == "number"  # Int default, float values.
    assert cat.get("callbacks", "ModelCheckpoint").arguments["filepath"].required


def test_requires(cat):
    for name in ("StringLookup", "IntegerLookup", "TextVectorization", "Hashing"):
        assert cat.get("layers", name).requires == ("tensorflow",)
    assert cat.get("layers", "Dense").requires == ()
    assert cat.get("layers", "Normalization").requires == ()
    assert cat.get("losses", "mse").requires == ()


def test_activations_initializers_regularizers_constraints(cat):
    assert "relu" in cat.names("activations")
    assert cat.get("activations", "swish").name == "silu"
    assert "serialize" not in cat.names("activations")
    assert "get" not in cat.names("activations")
    assert cat.get("initializers", "he_normal").name == "HeNormal"
    assert "Initializer" not in cat.names("initializers")
    assert cat.get("regularizers", "l2").name == "L2"
    assert cat.get("regularizers", "L2").arguments["l2"].default == 0.01
    assert cat.get("constraints", "non_neg").name == "NonNeg"
    assert cat.get("constraints", "max_norm").name == "MaxNorm"


def test_suggest(cat):
    assert cat.suggest("layers", "Dence") == "Dense"
    assert cat.suggest("layers", "dense") == "Dense"
    assert cat.suggest("layers", "maxpooling2d") == "MaxPooling2D"
    assert cat.suggest("optimizers", "Adamm") == "Adam"
    assert cat.suggest("losses", "MSE") == "MSE"  # Already valid.
    assert cat.suggest("losses", "mean_squared_eror") == "mean_squared_error"
    assert cat.suggest("layers", "qqqqqqqq") is None
    assert cat.suggest("layers", "") is None


def test_unknown_names_and_kinds(cat):
    assert cat.get("layers", "NoSuchLayer") is None
    assert cat.get("layers", 3) is None
    with pytest.raises(ValueError, match="Unknown kind"):
        cat.get("models", "Dense")
    with pytest.raises(ValueError, match="Unknown kind"):
        cat.names("layer")


def test_every_kind_present_and_well_formed(cat):
    assert cat.keras_version().startswith("3.")
    for kind in KINDS:
        entries = cat.entries(kind)
        assert entries, kind
        for entry in entries:
            assert entry.kind == kind
            assert entry.form in catalog_module.FORMS
            assert len(entry.description) <= 210
            if entry.form != "class":
                assert not entry.arguments and not entry.accepts_kwargs
            assert not set(entry.arguments) & set(entry.accepts_kwargs)
            for arg in entry.arguments.values():
                assert arg.type in ALLOWED_TYPES, (kind, entry.name, arg)
                assert len(arg.description) <= 210
                if arg.required:
                    assert arg.default is None
                _assert_default_fits_type(arg)
        for alias, target in cat.aliases(kind).items():
            assert cat.get(kind, alias).name == target


def _assert_default_fits_type(arg):
    value, kind = arg.default, arg.type
    if value is None or kind is None or kind == "string|object":
        return
    checks = {
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "integer|array": lambda v: isinstance(v, (int, list)) and not isinstance(v, bool),
    }
    assert checks[kind](value), arg


def test_catalog_rejects_other_format():
    with pytest.raises(ValueError, match="format"):
        Catalog({"format_version": 999, "keras_version": "3", "kinds": {}})


# ---------------------------------------------------------------------------
# Docstring helpers (no Keras).
# ---------------------------------------------------------------------------


def test_parse_args_section():
    doc = inspect.cleandoc(
        """Summary line.

        Args:
            units: Positive integer, dimensionality
                of the output space.
            activation: Activation function. If you don't specify
                anything, no activation is applied (ie. "linear").
            **kwargs: Base layer keyword arguments.

        Input shape:
            N-D tensor.
        """
    )
    parsed = docstrings.parse_args_section(doc)
    assert parsed["units"] == "Positive integer, dimensionality of the output space."
    assert parsed["activation"].startswith("Activation function.")
    assert parsed["kwargs"] == "Base layer keyword arguments."
    assert "Input" not in parsed and "N-D tensor." not in parsed["kwargs"]
    assert docstrings.parse_args_section(None) == {}


def test_shorten_and_summary():
    long = "First sentence here. " + "word " * 100
    assert docstrings.shorten(long) == "First sentence here."
    text = docstrings.shorten("x" * 30 + " " + "y " * 200)
    assert len(text) <= 200 and text.endswith("...")
    assert docstrings.summary("Does a thing, e.g. this. More.\n\nBody.") == ("Does a thing, e.g. this.")


def test_doc_type():
    assert docstrings.doc_type("Positive integer, the size.") == "integer"
    assert docstrings.doc_type("Optional float.") == "number"
    assert docstrings.doc_type("Float or tuple of 2 floats.") is None
    assert docstrings.doc_type("a float, or a tuple of size 2.") is None
    assert docstrings.doc_type("Whether to do it.") is None


# ---------------------------------------------------------------------------
# Against the installed Keras.
# ---------------------------------------------------------------------------


def test_shipped_catalog_is_fresh(generated):
    shipped = json.loads(catalog_module.CATALOG_PATH.read_text(encoding="utf-8"))
    assert shipped["keras_version"] == generated["keras_version"]
    assert shipped == generated, "kerascli/catalog.json is stale: run python tools/generate_catalog.py"
    assert generate.dumps_catalog(generated) == (catalog_module.CATALOG_PATH.read_text(encoding="utf-8"))


def _load_tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_catalog_tool", ROOT / "tools" / "generate_catalog.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_generate_tool(generated, monkeypatch, tmp_path, capsys):
    tool = _load_tool()
    target = tmp_path / "catalog.json"
    monkeypatch.setattr(catalog_module, "CATALOG_PATH", target)
    monkeypatch.setattr(generate, "generate_catalog", lambda keras: generated)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    assert tool.main(["--check"]) == 1  # Missing counts as stale.
    assert "stale" in capsys.readouterr().err
    assert tool.main([]) == 0
    assert json.loads(target.read_text()) == generated
    assert tool.main(["--check"]) == 0
    target.write_text(target.read_text().replace('"Dense"', '"Dense2"', 1))
    assert tool.main(["--check"]) == 1


def test_layer_names_resolve_in_keras(cat, keras):
    for name in cat.names("layers"):
        obj = getattr(keras.layers, name)
        assert inspect.isclass(obj) and issubclass(obj, keras.layers.Layer), name
        assert obj is getattr(keras.layers, cat.get("layers", name).name)


def test_class_names_resolve_in_keras(cat, keras):
    modules = {
        "optimizers": (keras.optimizers, keras.optimizers.Optimizer),
        "schedules": (
            keras.optimizers.schedules,
            keras.optimizers.schedules.LearningRateSchedule,
        ),
        "losses": (keras.losses, keras.losses.Loss),
        "metrics": (keras.metrics, keras.metrics.Metric),
        "callbacks": (keras.callbacks, keras.callbacks.Callback),
        "initializers": (keras.initializers, keras.initializers.Initializer),
        "regularizers": (keras.regularizers, keras.regularizers.Regularizer),
        "constraints": (keras.constraints, keras.constraints.Constraint),
    }
    for kind, (module, base) in modules.items():
        for entry in cat.entries(kind):
            if entry.form != "class":
                continue
            cls = getattr(module, entry.name)
            assert issubclass(cls, base), (kind, entry.name)
            params = inspect.signature(cls.__init__).parameters
            for arg in entry.arguments:
                assert arg in params, (kind, entry.name, arg)


def test_string_identifiers_resolve_through_get(cat, keras):
    # Every alias of a kind that has `get` is another exported name of the
    # entry's class, or a string identifier that `get` resolves to it.
    getters = {
        "optimizers": keras.optimizers.get,
        "losses": keras.losses.get,
        "metrics": keras.metrics.get,
        "activations": keras.activations.get,
        "initializers": keras.initializers.get,
        "regularizers": keras.regularizers.get,
        "constraints": keras.constraints.get,
    }
    checked = 0
    for kind, get in getters.items():
        module = getattr(keras, kind)
        for alias, target in cat.aliases(kind).items():
            entry = cat.get(kind, target)
            if entry.form == "special":
                continue
            if inspect.isclass(getattr(module, alias, None)):
                # Another exported name of the class. As a bare string it may
                # still fail: initializers.get("constant") raises KeyError.
                exported = getattr(module, alias)
                assert exported is getattr(module, entry.name), (kind, alias)
                checked += 1
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                obj = get(alias)
            if entry.form == "function":
                assert obj is get(entry.name), (kind, alias)
            else:
                assert type(obj) is getattr(module, entry.name), (kind, alias)
            checked += 1
    assert checked > 80


def test_layers_accept_their_base_kwargs(cat, keras):
    # Layers whose arguments all have defaults can be built with every
    # keyword the catalogue allows through **kwargs, and reject others.
    values = {
        "activity_regularizer": None,
        "trainable": False,
        "dtype": "float32",
        "autocast": False,
        "name": "probe",
        "input_dim": 4,
        "input_shape": (4,),
    }
    tried = 0
    for entry in cat.entries("layers"):
        if any(a.required for a in entry.arguments.values()):
            continue
        if entry.requires and all(importlib.util.find_spec(p) for p in entry.requires):
            # The TensorFlow-backed lookup layers take fewer base kwargs than
            # their signature shows; the catalogue, generated without
            # TensorFlow, cannot see that. The builder reports Keras' refusal
            # with the node's line, so only this probe is skipped.
            continue
        cls = getattr(keras.layers, entry.name)
        # Layer.__init__ pops input_shape only when input_dim is absent, so
        # the two cannot be given together.
        kwargs = {k: values[k] for k in entry.accepts_kwargs if k != "input_shape"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                cls()
            except ImportError:
                # Only layers known to need an optional package may fail so.
                assert entry.requires, entry.name
                continue
            except (TypeError, ValueError):
                continue  # Needs a value despite the defaults (CategoryEncoding).
            layer = cls(**kwargs)
            if "name" in kwargs:
                assert layer.name == "probe"
            if "input_shape" in entry.accepts_kwargs:
                cls(input_shape=(4,))
            with pytest.raises((TypeError, ValueError)):
                cls(not_a_keras_argument=1)
        tried += 1
    assert tried > 40


def test_requires_matches_keras(cat, keras):
    # Entries flagged with `requires` raise ImportError when the package is
    # missing; where it is installed the flag is simply not exercised.
    import importlib.util

    for kind in ("layers", "callbacks"):
        module = getattr(keras, kind)
        for entry in cat.entries(kind):
            if not entry.requires:
                continue
            missing = [p for p in entry.requires if importlib.util.find_spec(p.replace("-", ".").split(".")[0]) is None]
            if not missing:
                continue
            kwargs = {name: _dummy(arg) for name, arg in entry.arguments.items() if arg.required}
            with pytest.raises(ImportError):
                getattr(module, entry.name)(**kwargs)


def _dummy(arg):
    return {"integer": 2, "number": 0.5, "string": "x", "array": [1]}.get(arg.type, 1)


def test_special_compile_strings(keras):
    # "acc"/"accuracy" work as metrics and "ce"/"crossentropy" as losses
    # only through compile(); keras.losses.get does not know "ce".
    import numpy as np

    with pytest.raises(ValueError):
        keras.losses.get("ce")
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    model.compile(optimizer="sgd", loss="ce", metrics=["acc"])
    x = np.zeros((4, 3), "float32")
    y = np.array([0, 1, 0, 1])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert "acc" in logs and "loss" in logs
    model.compile(optimizer="sgd", loss="mse", metrics=["ce"])
    with pytest.raises(ValueError):
        model.evaluate(x, np.zeros((4, 2), "float32"), verbose=0)
