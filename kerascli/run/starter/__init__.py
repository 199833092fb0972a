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

import os
import re
from pathlib import Path

from kerascli.config.tables import TABLE_SUFFIXES
from kerascli.errors import UsageError
from kerascli.run.starter.templates import BUILDERS

TEMPLATES = ("tabular-classifier", "regression", "image-cnn", "two-branch")


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
    if template not in BUILDERS:
        raise UsageError(f"--template: unknown template '{template}', expected one of: {', '.join(TEMPLATES)}")
    if not data:
        raise UsageError(
            "init needs the training data: --data TRAIN_FILE (and optionally a second --data TEST_FILE); "
            "the template is filled in from its columns"
        )
    if len(data) > 2:
        raise UsageError(f"--data: give the training file and optionally a test file, got {len(data)} files")
    for path in data:
        if not Path(path).is_file():
            raise UsageError(f"--data: no such file: {path}")
    train = Path(data[0])
    if template != "image-cnn" and train.suffix.lower() not in TABLE_SUFFIXES:
        raise UsageError(f"--template {template} reads a .csv or .parquet table, got {train.name}")
    test = Path(data[1]) if len(data) > 1 else None
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", Path(output).stem) or "model"
    return BUILDERS[template](train, test, target, Path(output).parent, name)


def write_starter(
    template: str, data: list[Path], output: Path, target: str | None = None, force: bool = False
) -> Path:
    """Writes the starter config to `output` (atomically); refuses to overwrite unless `force`."""
    from kerascli.atomic import write_text

    output = Path(output)
    if output.exists() and not force:
        raise UsageError(f"{output} exists; choose another -o or pass --force to overwrite it")
    write_text(output, starter_config(template, data, output, target))
    os.chmod(output, 0o644)
    return output
