"""Checks target arrays against the model's output shapes before `fit`.

Keras broadcasts a target that does not match its output: `y` of shape
(N, 3) against a `Dense(1)` output with `mse` trains without a word, on a
loss that means nothing. This module compares, per output, the per-sample
shape of `y` with the output's shape under the rule of its loss (label values
are `kerascli.data.check_classes`' concern):

- sparse categorical losses: one integer label per position, `[]` or `[1]`
  against `[classes]`;
- every other built-in loss: the same shape (a target `[]` fits an output
  `[1]`);
- custom losses, `crossentropy` (resolved from shapes by Keras) and CTC /
  Circle (labels of their own shape): not checked.

Keras-free: it takes shapes and arrays, and the catalogue of loss names.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerascli.config.catalog import load_catalog
from kerascli.config.document import Document
from kerascli.errors import DataError

UNCHECKED = ("crossentropy", "ctc", "circle")


def loss_rule(loss: Any) -> str | None:
    """`"sparse"`, `"same"` or None (not checked) for a loss spec (KerasObject or None)."""
    if loss is None:
        return None
    entry = load_catalog().get("losses", loss.type)
    if entry is None:
        return None  # a custom loss: its own rules
    name = entry.name.lower().replace("_", "")
    if name in UNCHECKED or any(word in name for word in ("ctc", "circle")):
        return None
    if name.startswith("sparse"):
        return "sparse"
    return "same"


def check_targets(
    doc: Document,
    loss_spec: Any,
    outputs: dict[str, tuple],
    targets: dict[str, np.ndarray],
    y_key: tuple = ("data", "train", "y"),
) -> None:
    """Raises when a target array cannot match its output.

    Args:
        doc: the config, for error locations.
        loss_spec: `compile.loss`: one loss, a mapping by output, or None.
        outputs: per output name, the output's shape without the batch axis
            (None for a variable size).
        targets: per output name, the target array (rows first).
        y_key: where `y` is written in the config.

    Raises:
        DataError: one line per output whose targets do not fit.
    """
    problems = []
    mapped = isinstance(doc.data.get("data", {}).get("train", {}).get("y"), dict)
    for name, shape in outputs.items():
        if name not in targets:
            continue
        loss = loss_spec.get(name) if isinstance(loss_spec, dict) else loss_spec
        rule = loss_rule(loss)
        if rule is None:
            continue
        values = targets[name]
        got = tuple(values.shape[1:])
        key = y_key + (name,) if mapped else y_key
        message = _mismatch(rule, got, tuple(shape), values, loss.type)
        if message:
            problems.append(doc.problem(key, f"targets of output '{name}' {message}"))
    if problems:
        raise DataError(problems)


def _fits(got: tuple, want: tuple) -> bool:
    return len(got) == len(want) and all(w is None or g == w for g, w in zip(got, want))


def _mismatch(rule: str, got: tuple, want: tuple, values: np.ndarray, loss: str) -> str | None:
    """Why targets of sample shape `got` do not fit an output of shape `want`, or None."""
    if rule == "sparse":
        if not want:
            return f"cannot be used with '{loss}': the output has no class axis (shape [])"
        labels = want[:-1]
        if not (_fits(got, labels) or _fits(got, labels + (1,))):
            hint = " (one-hot targets need categorical_crossentropy)" if _fits(got, want) else ""
            return (
                f"have shape {list(got)} per sample, but '{loss}' expects one integer label per sample "
                f"(shape {list(labels)} or {list(labels + (1,))}) for an output of shape {list(want)}{hint}"
            )
        return None  # label values are checked by kerascli.data.check_classes
    if _fits(got, want) or (_fits(got + (1,), want)):
        return None
    hint = ""
    if len(got) == len(want) - 1 and np.issubdtype(values.dtype, np.integer):
        hint = " (integer class labels need sparse_categorical_crossentropy)"
    return (
        f"have shape {list(got)} per sample, but the output produces {list(want)} and '{loss}' "
        f"compares them element by element{hint}; Keras would broadcast them silently"
    )
