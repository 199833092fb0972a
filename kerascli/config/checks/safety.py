"""Safety checks: a config never names importable code and never writes outside its run directory."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from kerascli.config.document import Key
from kerascli.config.tables import CALLBACK_PATH_ARGS

# Keys of Keras' own serialized form. Keras deserializes a dict holding them by
# importing `module` and looking up `class_name` / `registered_name`: a config
# never gets to name importable code, so these keys are refused anywhere.
SERIALIZATION_KEYS = ("class_name", "module", "registered_name")


def serialized_keys(value: Any, key: Key = ()) -> list[Key]:
    """The paths of Keras serialization keys (`SERIALIZATION_KEYS`) anywhere in `value`."""
    found: list[Key] = []
    if isinstance(value, dict):
        for name, item in value.items():
            if name in SERIALIZATION_KEYS:
                found.append(key + (name,))
            else:
                found.extend(serialized_keys(item, key + (name,)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(serialized_keys(item, key + (i,)))
    return found


def serialized_message(name: str) -> str:
    """Why a serialization key is refused, and what to write instead."""
    return (
        f"'{name}' is not allowed in a config: write Keras objects as {{type: ClassName, ...}}; "
        "they are resolved by name from Keras and --plugin modules only"
    )


def outside_run_dir(path: str) -> bool:
    """Whether a callback's file path would leave the run directory."""
    return any(p.is_absolute() or ".." in p.parts or p.drive for p in (PurePosixPath(path), PureWindowsPath(path)))


class SafetyChecks:
    """The safety checks of `kerascli.config.checks.Checker`."""

    def serialized_objects(self, value: Any, key: Key) -> None:
        """Refuses Keras' serialized form (`class_name`/`module`/...) at any depth."""
        for path in serialized_keys(value, key):
            self.report(path, serialized_message(path[-1]))

    def callback_paths(self, callback: dict, key: Key) -> None:
        for arg in CALLBACK_PATH_ARGS:
            value = callback.get(arg)
            if isinstance(value, str) and outside_run_dir(value):
                self.report(key + (arg,), f"expected a path inside the run directory, got '{value}'")
