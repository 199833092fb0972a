"""Name checks: every Keras name and keyword argument in a config exists in the catalogue."""

from __future__ import annotations

import difflib
from typing import Any

from kerascli.config import blocks as block_rules
from kerascli.config.document import Key
from kerascli.config.spec.model import RESERVED_NODE_KEYS
from kerascli.config.tables import EXCLUDED, NESTED_KINDS, SINGULAR

PREFIXES = ("keras.applications.", "keras.layers.", "applications.", "layers.")
"""Module prefixes users write before a type (`keras.applications.MobileNetV2`)."""


def node_type_hint(name: str, catalog, blocks: list[str]) -> str | None:
    """The layer, application or block a misspelt node type most likely means.

    `keras.applications.MobileNetV2` and `mobilenet_v2` both give
    `MobileNetV2`: prefixes are dropped and case and underscores ignored
    before `difflib` compares the names.
    """
    bare = name
    for prefix in PREFIXES:
        if bare.startswith(prefix):
            bare = bare[len(prefix) :]
            break
    candidates = catalog.names("layers") + catalog.canonical_names("applications") + list(blocks)
    squashed = {c.lower().replace("_", ""): c for c in reversed(candidates)}
    key = bare.lower().replace("_", "")
    if key in squashed and squashed[key] != name:
        return squashed[key]
    close = difflib.get_close_matches(key, list(squashed), n=1, cutoff=0.6)
    return squashed[close[0]] if close else None


class NameChecks:
    """The name checks of `kerascli.config.checks.Checker`."""

    def unknown(self, kind: str, name: str, key: Key, extra: list[str] = ()) -> None:
        singular = "learning-rate schedule" if kind == "schedules" else SINGULAR[kind]
        message = f"unknown {singular} '{name}'"
        close = difflib.get_close_matches(name, list(extra), n=1, cutoff=0.8) if extra else []
        hint = close[0] if close else self.catalog.suggest(kind, name)
        if not hint and extra:
            close = difflib.get_close_matches(name, list(extra), n=1, cutoff=0.6)
            hint = close[0] if close else None
        if name in EXCLUDED.get(kind, {}):
            message = f"{singular} '{name}' cannot be used from a config ({EXCLUDED[kind][name]})"
            if "Python" in EXCLUDED[kind][name] or "code" in EXCLUDED[kind][name]:
                message += "; register a custom class in a module loaded with --plugin instead"
        elif hint:
            message += f" (did you mean '{hint}'?)"
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
        allowed = list(entry.allowed_kwargs())
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
        if block_rules.param_name(value) is not None:
            return  # a block parameter: checked where it is declared and used
        if name == "learning_rate" and isinstance(value, dict):
            self.keras_object("schedules", value, key)
            return
        for suffix, kind in NESTED_KINDS:
            if name == suffix or name.endswith("_" + suffix):
                if isinstance(value, str) or (isinstance(value, dict) and "type" in value):
                    self.keras_object(kind, value, key)
                return

    def layer(self, node: dict, key: Key) -> None:
        entry = self.catalog.get("layers", node["type"])
        if entry is None:
            application = self.catalog.get("applications", node["type"])
            if application is not None:
                self.application(node, application, key)
                return
            self.unknown_node_type(node["type"], key + ("type",))
            return
        self.nested_only(node, key, "a layer")
        kwargs = {k: v for k, v in node.items() if k not in RESERVED_NODE_KEYS}
        self.arguments(entry, kwargs, key, skip=("layer", "backward_layer"))
        for wrapped in ("layer", "backward_layer"):
            inner = node.get(wrapped)
            if (
                wrapped in kwargs
                and wrapped in entry.arguments
                and isinstance(inner, dict)
                and isinstance(inner.get("type"), str)
            ):
                self.layer(inner, key + (wrapped,))
            elif wrapped in kwargs and wrapped not in entry.arguments and wrapped not in entry.accepts_kwargs:
                self.arguments(entry, {wrapped: inner}, key)

    def unknown_node_type(self, name: str, key: Key) -> None:
        """An unknown node type, with the closest layer, application or block name."""
        if name in EXCLUDED["layers"]:
            self.unknown("layers", name, key)
            return
        close = difflib.get_close_matches(name, list(self.blocks), n=1, cutoff=0.8)
        hint = close[0] if close else node_type_hint(name, self.catalog, list(self.blocks))
        message = f"unknown layer '{name}'"
        self.report(key, f"{message} (did you mean '{hint}'?)" if hint else message)

    def application(self, node: dict, entry, key: Key) -> None:
        """A `keras.applications` node: its arguments, and `weights` a name, null or a file."""
        kwargs = {k: v for k, v in node.items() if k not in RESERVED_NODE_KEYS}
        for supplied in ("input_tensor", "name"):
            if supplied in kwargs:
                kwargs.pop(supplied)
                what = "the node's input" if supplied == "input_tensor" else "the node's name"
                self.report(key + (supplied,), f"{entry.name}: '{supplied}' is set by kerascli ({what})")
        self.arguments(entry, kwargs, key)
        weights = node.get("weights", "imagenet")
        if (
            weights is not None
            and weights != "imagenet"
            and not (isinstance(weights, str) and weights.endswith(".weights.h5"))
        ):
            self.report(key + ("weights",), f"expected imagenet, null or a .weights.h5 file, got {weights!r}")

    def nested_only(self, node: dict, key: Key, what: str) -> None:
        """`freeze:` needs a nested model; `preprocess_input:` an application."""
        if "freeze" in node:
            self.report(
                key + ("freeze",),
                f"'freeze' selects layers inside an application or block instance, not {what}; "
                "use 'trainable: false' to freeze this node",
            )
        if node.get("preprocess_input"):
            self.report(
                key + ("preprocess_input",), f"'preprocess_input' belongs to keras.applications nodes, not {what}"
            )

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
                    key = (
                        ("compile", "metrics", out, i)
                        if isinstance(metrics[out], list)
                        else ("compile", "metrics", out)
                    )
                    self.keras_object("metrics", item, key)
