"""Name checks: every Keras name and keyword argument in a config exists in the catalogue."""

from __future__ import annotations

import difflib
from typing import Any

from kerascli.config import blocks as block_rules
from kerascli.config.document import Key
from kerascli.config.spec.model import RESERVED_NODE_KEYS
from kerascli.config.tables import EXCLUDED, NESTED_KINDS, SINGULAR


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
            self.unknown("layers", node["type"], key + ("type",), extra=list(self.blocks))
            return
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
