"""Writing predictions: CSV with decoded labels and per-class probabilities, or .npy.

For a classifier output (a cross-entropy loss, or string labels in training)
the CSV holds the predicted label (decoded to the training strings when there
was a vocabulary) and one probability column per class. Other outputs get one
column per unit. Several outputs are told apart by an `<output>.` prefix.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from kerascli.artifacts import atomic_path
from kerascli.errors import UsageError

CATEGORICAL = "categorical"
BINARY = "binary"


def classifier_outputs(cfg, outputs: list[str]) -> dict[str, str | None]:
    """Which outputs are classifiers, from their loss names: categorical, binary or None."""
    loss = cfg.compile.loss
    kinds = {}
    for name in outputs:
        item = loss.get(name) if isinstance(loss, dict) else loss
        text = (item.type if item is not None else "").lower().replace("_", "")
        if "categoricalcrossentropy" in text or "categoricalfocalcrossentropy" in text:
            kinds[name] = CATEGORICAL
        elif "binarycrossentropy" in text or "binaryfocalcrossentropy" in text or text == "hinge":
            kinds[name] = BINARY
        else:
            kinds[name] = None
    return kinds


def columns(name: str, values: np.ndarray, vocab: list[str] | None, kind: str | None, prefix: str) -> tuple[list[str], list[np.ndarray]]:
    """Column headers and column arrays for one output."""
    values = np.asarray(values)
    flat = values.reshape(len(values), -1)
    width = flat.shape[1]
    if vocab is not None and kind is None:
        kind = BINARY if width == 1 and len(vocab) == 2 else CATEGORICAL
    if kind == CATEGORICAL and width > 1:
        classes = vocab if vocab is not None and len(vocab) == width else [str(i) for i in range(width)]
        index = flat.argmax(axis=1)
        labels = np.asarray(classes, dtype=object)[index]
        return [f"{prefix}label"] + [f"{prefix}p_{c}" for c in classes], [labels] + [flat[:, i] for i in range(width)]
    if kind == BINARY and width == 1:
        classes = vocab if vocab is not None and len(vocab) == 2 else ["0", "1"]
        labels = np.where(flat[:, 0] > 0.5, classes[1], classes[0]).astype(object)
        return [f"{prefix}label", f"{prefix}p_{classes[1]}"], [labels, flat[:, 0]]
    if width == 1:
        return [prefix.rstrip(".") or name], [flat[:, 0]]
    return [f"{prefix}{i}" for i in range(width)], [flat[:, i] for i in range(width)]


def write(target: Path, by_output: dict[str, np.ndarray], labels: dict, kinds: dict) -> None:
    """Writes predictions atomically to `target` (.csv or .npy)."""
    target = Path(target)
    suffix = target.suffix.lower()
    if suffix == ".npy":
        for name, values in by_output.items():
            path = target if len(by_output) == 1 else target.with_name(f"{target.stem}.{name}.npy")
            with atomic_path(path) as tmp:
                np.save(tmp, np.asarray(values), allow_pickle=False)
        return
    if suffix != ".csv":
        raise UsageError(f"--output: unsupported file type '{target.suffix}', expected .csv or .npy")
    headers, cols = [], []
    multi = len(by_output) > 1
    for name, values in by_output.items():
        h, c = columns(name, values, labels.get(name), kinds.get(name), f"{name}." if multi else "")
        headers += h
        cols += c
    with atomic_path(target) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            rows = len(cols[0]) if cols else 0
            for start in range(0, rows, 65536):
                block = [c[start:start + 65536] for c in cols]
                writer.writerows(zip(*[_fmt(b) for b in block]))


def _fmt(values: np.ndarray) -> list:
    if values.dtype == object:
        return values.tolist()
    if np.issubdtype(values.dtype, np.floating):
        return [f"{v:.6g}" for v in values.tolist()]
    return values.tolist()
