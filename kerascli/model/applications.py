"""`keras.applications` models as node types: `{type: MobileNetV2, weights: null, ...}`.

A node whose `type` names a Keras application (`MobileNetV2`, `ResNet50`,
`EfficientNetB0`, ...) is built by calling that constructor with the node's
arguments, named after the node, so it is one nested model: one row in
`summary`, one layer in the saved `model.keras`. Kerascli adds only what the
config cannot otherwise say:

- `input_shape` defaults to the shape of the tensor the node reads;
- `weights:` `imagenet` downloads as Keras does; a path is a local
  `.weights.h5` file, relative to the config; `null` is random init;
- `preprocess_input: true` applies the application's own
  `keras.applications.<module>.preprocess_input` to the node's input first,
  as Keras ops in the graph (saved with the model), because feeding pixels in
  [0, 255] to a model trained on [-1, 1] is the classic silent error;
- a node with `trainable: false` or `freeze:` keeps its BatchNormalization
  layers in inference mode even when a later phase unfreezes the rest, as the
  Keras transfer-learning guide requires (see `freezing.batch_norm_paths` for
  why kerascli keeps them frozen rather than passing `training=False`).
"""

from __future__ import annotations

from typing import Any

from kerascli.config.document import Document, Key
from kerascli.engine.keras_import import load_keras
from kerascli.errors import ConfigError, KerasCliError

keras = load_keras()

WEIGHTS_SUFFIX = ".weights.h5"


def constructor(type_name: str):
    """The `keras.applications` function named `type_name`, or None."""
    if not isinstance(type_name, str) or type_name.startswith("_"):
        return None
    fn = getattr(keras.applications, type_name, None)
    return fn if callable(fn) and type_name[:1].isupper() else None


def is_application(type_name) -> bool:
    """Whether a node type names a `keras.applications` model."""
    return constructor(type_name) is not None


def preprocess(type_name: str, tensor):
    """`tensor` through the application's own `keras.applications.<module>.preprocess_input`.

    It runs as Keras ops on the symbolic tensor, so it is part of the graph
    and of the saved model.
    """
    fn = constructor(type_name)
    module = getattr(keras.applications, fn.__module__.rsplit(".", 1)[-1])
    return module.preprocess_input(tensor)


def build(type_name: str, kwargs: dict, name: str, input_tensor, doc: Document, key: Key):
    """Builds one application as a nested model named `name`.

    Args:
        type_name: the application, e.g. `"MobileNetV2"`.
        kwargs: the node's constructor arguments.
        name: the node's name (the nested model's name).
        input_tensor: the tensor the node reads (its shape is the default
            `input_shape`).
        doc: the config, for error locations and relative paths.
        key: the node's key.

    Returns:
        The application `keras.Model`.

    Raises:
        ConfigError: arguments Keras rejects, a missing weights file.
        KerasCliError: `weights: imagenet` that cannot be downloaded.
    """
    fn = constructor(type_name)
    arguments = dict(kwargs)
    arguments.setdefault("input_shape", tuple(input_tensor.shape[1:]))
    if isinstance(arguments.get("input_shape"), list):
        arguments["input_shape"] = tuple(arguments["input_shape"])
    arguments["weights"] = _weights(arguments.get("weights", "imagenet"), doc, key + ("weights",))
    try:
        return fn(**arguments, name=name)
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - constructors raise ValueError, downloads OSError/URLError
        from kerascli.model.objects import clean

        if arguments["weights"] == "imagenet" and not isinstance(exc, (ValueError, TypeError)):
            raise KerasCliError(
                f"{type_name} '{name}': cannot download the imagenet weights ({clean(exc)}); "
                "use weights: null, or a local .weights.h5 file"
            ) from None
        shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        raise ConfigError([doc.problem(key, f"{type_name}({shown}) was rejected by Keras: {clean(exc)}")]) from None


def _weights(value: Any, doc: Document, key: Key):
    """`imagenet`, None, or the absolute path of a local `.weights.h5` file."""
    if value is None or value == "imagenet":
        return value
    if not str(value).endswith(WEIGHTS_SUFFIX):
        raise ConfigError([doc.problem(key, f"expected imagenet, null or a {WEIGHTS_SUFFIX} file, got '{value}'")])
    path = doc.resolve_path(key, str(value))
    if not path.is_file():
        raise ConfigError([doc.problem(key, f"no such weights file: {path}")])
    return str(path.resolve())
