"""The search space of `kerascli tune`, read and checked without Keras or Optuna.

A space is written in the config's `tune:` section, or in a file of its own
(`kerascli tune CONFIG --space SPACE`) in the same form:

    tune:
      space:                                   # dotted config keys, as --set takes them
        compile.optimizer.learning_rate: {loguniform: [1.0e-4, 1.0e-1]}
        model.layers[0].units: {int: [16, 256], step: 16}
        model.layers[0].activation: {choice: [relu, gelu]}
      metric: val_accuracy       # default: the monitor of fit's callbacks, else val_loss
      direction: maximize        # default: from the metric's name (…loss: minimize)
      sampler: tpe               # tpe (default), random, grid, or {type: <Optuna sampler>, ...}
      pruner: median             # median (default), none, or {type: <Optuna pruner>, ...}
      trials: 20                 # default 20 (grid: the size of the grid)
      timeout: 3600              # seconds; no new trial starts after it

`read` checks the section's own shape; `kerascli.config.space.fit.check`
checks it against the config (unknown keys, values the key cannot take).
Every problem is a `Problem` at the line of the space file.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from typing import Any

from kerascli.config.document import Document, Key, Location, format_key
from kerascli.config.loading import load
from kerascli.config.overrides import parse_override
from kerascli.config.space.dimensions import DISTRIBUTIONS, Dimension, parse
from kerascli.errors import ConfigError, Problem

__all__ = ["Space", "Dimension", "DISTRIBUTIONS", "read", "from_config", "from_file", "SAMPLERS", "PRUNERS"]

SAMPLERS = {"tpe": "TPESampler", "random": "RandomSampler", "grid": "GridSampler"}
PRUNERS = {"median": "MedianPruner", "none": "NopPruner"}
DIRECTIONS = ("minimize", "maximize")
SETTINGS = ("space", "metric", "direction", "sampler", "pruner", "trials", "timeout")
DEFAULT_TRIALS = 20


@dataclasses.dataclass
class Space:
    """A search space and the settings of its study.

    Args:
        dimensions: one per tuned key, in file order.
        settings: `metric`, `direction`, `sampler`, `pruner`, `trials`,
            `timeout` as written (absent when not written).
        doc: the document the space is written in.
        prefix: where the space sits in `doc`: `("tune",)` in a config,
            `()` in a space file.
        written: each dimension's key as the file spells it.
    """

    dimensions: list[Dimension]
    settings: dict[str, Any]
    doc: Document
    prefix: Key
    written: dict[Key, str] = dataclasses.field(default_factory=dict)  # key → its spelling in the file

    def problem(self, key: Key, message: str, path: str | None = None) -> Problem:
        """A problem at `key` (relative to the space section), printed with `path`."""
        problem = self.doc.problem(self.prefix + key, message)
        return dataclasses.replace(problem, path=path if path is not None else problem.path)

    def dimension_problem(self, dimension: Dimension, message: str) -> Problem:
        """A problem at the line of `dimension`'s key, printed with the config key."""
        return self.problem(("space", self.written[dimension.key]), message, path=dimension.name)

    def location(self, dimension: Dimension) -> Location:
        return self.doc.locate(self.prefix + ("space", self.written[dimension.key]))


def from_config(doc: Document) -> Space | None:
    """The space of the config's `tune:` section, or None when it has none."""
    if doc.data.get("tune") is None:
        return None
    return read(doc, ("tune",))


def from_file(path: str | os.PathLike) -> Space:
    """The space of a `--space` file."""
    return read(load(path), ())


def read(doc: Document, prefix: Key) -> Space:
    """Reads and checks the shape of the space section at `prefix` of `doc`.

    Raises:
        ConfigError: every problem of the section.
    """
    space, problems = parse_space(doc, prefix)
    if problems:
        raise ConfigError(problems)
    return space


def parse_space(doc: Document, prefix: Key) -> tuple[Space, list[Problem]]:
    """The space section at `prefix` of `doc`: the dimensions that are well formed, and the problems of the rest."""
    section = doc.data
    for part in prefix:
        section = section.get(part) if isinstance(section, dict) else None
    space = Space([], {}, doc, prefix)
    if not isinstance(section, dict):
        return space, [space.problem((), f"expected a mapping with a 'space:' of dotted config keys, got {section!r}")]
    problems = _settings(section, space)
    keys = section.get("space")
    if "space" not in section:
        problems.append(
            space.problem((), "missing required key 'space': the config keys to tune and their distributions")
        )
    elif not isinstance(keys, dict) or not keys:
        problems.append(
            space.problem(
                ("space",),
                f"expected a mapping of config keys to distributions (e.g. "
                f"model.layers[0].units: {{int: [16, 256]}}), got {keys!r}",
            )
        )
    else:
        problems += _dimensions(keys, space)
    return space, problems


def _settings(section: dict, space: Space) -> list[Problem]:
    problems = []
    for name, value in section.items():
        if name not in SETTINGS:
            hint = difflib.get_close_matches(str(name), SETTINGS, n=1, cutoff=0.6)
            problems.append(
                space.problem(
                    (name,),
                    f"unknown key '{name}'"
                    + (f" (did you mean '{hint[0]}'?)" if hint else f"; expected one of: {', '.join(SETTINGS)}"),
                )
            )
            continue
        if name == "space":
            continue
        message = _setting_problem(name, value)
        if message:
            problems.append(space.problem((name,), message))
        else:
            space.settings[name] = value
    return problems


def _setting_problem(name: str, value: Any) -> str | None:
    """What is wrong with one study setting, or None."""
    if name == "metric":
        return None if isinstance(value, str) and value else f"expected a metric name such as val_loss, got {value!r}"
    if name == "direction":
        return None if value in DIRECTIONS else f"expected minimize or maximize, got {value!r}"
    if name in ("sampler", "pruner"):
        names = SAMPLERS if name == "sampler" else PRUNERS
        if isinstance(value, str):
            if value in names:
                return None
            hint = difflib.get_close_matches(value, list(names), n=1, cutoff=0.6)
            return f"unknown {name} '{value}'" + (
                f" (did you mean '{hint[0]}'?)"
                if hint
                else f"; expected one of: {', '.join(names)}, or {{type: <Optuna class>, ...}}"
            )
        if isinstance(value, dict) and isinstance(value.get("type"), str):
            return None  # an Optuna class with its arguments: checked when the study is made
        return f"expected one of {', '.join(names)}, or {{type: <Optuna class>, ...}}, got {value!r}"
    if name == "trials":
        ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
        return None if ok else f"expected a positive integer, got {value!r}"
    if name == "timeout":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
        return None if ok else f"expected a positive number of seconds, got {value!r}"
    return None


def parse_key(text: str) -> Key:
    """`model.layers[0].units` → `("model", "layers", 0, "units")`, as `--set` reads it.

    Raises:
        ValueError: when `text` is not a dotted key.
    """
    if not isinstance(text, str) or not text.strip() or "=" in text:
        raise ValueError(f"expected a dotted config key such as model.layers[0].units, got {text!r}")
    key, _ = parse_override(text + "=")
    return key


def _dimensions(keys: dict, space: Space) -> list[Problem]:
    problems = []
    for written, value in keys.items():
        where = ("space", written)
        try:
            key = parse_key(written)
        except ValueError as exc:
            problems.append(space.problem(where, str(exc), path=str(written)))
            continue
        if key in space.written:
            problems.append(
                space.problem(where, f"the same config key as '{space.written[key]}'", path=format_key(key))
            )
            continue
        dimension, found = parse(key, value)
        problems += [space.problem(where + sub, message, path=format_key(key)) for sub, message in found]
        space.written[key] = written
        if dimension is not None:
            space.dimensions.append(dimension)
    for dimension in space.dimensions:
        for other in space.dimensions:
            if other is not dimension and dimension.key[: len(other.key)] == other.key:
                problems.append(
                    space.dimension_problem(dimension, f"is inside '{other.name}', which is tuned as a whole")
                )
    return problems
