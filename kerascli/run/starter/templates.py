"""The starter templates: each writes a complete, commented config for the data it was given."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from kerascli.errors import DataError, UsageError
from kerascli.run.starter.inspection import MAX_CLASSES, class_count, inspect_table


def _head(classes: int) -> tuple[str, str, str]:
    """Output layer, loss and metrics for `classes` classes (softmax, also for two)."""
    return f"{{type: Dense, units: {classes}, activation: softmax}}", "sparse_categorical_crossentropy", "[accuracy]"


def _yaml_list(items: list[str]) -> str:
    return "[" + ", ".join(_yaml_scalar(i) for i in items) + "]"


def _yaml_scalar(text: str) -> str:
    if re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_./\-]*", text) and text.lower() not in (
        "true",
        "false",
        "null",
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
    ):
        return text
    return "'" + text.replace("'", "''") + "'"


def _relative(path: Path, config_dir: Path) -> str:
    """`path` as the config should write it: relative to the config's folder."""
    try:
        return Path(os.path.relpath(path.resolve(), config_dir.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return path.resolve().as_posix()


_FOOTER = """
compile:
  optimizer: {{type: Adam, learning_rate: 0.001}}
  loss: {loss}
  metrics: {metrics}

fit:
  epochs: {epochs}
  batch_size: 32
  callbacks:
    # stop when the validation loss has not improved for 5 epochs; keep the best weights
    - {{type: EarlyStopping, monitor: val_loss, patience: 5, restore_best_weights: true}}
    # one row per epoch, written into the run directory
    - {{type: CSVLogger, filename: history.csv}}
"""


def _header(template: str, name: str, data: str) -> str:
    return (
        f"# Starter config written by `kerascli init --template {template}` for {data}.\n"
        "# Check it:  kerascli validate <this file>     Train it: kerascli train <this file> --plot\n"
        "# Then:      kerascli evaluate                  kerascli predict --input new-rows.csv\n"
        "# Every key is documented in the JSON Schema (`kerascli schema -o kerascli.schema.json`; add\n"
        "# `# yaml-language-server: $schema=kerascli.schema.json` as the first line for editor completion).\n"
        f"name: {_yaml_scalar(name)}\n"
        "seed: 42                  # fixes the initial weights, the shuffling and the validation split\n"
    )


def _data_section(train: str, test: str | None, y: str, x: str | None = None) -> str:
    source = f"path: {_yaml_scalar(train)}"
    if x:
        source += f", x: {x}"
    source += f", y: {y}"
    lines = [
        "",
        "data:",
        *([] if x else ["  # x: every column except y unless listed, e.g. x: [col_a, col_b]"]),
        f"  train: {{{source}}}",
        "  validation: {split: 0.2}   # 20% of the training rows, shuffled with the seed",
    ]
    if test:
        lines.append(f"  test: {{path: {_yaml_scalar(test)}}}   # what `kerascli evaluate` reports on")
    return "\n".join(lines) + "\n"


def tabular_classifier(train: Path, test: Path | None, target: str | None, config_dir: Path, name: str) -> str:
    table = inspect_table(train, target)
    classes = class_count(table, train)
    output, loss, metrics = _head(classes)
    labels = ", ".join(map(str, table.labels[:8])) + (", ..." if len(table.labels) > 8 else "")
    return (
        _header("tabular-classifier", name, train.name)
        + _data_section(_relative(train, config_dir), test and _relative(test, config_dir), _yaml_scalar(table.target))
        + f"""
model:                       # the input shape comes from the data
  layers:
    - {{type: Dense, units: 64, activation: relu}}
    - {{type: Dropout, rate: 0.2}}             # regularisation; raise it if validation loss climbs
    - {{type: Dense, units: 32, activation: relu}}
    # {classes} classes in '{table.target}' ({labels})
    - {output}
"""
        + _FOOTER.format(loss=loss, metrics=metrics, epochs=50)
    )


def regression(train: Path, test: Path | None, target: str | None, config_dir: Path, name: str) -> str:
    table = inspect_table(train, target)
    if not table.numeric_target:
        raise DataError(
            f"{train}: the target '{table.target}' is not numeric; for class labels use --template tabular-classifier"
        )
    return (
        _header("regression", name, train.name)
        + _data_section(_relative(train, config_dir), test and _relative(test, config_dir), _yaml_scalar(table.target))
        + """
model:                       # the input shape comes from the data
  layers:
    - {type: Dense, units: 64, activation: relu}
    - {type: Dense, units: 64, activation: relu}
    - {type: Dense, units: 1}                  # one number per row, no activation
"""
        + _FOOTER.format(loss="mse", metrics="[mae]", epochs=100)
    )


def two_branch(train: Path, test: Path | None, target: str | None, config_dir: Path, name: str) -> str:
    table = inspect_table(train, target)
    features = [c for c in table.columns if c != table.target]
    if len(features) < 2:
        raise DataError(f"{train}: a two-branch model needs at least two feature columns besides '{table.target}'")
    half = (len(features) + 1) // 2
    left, right = features[:half], features[half:]
    if table.numeric_target and not table.integer_target:
        output, loss, metrics = "{name: output, type: Dense, units: 1}", "mse", "[mae]"
    else:
        classes = class_count(table, train)
        head, loss, metrics = _head(classes)
        output = "{name: output, " + head[1:]
    x = f"{{left: {_yaml_list(left)}, right: {_yaml_list(right)}}}"
    return (
        _header("two-branch", name, train.name)
        + "# Two inputs, each with its own layers, joined before the output. The feature columns are\n"
        + "# split in half here: move columns between `left` and `right` so each branch gets related ones.\n"
        + _data_section(
            _relative(train, config_dir), test and _relative(test, config_dir), _yaml_scalar(table.target), x
        )
        + f"""
model:
  inputs:                    # one per branch: the number of columns each reads
    left: {{shape: [{len(left)}]}}
    right: {{shape: [{len(right)}]}}
  layers:
    - {{name: left_dense, type: Dense, units: 32, activation: relu, inputs: left}}
    - {{name: right_dense, type: Dense, units: 32, activation: relu, inputs: right}}
    - {{name: joined, type: Concatenate, inputs: [left_dense, right_dense]}}
    - {{type: Dense, units: 32, activation: relu}}   # reads the previous node (joined)
    - {output}
"""
        + _FOOTER.format(loss=loss, metrics=metrics, epochs=50)
    )


def _read_images(train: Path, target: str | None) -> tuple[np.ndarray, np.ndarray, str, str]:
    """The images and labels of an `.npz` (`x`, or its only other array, and `y` or `target`)."""
    try:
        with np.load(train, allow_pickle=False) as archive:
            keys = list(archive.keys())
            y_key = target or "y"
            if y_key not in keys:
                raise DataError(
                    f"{train}: no labels array '{y_key}'; arrays are: {', '.join(keys)} (name it with --target)"
                )
            others = [k for k in keys if k != y_key]
            x_key = "x" if "x" in others else (others[0] if len(others) == 1 else None)
            if x_key is None:
                raise DataError(
                    f"{train}: cannot tell which array holds the images; name it 'x' (arrays: {', '.join(keys)})"
                )
            return archive[x_key], archive[y_key], x_key, y_key
    except (OSError, ValueError) as exc:
        raise DataError(f"{train}: cannot read the .npz file: {exc}") from None


def image_cnn(train: Path, test: Path | None, target: str | None, config_dir: Path, name: str) -> str:
    if train.suffix.lower() != ".npz":
        raise UsageError(f"--template image-cnn reads an .npz file of images and labels, got {train.name}")
    images, labels, x_key, y_key = _read_images(train, target)
    if images.ndim not in (3, 4):
        raise DataError(
            f"{train}: '{x_key}' has shape {list(images.shape)}; expected images (N, height, width[, channels])"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{train}: labels '{y_key}' must be integers 0, 1, 2, ...; got dtype {labels.dtype}")
    classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and labels.min() < 0 or not 2 <= classes <= MAX_CLASSES:
        raise DataError(f"{train}: labels '{y_key}' must be 0, 1, 2, ... with 2 to {MAX_CLASSES} classes")
    height, width = images.shape[1:3]
    layers = []
    if images.ndim == 3:
        layers.append(
            f"    - {{type: Reshape, target_shape: [{height}, {width}, 1]}}   # add the channel axis Conv2D expects"
        )
    if np.issubdtype(images.dtype, np.integer):
        layers.append("    - {type: Rescaling, scale: 0.00392156862745098}   # pixels 0..255 -> 0..1")
    output, loss, metrics = _head(classes)
    data = [
        "",
        "data:",
        f"  train: {{path: {_yaml_scalar(_relative(train, config_dir))}, x: {_yaml_scalar(x_key)}, y: {_yaml_scalar(y_key)}}}",
        "  validation: {split: 0.2}   # 20% of the training images, shuffled with the seed",
    ]
    if test:
        data.append(f"  test: {{path: {_yaml_scalar(_relative(test, config_dir))}}}")
    return (
        _header("image-cnn", name, train.name)
        + "\n".join(data)
        + "\n"
        + f"""
model:                       # images of {height}x{width}; the input shape comes from the data
  layers:
{chr(10).join(layers) + chr(10) if layers else ""}    - {{type: Conv2D, filters: 32, kernel_size: 3, padding: same, activation: relu}}
    - {{type: MaxPooling2D, pool_size: 2}}
    - {{type: Conv2D, filters: 64, kernel_size: 3, padding: same, activation: relu}}
    - {{type: GlobalAveragePooling2D}}           # one vector per image, whatever its size
    - {{type: Dropout, rate: 0.3}}
    # {classes} classes
    - {output}
"""
        + _FOOTER.format(loss=loss, metrics=metrics, epochs=30)
    )


BUILDERS = {
    "tabular-classifier": tabular_classifier,
    "regression": regression,
    "image-cnn": image_cnn,
    "two-branch": two_branch,
}
