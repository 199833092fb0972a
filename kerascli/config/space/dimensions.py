"""One dimension of a search space: a config key and the distribution of its values.

    {loguniform: [1.0e-4, 1.0e-1]}    floats, uniform on a log scale (low > 0)
    {uniform: [0.0, 0.5]}             floats; `step: 0.1` makes them a grid
    {int: [16, 256], step: 16}        integers; `step` or `log: true`
    {choice: [relu, gelu]}            any YAML values, tried as written

Nothing here imports Keras or Optuna: a `Dimension` is plain data, which
`kerascli.run.tune` turns into Optuna's `suggest_*` calls.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from typing import Any

from kerascli.config.document import Key, format_key

DISTRIBUTIONS = ("loguniform", "uniform", "int", "choice")
OPTIONS = {"step": ("int", "uniform"), "log": ("int",)}
EXAMPLES = "{loguniform: [1.0e-4, 1.0e-1]}, {uniform: [0.0, 0.5]}, {int: [16, 256], step: 16} or {choice: [relu, gelu]}"


@dataclasses.dataclass(frozen=True)
class Dimension:
    """A config key and the distribution of the values a trial gives it.

    Args:
        key: the config key, e.g. `("model", "layers", 0, "units")`.
        kind: one of `DISTRIBUTIONS`.
        low: the lower end of a range (None for `choice`).
        high: the upper end of a range, inclusive.
        step: the grid step of an `int` or `uniform` range, or None.
        log: whether an `int` range is drawn on a log scale.
        choices: the values of a `choice`.
    """

    key: Key
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    step: float | int | None = None
    log: bool = False
    choices: tuple = ()

    @property
    def name(self) -> str:
        """The key as `--set` writes it; also the Optuna parameter name."""
        return format_key(self.key)

    def describe(self) -> str:
        """The distribution as it is written, e.g. `{int: [16, 256], step: 16}`."""
        if self.kind == "choice":
            return "{choice: [" + ", ".join(_show(c) for c in self.choices) + "]}"
        extra = f", step: {_show(self.step)}" if self.step is not None else ""
        extra += ", log: true" if self.log else ""
        return f"{{{self.kind}: [{_show(self.low)}, {_show(self.high)}]{extra}}}"

    def draws_floats(self) -> bool:
        return self.kind in ("loguniform", "uniform")

    def probes(self) -> list:
        """Values that stand for the whole distribution when it is checked against the config."""
        if self.kind == "choice":
            return list(self.choices)
        if self.kind == "int":
            return [int(self.low), int(self.high)]
        inner = float(self.low) + (float(self.high) - float(self.low)) * 0.371  # not a whole number
        return [float(self.low), float(self.high), inner]

    def grid(self) -> list | None:
        """Every value, for the grid sampler; None when the distribution is not finite."""
        if self.kind == "choice":
            return list(self.labels())
        if self.kind == "int" and not self.log:
            return list(range(int(self.low), int(self.high) + 1, int(self.step or 1)))
        if self.kind == "uniform" and self.step is not None:
            count = round((self.high - self.low) / self.step)
            return [round(self.low + i * self.step, 12) for i in range(count + 1)]
        return None

    def labels(self) -> tuple:
        """The choices as Optuna stores them: scalars as they are, other values as JSON text."""
        return tuple(c if _is_scalar(c) else json.dumps(c, sort_keys=True) for c in self.choices)

    def value_of(self, label: Any) -> Any:
        """The config value of a drawn choice label (see `labels`)."""
        if self.kind != "choice":
            return label
        return self.choices[self.labels().index(label)]

    def override(self, value: Any) -> str:
        """The `--set` text that gives the key `value` (JSON is YAML, so it parses back exactly)."""
        return f"{self.name}={json.dumps(value)}"


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def parse(key: Key, value: Any) -> tuple[Dimension | None, list[tuple[Key, str]]]:
    """Reads one distribution mapping.

    Args:
        key: the config key the distribution is for.
        value: what the space file holds for it.

    Returns:
        `(dimension, problems)`: the dimension (None if it is invalid) and
        `(where, message)` pairs; `where` is relative to the distribution.
    """
    if not isinstance(value, dict):
        return None, [((), f"expected a distribution such as {EXAMPLES}, got {_show(value)}")]
    problems: list[tuple[Key, str]] = []
    kinds = [k for k in value if k in DISTRIBUTIONS]
    allowed = list(DISTRIBUTIONS) + list(OPTIONS)
    for name in value:
        if name not in allowed:
            hint = difflib.get_close_matches(str(name), allowed, n=1, cutoff=0.6)
            problems.append(
                (
                    (name,),
                    f"unknown key '{name}'"
                    + (f" (did you mean '{hint[0]}'?)" if hint else f"; expected one of: {', '.join(allowed)}"),
                )
            )
    if not kinds:
        if not problems:
            problems.append(((), f"expected one of {', '.join(DISTRIBUTIONS)}, e.g. {EXAMPLES}"))
        return None, problems
    if len(kinds) > 1:
        return None, problems + [
            ((kinds[1],), f"give one distribution per key, got both '{kinds[0]}' and '{kinds[1]}'")
        ]
    kind = kinds[0]
    for option in OPTIONS:
        if option in value and kind not in OPTIONS[option]:
            problems.append(
                ((option,), f"'{option}' applies to {' and '.join(OPTIONS[option])} ranges, not to '{kind}'")
            )
    if problems:
        return None, problems
    if kind == "choice":
        return _choice(key, value["choice"])
    return _range(key, kind, value)


def _choice(key: Key, values: Any) -> tuple[Dimension | None, list[tuple[Key, str]]]:
    if not isinstance(values, list) or not values:
        return None, [
            (
                ("choice",),
                f"expected a non-empty list of values, got {_show(values) if values != [] else 'an empty list'}",
            )
        ]
    seen: list[str] = []
    for i, item in enumerate(values):
        text = json.dumps(item, sort_keys=True)
        if text in seen:
            return None, [(("choice", i), f"{_show(item)} is listed twice")]
        seen.append(text)
    return Dimension(key, "choice", choices=tuple(values)), []


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _range(key: Key, kind: str, spec: dict) -> tuple[Dimension | None, list[tuple[Key, str]]]:
    bounds, step, log = spec[kind], spec.get("step"), spec.get("log", False)
    whole = kind == "int"
    expected = "two integers [low, high]" if whole else "two numbers [low, high]"
    if not (isinstance(bounds, list) and len(bounds) == 2 and all(_number(b) for b in bounds)) or (
        whole and not all(isinstance(b, int) for b in bounds)
    ):
        return None, [((kind,), f"expected {expected}, got {_show(bounds)}")]
    low, high = bounds
    if not low < high:
        return None, [((kind,), f"expected low < high, got [{_show(low)}, {_show(high)}]")]
    if kind == "loguniform" and low <= 0:
        return None, [((kind,), f"a log scale needs low > 0, got {_show(low)}")]
    if not isinstance(log, bool):
        return None, [(("log",), f"expected true or false, got {_show(log)}")]
    if log and low <= 0:
        return None, [(("log",), f"a log scale needs low > 0, got {_show(low)}")]
    if step is not None:
        if log:
            return None, [(("step",), "give 'step' or 'log: true', not both")]
        if not _number(step) or step <= 0 or (whole and not isinstance(step, int)):
            return None, [(("step",), f"expected a positive {'integer' if whole else 'number'}, got {_show(step)}")]
        count = (high - low) / step
        if abs(count - round(count)) > 1e-9:
            return None, [(("step",), f"high - low ({_show(high - low)}) is not a multiple of step {_show(step)}")]
    return Dimension(key, kind, low, high, step, log), []
