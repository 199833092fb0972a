"""`kerascli init`: commented starter configs, filled in from the user's data.

Each template is a complete config that validates and trains as written: the
data file the user points at is read (without Keras) for what the config must
know — the target column, the number of classes, the image shape and pixel
type — and the comments say what to change next.

Templates (`TEMPLATES`):

- `tabular-classifier`: a CSV/Parquet table, one target column of class labels;
- `regression`: a table with a numeric target column;
- `image-cnn`: an `.npz` of images `x` (N, H, W[, C]) and integer labels `y`;
- `two-branch`: a table whose feature columns feed two input branches that are
  joined before the head (a functional graph with two named inputs).
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kerascli.errors import DataError, UsageError

TEMPLATES = ("tabular-classifier", "regression", "image-cnn", "two-branch")
TABLES = (".csv", ".parquet")
_MAX_CLASSES = 1000


@dataclass
class Table:
    """What a template needs to know about a table."""

    columns: list[str]
    target: str
    labels: list = field(default_factory=list)  # distinct target values, sorted
    numeric_target: bool = True
    integer_target: bool = True


def _read_columns(path: Path) -> dict[str, list]:
    """The columns of a CSV (as strings) or Parquet file."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        return {name: table.column(name).to_pylist() for name in table.column_names}
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise DataError(f"{path}: the file is empty; expected a header row of column names")
    header, body = rows[0], rows[1:]
    return {name: [row[i] for row in body if i < len(row)] for i, name in enumerate(header)}


def inspect_table(path: Path, target: str | None) -> Table:
    """Reads a table's columns and the values of its target column.

    Args:
        path: a `.csv` or `.parquet` file.
        target: the target column; default the last column.

    Raises:
        DataError: unreadable file, unknown target, fewer than two columns.
    """
    try:
        columns = _read_columns(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the table: {exc}") from None
    names = list(columns)
    if len(names) < 2:
        raise DataError(f"{path}: expected a feature column and a target column, found {len(names)} column(s)")
    target = target or names[-1]
    if target not in columns:
        raise DataError(f"{path}: no column '{target}'; columns are: {', '.join(names)}")
    values = [v for v in columns[target] if v not in ("", None)]
    numbers = []
    for v in values:
        try:
            numbers.append(float(v))
        except (TypeError, ValueError):
            numbers = None
            break
    table = Table(columns=names, target=target)
    if numbers is None:
        table.numeric_target = table.integer_target = False
        table.labels = sorted(set(map(str, values)))
    else:
        table.integer_target = all(n.is_integer() for n in numbers)
        table.labels = sorted(set(int(n) for n in numbers)) if table.integer_target else []
    return table


def _classes(table: Table, path: Path) -> int:
    """The number of classes of a classification target."""
    if not table.numeric_target:
        count = len(table.labels)
    elif table.integer_target:
        if table.labels and table.labels[0] < 0:
            raise DataError(f"{path}: class labels in '{table.target}' must be 0, 1, 2, ...; found {table.labels[0]}")
        count = (table.labels[-1] + 1) if table.labels else 0
    else:
        raise DataError(f"{path}: the target '{table.target}' holds fractional numbers; "
                        "for a numeric target use --template regression")
    if count < 2 or count > _MAX_CLASSES:
        raise DataError(f"{path}: the target '{table.target}' has {count} class(es); expected 2 to {_MAX_CLASSES}")
    return count


def _head(classes: int) -> tuple[str, str, str]:
    """Output layer, loss and metrics for `classes` classes (softmax, also for two)."""
    return f"{{type: Dense, units: {classes}, activation: softmax}}", "sparse_categorical_crossentropy", "[accuracy]"


def _yaml_list(items: list[str]) -> str:
    return "[" + ", ".join(_yaml_scalar(i) for i in items) + "]"


def _yaml_scalar(text: str) -> str:
    if re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_./\-]*", text) and text.lower() not in ("true", "false", "null", "yes", "no", "on", "off", "y", "n"):
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
    classes = _classes(table, train)
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
        raise DataError(f"{train}: the target '{table.target}' is not numeric; for class labels use --template tabular-classifier")
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
        classes = _classes(table, train)
        head, loss, metrics = _head(classes)
        output = "{name: output, " + head[1:]
    x = f"{{left: {_yaml_list(left)}, right: {_yaml_list(right)}}}"
    return (
        _header("two-branch", name, train.name)
        + "# Two inputs, each with its own layers, joined before the output. The feature columns are\n"
        + "# split in half here: move columns between `left` and `right` so each branch gets related ones.\n"
        + _data_section(_relative(train, config_dir), test and _relative(test, config_dir), _yaml_scalar(table.target), x)
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


def image_cnn(train: Path, test: Path | None, target: str | None, config_dir: Path, name: str) -> str:
    if train.suffix.lower() != ".npz":
        raise UsageError(f"--template image-cnn reads an .npz file of images and labels, got {train.name}")
    try:
        with np.load(train, allow_pickle=False) as archive:
            keys = list(archive.keys())
            y_key = target or "y"
            if y_key not in keys:
                raise DataError(f"{train}: no labels array '{y_key}'; arrays are: {', '.join(keys)} (name it with --target)")
            others = [k for k in keys if k != y_key]
            x_key = "x" if "x" in others else (others[0] if len(others) == 1 else None)
            if x_key is None:
                raise DataError(f"{train}: cannot tell which array holds the images; name it 'x' (arrays: {', '.join(keys)})")
            images = archive[x_key]
            labels = archive[y_key]
    except (OSError, ValueError) as exc:
        raise DataError(f"{train}: cannot read the .npz file: {exc}") from None
    if images.ndim not in (3, 4):
        raise DataError(f"{train}: '{x_key}' has shape {list(images.shape)}; expected images (N, height, width[, channels])")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{train}: labels '{y_key}' must be integers 0, 1, 2, ...; got dtype {labels.dtype}")
    classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and labels.min() < 0 or not 2 <= classes <= _MAX_CLASSES:
        raise DataError(f"{train}: labels '{y_key}' must be 0, 1, 2, ... with 2 to {_MAX_CLASSES} classes")
    height, width = images.shape[1:3]
    layers = []
    if images.ndim == 3:
        layers.append(f"    - {{type: Reshape, target_shape: [{height}, {width}, 1]}}   # add the channel axis Conv2D expects")
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
        + "\n".join(data) + "\n"
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


_BUILDERS = {
    "tabular-classifier": tabular_classifier,
    "regression": regression,
    "image-cnn": image_cnn,
    "two-branch": two_branch,
}


def starter_config(template: str, data: list[Path], output: Path, target: str | None = None) -> str:
    """The text of a starter config.

    Args:
        template: one of `TEMPLATES`.
        data: the training file, then optionally a test file.
        output: where the config will be written (data paths are made
            relative to its folder).
        target: the target column (tables) or labels array (`.npz`);
            default the last column, or `y`.

    Returns:
        The YAML text, comments included.

    Raises:
        UsageError: unknown template, no or too many data files.
        DataError: the data does not fit the template.
    """
    if template not in _BUILDERS:
        raise UsageError(f"--template: unknown template '{template}', expected one of: {', '.join(TEMPLATES)}")
    if not data:
        raise UsageError("init needs the training data: --data TRAIN_FILE (and optionally a second --data TEST_FILE); "
                         "the template is filled in from its columns")
    if len(data) > 2:
        raise UsageError(f"--data: give the training file and optionally a test file, got {len(data)} files")
    for path in data:
        if not Path(path).is_file():
            raise UsageError(f"--data: no such file: {path}")
    train = Path(data[0])
    if template != "image-cnn" and train.suffix.lower() not in TABLES:
        raise UsageError(f"--template {template} reads a .csv or .parquet table, got {train.name}")
    test = Path(data[1]) if len(data) > 1 else None
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", Path(output).stem) or "model"
    return _BUILDERS[template](train, test, target, Path(output).parent, name)


def write_starter(template: str, data: list[Path], output: Path, target: str | None = None, force: bool = False) -> Path:
    """Writes the starter config to `output` (atomically); refuses to overwrite unless `force`."""
    from kerascli.run.rundir import write_text

    output = Path(output)
    if output.exists() and not force:
        raise UsageError(f"{output} exists; choose another -o or pass --force to overwrite it")
    write_text(output, starter_config(template, data, output, target))
    os.chmod(output, 0o644)
    return output
