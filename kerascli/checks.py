"""Checks of a config against Keras' names, without importing Keras.

Pydantic checks the shape of the config; these checks know Keras: that `Dence`
is not a layer (did you mean `Dense`?), that `Dense` takes `units` and not
`unit`, that `reluu` is not an activation, and that `inputs: [a, b]` names
nodes that exist. They read the shipped catalogue (`kerascli.catalog`) and
the raw parsed data, so they run even where Pydantic already found problems
elsewhere: every problem is reported at once. Whatever only Keras can know
(shapes, values a constructor rejects) is caught later, by the builder.
"""

from __future__ import annotations

import difflib
from typing import Any

from kerascli.catalog import Catalog, load_catalog
from kerascli.config import Document, Key
from kerascli.errors import Problem
from kerascli.spec.model import derived_name

NODE_KEYS = ("type", "name", "inputs", "repeat")

# Constructor arguments whose values are themselves Keras objects, by suffix.
NESTED_KINDS = (
    ("activation", "activations"),
    ("initializer", "initializers"),
    ("regularizer", "regularizers"),
    ("constraint", "constraints"),
)


def check(doc: Document, catalog: Catalog | None = None) -> list[Problem]:
    """Every Keras-level problem of `doc`, in no particular order.

    Args:
        doc: the parsed config (overrides applied).
        catalog: the Keras catalogue; the shipped one by default.

    Returns:
        A list of problems (empty when the config is fine as far as names go).
    """
    catalog = catalog or load_catalog()
    checker = _Checker(doc, catalog)
    data = doc.data
    model = data.get("model")
    if isinstance(model, dict):
        checker.model(model)
    section = data.get("compile")
    if isinstance(section, dict):
        checker.compile(section)
    section = data.get("fit")
    if isinstance(section, dict) and isinstance(section.get("callbacks"), list):
        for i, callback in enumerate(section["callbacks"]):
            checker.keras_object("callbacks", callback, ("fit", "callbacks", i))
    return checker.problems


class _Checker:
    def __init__(self, doc: Document, catalog: Catalog):
        self.doc = doc
        self.catalog = catalog
        self.problems: list[Problem] = []

    def report(self, key: Key, message: str) -> None:
        self.problems.append(self.doc.problem(key, message))

    # -- names -------------------------------------------------------------

    def unknown(self, kind: str, name: str, key: Key, extra: list[str] = ()) -> None:
        singular = {"activations": "activation", "losses": "loss", "metrics": "metric",
                    "callbacks": "callback", "optimizers": "optimizer", "layers": "layer",
                    "schedules": "learning-rate schedule", "initializers": "initializer",
                    "regularizers": "regularizer", "constraints": "constraint"}[kind]
        message = f"unknown {singular} '{name}'"
        hint = self.catalog.suggest(kind, name)
        if not hint and extra:
            close = difflib.get_close_matches(name, list(extra), n=1, cutoff=0.6)
            hint = close[0] if close else None
        if hint:
            message += f" (did you mean '{hint}'?)"
        elif kind == "layers" and name in ("Lambda", "TFSMLayer", "JaxLayer", "FlaxLayer", "TorchModuleWrapper"):
            message = f"layer '{name}' runs Python code and cannot be used from a config; register a custom layer in a --plugin module instead"
        self.report(key, message)

    def keras_object(self, kind: str, value: Any, key: Key) -> None:
        """Checks `value` (a string or `{type: ..., **kwargs}`) names a Keras `kind`."""
        if isinstance(value, str):
            if self.catalog.get(kind, value) is None:
                self.unknown(kind, value, key)
            return
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            return  # the spec reports the shape
        entry = self.catalog.get(kind, value["type"])
        if entry is None:
            self.unknown(kind, value["type"], key + ("type",))
            return
        kwargs = {k: v for k, v in value.items() if k != "type"}
        self.arguments(entry, kwargs, key)

    def arguments(self, entry, kwargs: dict, key: Key, skip: tuple = ()) -> None:
        """Checks constructor kwargs against the catalogue entry."""
        allowed = list(entry.arguments) + list(entry.accepts_kwargs)
        suggested = set()
        for name, value in kwargs.items():
            if name in skip:
                continue
            if name not in allowed:
                hint = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
                message = f"{entry.name} got an unexpected argument '{name}'"
                if hint:
                    message += f" (did you mean '{hint[0]}'?)"
                    suggested.add(hint[0])
                self.report(key + (name,), message)
                continue
            self.nested(name, value, key + (name,))
        for arg in entry.arguments.values():
            if arg.required and arg.name not in kwargs and arg.name not in suggested:
                self.report(key, f"{entry.name} is missing required argument '{arg.name}'")

    def nested(self, name: str, value: Any, key: Key) -> None:
        """Checks values that name Keras objects (activations, initializers, ...)."""
        if name == "learning_rate" and isinstance(value, dict):
            self.keras_object("schedules", value, key)
            return
        for suffix, kind in NESTED_KINDS:
            if name == suffix or name.endswith("_" + suffix):
                if isinstance(value, str) or (isinstance(value, dict) and "type" in value):
                    self.keras_object(kind, value, key)
                return

    # -- model ------------------------------------------------------------

    def model(self, model: dict) -> None:
        layers = model.get("layers")
        if not isinstance(layers, list):
            return
        inputs = model.get("inputs")
        input_names = list(inputs) if isinstance(inputs, dict) else []
        names: dict[str, int] = {}
        for i, node in enumerate(layers):
            if not isinstance(node, dict) or not isinstance(node.get("type"), str):
                continue
            name = node.get("name") if isinstance(node.get("name"), str) else derived_name(node["type"], i)
            key = ("model", "layers", i)
            if name in names:
                self.report(key + ("name",) if "name" in node else key,
                            f"duplicate node name '{name}' (also model.layers[{names[name]}])")
            elif name in input_names:
                self.report(key + ("name",) if "name" in node else key,
                            f"node name '{name}' is already the name of a model input")
            names.setdefault(name, i)
            self.layer(node, key)
        known = input_names + list(names)
        for i, node in enumerate(layers):
            if isinstance(node, dict):
                self.node_inputs(node.get("inputs"), ("model", "layers", i, "inputs"), known)
        outputs = model.get("outputs")
        outputs = [outputs] if isinstance(outputs, str) else outputs
        if isinstance(outputs, list):
            for j, out in enumerate(outputs):
                if isinstance(out, str) and out not in names:
                    key = ("model", "outputs", j) if isinstance(model.get("outputs"), list) else ("model", "outputs")
                    self.reference(out, key, list(names), "output")

    def layer(self, node: dict, key: Key) -> None:
        entry = self.catalog.get("layers", node["type"])
        if entry is None:
            self.unknown("layers", node["type"], key + ("type",))
            return
        kwargs = {k: v for k, v in node.items() if k not in NODE_KEYS}
        self.arguments(entry, kwargs, key, skip=("layer", "backward_layer"))
        for wrapped in ("layer", "backward_layer"):
            inner = node.get(wrapped)
            if wrapped in kwargs and wrapped in entry.arguments and isinstance(inner, dict) and isinstance(inner.get("type"), str):
                self.layer(inner, key + (wrapped,))
            elif wrapped in kwargs and wrapped not in entry.arguments and wrapped not in entry.accepts_kwargs:
                self.arguments(entry, {wrapped: inner}, key)

    def node_inputs(self, value: Any, key: Key, known: list[str]) -> None:
        if isinstance(value, str):
            self.reference(value, key, known, "input")
        elif isinstance(value, list):
            for j, item in enumerate(value):
                if isinstance(item, str):
                    self.reference(item, key + (j,), known, "input")
        elif isinstance(value, dict):
            for arg, item in value.items():
                if isinstance(item, str):
                    self.reference(item, key + (arg,), known, "input")

    def reference(self, name: str, key: Key, known: list[str], what: str) -> None:
        if name in known:
            return
        hint = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        message = f"unknown {what} '{name}': no model input or node has that name"
        if hint:
            message += f" (did you mean '{hint[0]}'?)"
        self.report(key, message)

    # -- compile ----------------------------------------------------------

    def compile(self, section: dict) -> None:
        if "optimizer" in section:
            self.keras_object("optimizers", section["optimizer"], ("compile", "optimizer"))
        loss = section.get("loss")
        if isinstance(loss, dict) and "type" not in loss:
            for out, item in loss.items():
                self.keras_object("losses", item, ("compile", "loss", out))
        elif loss is not None:
            self.keras_object("losses", loss, ("compile", "loss"))
        metrics = section.get("metrics")
        if isinstance(metrics, list):
            for i, item in enumerate(metrics):
                self.keras_object("metrics", item, ("compile", "metrics", i))
        elif isinstance(metrics, dict):
            for out, items in metrics.items():
                items = items if isinstance(items, list) else [items]
                for i, item in enumerate(items):
                    key = ("compile", "metrics", out, i) if isinstance(metrics[out], list) else ("compile", "metrics", out)
                    self.keras_object("metrics", item, key)
