"""Safety checks: a config never names importable code and never writes outside its run directory."""

from __future__ import annotations

import re
import string
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from kerascli.config.document import Key
from kerascli.config.tables import CALLBACK_PATH_ARGS, RUN_OWNED

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


# What a `{placeholder}` in a callback path may be: a metric name with a numeric format
# (`{epoch:02d}`, `{val_loss:.2f}`). Keras fills it with `str.format`, whose conversions,
# fills and `.attr`/`[i]` lookups could render `..`, `/` or nothing at all.
_PLACEHOLDER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER_SPEC = re.compile(r"[+\- ]?0?[0-9]*(\.[0-9]+)?[deEfFgG%]?")


def placeholder_problem(path: str) -> str | None:
    """Why a `{...}` placeholder in `path` is refused, or None when each is a plain numeric one."""
    try:
        fields = [(name, conv, spec) for _, name, spec, conv in string.Formatter().parse(path) if name is not None]
    except ValueError as exc:
        return f"cannot read the placeholders of '{path}': {exc}"
    for name, conv, spec in fields:
        if conv or not _PLACEHOLDER_NAME.fullmatch(name) or not _PLACEHOLDER_SPEC.fullmatch(spec or ""):
            shown = "{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
            return (
                f"expected placeholders like {{epoch:02d}} or {{val_loss:.2f}} (a metric name and a numeric format) "
                f"in '{path}', got '{shown}'"
            )
    return None


def callback_path_problem(path: str) -> str | None:
    """Why a callback's path argument is refused, or None when it is a fine place in the run directory.

    A callback writes (and BackupAndRestore deletes) what its path names, so the
    path must stay inside the run directory, must not be the run directory
    itself (`""`, `.`, `./`) and must not name a file or folder kerascli owns
    there (`config.yaml`, `model.keras`, `checkpoint/`, ...: `RUN_OWNED`, in any
    letter case, as a case-insensitive file system sees them). Its `{...}`
    placeholders, which Keras fills in, must be plain numeric ones.
    """
    problem = placeholder_problem(path)
    if problem:
        return problem
    if outside_run_dir(path):
        return f"expected a path inside the run directory, got '{path}'"
    parts = [p for p in PureWindowsPath(path).parts if p not in (".", "")]
    if not parts:
        return f"expected a file or folder name inside the run directory, got '{path}' (the run directory itself)"
    owned = parts[0].lower().rstrip(". ")
    if owned in RUN_OWNED:
        return (
            f"'{path}' names {owned}, which kerascli writes in the run directory; "
            f"choose another name (kerascli owns: {', '.join(RUN_OWNED)})"
        )
    return None


class SafetyChecks:
    """The safety checks of `kerascli.config.checks.Checker`."""

    def serialized_objects(self, value: Any, key: Key) -> None:
        """Refuses Keras' serialized form (`class_name`/`module`/...) at any depth."""
        for path in serialized_keys(value, key):
            self.report(path, serialized_message(path[-1]))

    def callback_paths(self, callback: dict, key: Key) -> None:
        for arg in CALLBACK_PATH_ARGS:
            value = callback.get(arg)
            message = callback_path_problem(value) if isinstance(value, str) else None
            if message:
                self.report(key + (arg,), message)
