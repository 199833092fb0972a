"""Spec → `keras.Model` and `compile()` arguments.

Every name is resolved through Keras itself (`keras.layers`, `keras.optimizers`,
`keras.losses`, `keras.metrics`, `keras.callbacks` and Keras' registry of custom
objects); kerascli never reimplements one. Keras errors raised while building a
node are re-raised as config errors naming the node and its line.
"""

from __future__ import annotations

import re
from typing import Any

import keras

from kerascli.config import checks
from kerascli.config.document import Document, Key
from kerascli.config.spec import Config, KerasObject, ModelSpec
from kerascli.errors import ConfigError

ANSI = re.compile(r"\x1b\[[0-9;]*m")

# Constructor arguments whose values are Keras objects, by name suffix.
NESTED = (
    ("initializer", "initializers"),
    ("regularizer", "regularizers"),
    ("constraint", "constraints"),
)
# Layers that are not safe or not possible to build from a config.
FORBIDDEN_LAYERS = {"Lambda", "TFSMLayer", "JaxLayer", "FlaxLayer", "TorchModuleWrapper", "Input", "InputSpec"}


def clean(exc: BaseException) -> str:
    """A Keras exception message as one readable line (no ANSI codes)."""
    text = ANSI.sub("", str(exc)).strip() or type(exc).__name__
    # Keras wraps errors raised in call() with a header and a dump of the
    # arguments (KerasTensor reprs); the message the user needs is between.
    text = re.split(r"\n\s*Arguments received by ", text)[0]
    text = re.sub(r"^Exception encountered when calling [\w.]+\(\)\.\s*", "", text.strip())
    # Sets of allowed strings print in hash order; sort them so a message is stable.
    text = re.sub(r"\{'[^{}']*'(?:, '[^{}']*')+\}",
                  lambda m: "{" + ", ".join(sorted(m.group(0)[1:-1].split(", "))) + "}", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines)[:600] or type(exc).__name__


def build_model(spec: ModelSpec, doc: Document, input_shapes: dict[str, tuple] | None = None,
                input_dtypes: dict[str, str] | None = None, blocks: dict | None = None) -> keras.Model:
    """Builds the functional model that `spec` describes.

    Args:
        spec: the `model:` section.
        doc: the config, for error locations.
        input_shapes: per-input sample shapes inferred from the data, used
            when `spec.inputs` is absent.
        input_dtypes: per-input dtypes inferred from the data.
        blocks: the config's `blocks:` (sub-graphs used as node types).

    Returns:
        An uncompiled `keras.Model` whose outputs are a tensor (one output)
        or a dict keyed by output node name (several).

    Raises:
        ConfigError: a node Keras cannot build, with its line.
    """
    from kerascli.model.functional import build_graph_model  # noqa: PLC0415 - it imports this module

    if spec.inputs is not None:
        inputs = {
            name: keras.Input(shape=tuple(s.shape), dtype=s.dtype, name=name)
            for name, s in spec.inputs.items()
        }
    elif input_shapes:
        dtypes = input_dtypes or {}
        inputs = {name: keras.Input(shape=tuple(shape), dtype=dtypes.get(name, "float32"), name=name)
                  for name, shape in input_shapes.items()}
    else:
        raise ConfigError([doc.problem(("model",), "model.inputs is not given and there is no training data to infer the input shape from")])
    return build_graph_model(spec, doc, inputs, _model_name(doc), blocks)


def _model_name(doc: Document) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", doc.data.get("name") or doc.path.stem)


def layer_class(type_name: str):
    """The Keras layer class named `type_name` (built-in or registered)."""
    if type_name in FORBIDDEN_LAYERS:
        return None
    cls = getattr(keras.layers, type_name, None)
    if isinstance(cls, type) and issubclass(cls, keras.layers.Layer):
        return cls
    cls = keras.saving.get_registered_object(type_name)
    if isinstance(cls, type) and issubclass(cls, keras.layers.Layer):
        return cls
    return None


def make_layer(type_name: str, kwargs: dict, name: str | None, doc: Document, key: Key) -> keras.layers.Layer:
    """Instantiates one layer, resolving nested Keras objects in its kwargs."""
    cls = layer_class(type_name)
    if cls is None:
        raise ConfigError([doc.problem(key + ("type",), f"unknown layer '{type_name}'")])
    _refuse_serialized(kwargs, doc, key)
    resolved = {}
    for arg, value in kwargs.items():
        resolved[arg] = _nested(arg, value, doc, key + (arg,))
    if name is not None:
        resolved["name"] = name
    try:
        return cls(**resolved)
    except Exception as exc:  # noqa: BLE001 - constructors raise ValueError/TypeError
        raise ConfigError([doc.problem(key, f"{type_name}({_show_kwargs(kwargs)}) was rejected by Keras: {clean(exc)}")]) from None


def _refuse_serialized(kwargs: dict, doc: Document, key: Key) -> None:
    """Keras deserializes dicts with `class_name`/`module`; none may reach a constructor."""
    found = checks.serialized_keys(kwargs, key)
    if found:
        raise ConfigError([doc.problem(path, checks.serialized_message(path[-1])) for path in found])


def _show_kwargs(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if not isinstance(v, dict))


def _nested(arg: str, value: Any, doc: Document, key: Key) -> Any:
    """Turns `{type: X, ...}` values into Keras objects (layers, initializers...)."""
    if arg in ("layer", "backward_layer") and isinstance(value, dict) and "type" in value:
        inner = {k: v for k, v in value.items() if k not in ("type", "name")}
        return make_layer(value["type"], inner, value.get("name"), doc, key)
    for suffix, module in NESTED:
        if arg == suffix or arg.endswith("_" + suffix):
            if isinstance(value, dict) and "type" in value:
                return resolve_object(module, KerasObject.model_validate(value), doc, key)
    return value


def resolve_object(module: str, obj: KerasObject, doc: Document, key: Key) -> Any:
    """Builds a Keras object of `keras.<module>` from a `KerasObject` spec.

    Strings are returned as they are (Keras resolves them itself in
    `compile()` and keeps the spelling as the history key); mappings build
    the class with its kwargs.
    """
    if obj.is_string:
        if module in ("losses", "metrics"):
            return obj.type
        getter = getattr(_keras_module(module), "get", None)
        try:
            if getter is not None:
                return getter(obj.type)
        except Exception:  # noqa: BLE001 - `get` raises ValueError for unknown names
            pass
    cls = getattr(_keras_module(module), obj.type, None)
    if not isinstance(cls, type):
        cls = keras.saving.get_registered_object(obj.type)
    if not isinstance(cls, type):
        raise ConfigError([doc.problem(key, f"unknown {module[:-1]} '{obj.type}'")])
    kwargs = dict(obj.kwargs)
    _refuse_serialized(kwargs, doc, key)
    if module == "optimizers" and isinstance(kwargs.get("learning_rate"), dict):
        schedule = KerasObject.model_validate(kwargs["learning_rate"])
        kwargs["learning_rate"] = resolve_object("optimizers.schedules", schedule, doc, key + ("learning_rate",))
    try:
        return cls(**kwargs)
    except Exception as exc:  # noqa: BLE001
        raise ConfigError([doc.problem(key, f"{obj.type} was rejected by Keras: {clean(exc)}")]) from None


def _keras_module(path: str):
    module = keras
    for part in path.split("."):
        module = getattr(module, part)
    return module


def compile_arguments(config: Config, model: keras.Model, doc: Document) -> dict[str, Any]:
    """The keyword arguments of `model.compile()` that `config.compile` describes."""
    spec = config.compile
    out_names = list(model.output_names) if isinstance(model.output, dict) else []
    multi = isinstance(model.output, dict) and len(model.output) > 1
    args: dict[str, Any] = {
        "optimizer": resolve_object("optimizers", spec.optimizer, doc, ("compile", "optimizer")),
        "jit_compile": spec.jit_compile,
        # `auto` is kerascli's: the runner replaces it with a number (kerascli.engine.speed).
        "steps_per_execution": 1 if spec.steps_per_execution == "auto" else spec.steps_per_execution,
    }
    loss = spec.loss
    if isinstance(loss, dict):
        _check_output_keys(loss, out_names, doc, ("compile", "loss"))
        args["loss"] = {k: resolve_object("losses", v, doc, ("compile", "loss", k)) for k, v in loss.items()}
    elif loss is not None:
        value = resolve_object("losses", loss, doc, ("compile", "loss"))
        args["loss"] = {k: value for k in model.output} if multi else value
    metrics = spec.metrics
    if isinstance(metrics, dict):
        _check_output_keys(metrics, out_names, doc, ("compile", "metrics"))
        args["metrics"] = {
            k: [resolve_object("metrics", m, doc, ("compile", "metrics", k)) for m in (v if isinstance(v, list) else [v])]
            for k, v in metrics.items()
        }
    elif metrics is not None:
        if multi:
            # Keras rejects a flat list on a multi-output model ("tuple arity
            # mismatch"); apply it to every output, fresh objects for each.
            args["metrics"] = {
                k: [resolve_object("metrics", m, doc, ("compile", "metrics", i)) for i, m in enumerate(metrics)]
                for k in model.output
            }
        else:
            args["metrics"] = [resolve_object("metrics", m, doc, ("compile", "metrics", i)) for i, m in enumerate(metrics)]
    if spec.loss_weights is not None:
        if isinstance(spec.loss_weights, dict):
            _check_output_keys(spec.loss_weights, out_names, doc, ("compile", "loss_weights"))
        args["loss_weights"] = spec.loss_weights
    return args


def _check_output_keys(mapping: dict, out_names: list[str], doc: Document, key: Key) -> None:
    import difflib

    problems = []
    for name in mapping:
        if name not in out_names:
            hint = difflib.get_close_matches(name, out_names, n=1)
            expected = f"outputs are: {', '.join(out_names)}" if out_names else "the model has a single output; give a single value, not a mapping"
            problems.append(doc.problem(key + (name,), f"'{name}' is not a model output; {expected}" + (f" (did you mean '{hint[0]}'?)" if hint else "")))
    if problems:
        raise ConfigError(problems)


# Callbacks that need a package kerascli does not depend on, beyond what the
# catalogue finds in their constructors (TensorBoard imports TensorFlow later,
# when training starts, even on the JAX backend).
CALLBACK_PACKAGES = {"TensorBoard": ("tensorflow", "pip install tensorflow")}


def check_callback_packages(config: Config, doc: Document) -> None:
    """Fails early, before a run starts, when a callback's package is missing.

    Raises:
        ConfigError: naming the callback, the package and how to install it.
    """
    import importlib.util

    from kerascli.config.catalog import load_catalog

    problems = []
    for i, spec in enumerate(config.fit.callbacks):
        entry = load_catalog().get("callbacks", spec.type)
        needed = list(entry.requires) if entry else []
        extra = CALLBACK_PACKAGES.get(spec.type)
        if extra and extra[0] not in needed:
            needed.append(extra[0])
        for package in needed:
            module = package.replace("-", "_").replace("orbax_checkpoint", "orbax")
            if importlib.util.find_spec(module) is None:
                install = extra[1] if extra and extra[0] == package else f"pip install {package}"
                hint = "; for a log without it, use {type: CSVLogger, filename: history.csv}" if spec.type == "TensorBoard" else ""
                problems.append(doc.problem(("fit", "callbacks", i), f"callback {spec.type} needs {package}, which is not installed: {install}{hint}"))
    if problems:
        raise ConfigError(problems)


def make_callbacks(config: Config, doc: Document, run_dir) -> list:
    """The Keras callbacks the config lists, with paths placed in the run directory."""
    from pathlib import Path

    callbacks = []
    for i, spec in enumerate(config.fit.callbacks):
        key = ("fit", "callbacks", i)
        cls = getattr(keras.callbacks, spec.type, None)
        if not isinstance(cls, type) or spec.type in ("LambdaCallback", "LearningRateScheduler"):
            raise ConfigError([doc.problem(key, f"callback '{spec.type}' cannot be used from a config")])
        kwargs = spec.kwargs
        if spec.type in ("EarlyStopping", "ReduceLROnPlateau", "ModelCheckpoint") and kwargs.get("mode", "auto") == "auto":
            monitor = kwargs.get("monitor", "val_loss")
            kwargs["mode"] = "min" if monitor.endswith("loss") or "error" in monitor else "max" if any(
                w in monitor for w in ("acc", "auc", "precision", "recall", "f1")) else "auto"
        for path_arg in ("filepath", "filename", "log_dir", "backup_dir"):
            if path_arg in kwargs:
                target = Path(str(kwargs[path_arg]))
                if checks.outside_run_dir(str(kwargs[path_arg])):
                    raise ConfigError([doc.problem(key + (path_arg,), f"expected a path inside the run directory, got '{kwargs[path_arg]}'")])
                kwargs[path_arg] = str(Path(run_dir) / target)
        try:
            callbacks.append(cls(**kwargs))
        except Exception as exc:  # noqa: BLE001
            raise ConfigError([doc.problem(key, f"{spec.type} was rejected by Keras: {clean(exc)}")]) from None
    return callbacks
