"""The `applications` kind of the catalogue: every `keras.applications` model constructor.

Each entry is one constructor function (`MobileNetV2`, `ResNet50`, ...) with
its keyword arguments, their defaults, types and descriptions read from the
function's signature and docstring, and `module`: the public submodule whose
`preprocess_input` belongs to it (`mobilenet_v2`). Two arguments are left
out because kerascli supplies them: `input_tensor` (the node's input) and
`name` (the node's name).
"""

from __future__ import annotations

import inspect

from kerascli.introspection.docstrings import parse_args_section, summary
from kerascli.introspection.types import to_json, type_of

SUPPLIED = ("input_tensor", "name")
"""Constructor arguments the builder passes itself."""

# Types where the default (often None) gives none, or too narrow a one.
_TYPES = {
    "input_shape": "array",
    "pooling": "string",
    "weights": "string",
    "classifier_activation": "string",
    "classes": "integer",
    "alpha": "number",
    "dropout": "number",
    "dropout_rate": "number",
    "depth_multiplier": "integer",
}

NULLABLE = ("weights", "pooling", "classifier_activation", "input_shape")
"""Arguments that take null whatever their default (`weights: null` is random init)."""


def _module_of(keras, fn) -> str:
    """The public `keras.applications.<module>` holding `fn`'s `preprocess_input`."""
    name = fn.__module__.rsplit(".", 1)[-1]
    module = getattr(keras.applications, name, None)
    if module is None or not hasattr(module, "preprocess_input"):
        raise RuntimeError(f"keras.applications.{name} has no preprocess_input for {fn.__name__}")
    return name


def application_entry(keras, name: str, fn) -> dict:
    """The catalogue dict of one application constructor."""
    doc = inspect.getdoc(fn)
    docs = parse_args_section(doc)
    arguments = {}
    for param in inspect.signature(fn).parameters.values():
        if param.name in SUPPLIED or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        required = param.default is inspect.Parameter.empty
        jsonable, default = (True, None) if required else to_json(param.default)
        description = docs.get(param.name, "")
        arg_type = _TYPES.get(param.name) or type_of(param.name, required, jsonable, default, description)
        arguments[param.name] = {
            "required": required,
            "default": default if jsonable else None,
            "type": arg_type,
            "description": description,
            "nullable": param.name in NULLABLE or (not required and default is None),
        }
    return {
        "description": summary(doc) or f"The {name} model of keras.applications.",
        "form": "class",
        "arguments": arguments,
        "accepts_kwargs": [],
        "requires": [],
        "module": _module_of(keras, fn),
    }


def generate_applications(keras) -> dict:
    """The `applications` kind: `{"entries": {...}, "aliases": {}}`.

    No aliases: a config names an application as Keras exports it; the
    spellings users try (`mobilenet_v2`) get a did-you-mean from `validate`.
    """
    entries = {}
    for name in sorted(dir(keras.applications)):
        fn = getattr(keras.applications, name)
        if name.startswith("_") or not name[:1].isupper() or not inspect.isfunction(fn):
            continue
        entries[name] = application_entry(keras, name, fn)
    return {"entries": entries, "aliases": {}}
