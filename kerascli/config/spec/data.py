"""The `data:` section: where train / validation / test / predict arrays come from."""

from __future__ import annotations

import re
from typing import Annotated, Any, Union

from pydantic import (
    AfterValidator,
    ByteSize,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from kerascli.config.spec.base import StrictModel

PATTERN_KEYS = frozenset({"glob", "regex", "exclude"})


class ColumnPattern(StrictModel):
    """Columns (or NPZ keys) picked by pattern instead of listed one by one.

    `x: {glob: "px_*"}`, `x: {regex: "f[0-9]+"}`, `x: {exclude: [id]}` ("every
    column but id"); `exclude` also narrows a glob or regex. Names keep the
    file's order. The target columns are never picked as inputs.

    Args:
        glob: a shell-style pattern (`*`, `?`, `[abc]`) matched against each name.
        regex: a regular expression that must match the whole name.
        exclude: a name, or list of names, to leave out.
    """

    glob: str | None = Field(default=None, min_length=1)
    regex: str | None = Field(default=None, min_length=1)
    exclude: Union[str, list[str], None] = None

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_rule(self) -> ColumnPattern:
        if self.glob is not None and self.regex is not None:
            raise ValueError("give 'glob' or 'regex', not both")
        if self.glob is None and self.regex is None and self.exclude is None:
            raise ValueError("expected 'glob', 'regex' or 'exclude'")
        return self


def _columns_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "{pattern}"
    return "{list}" if isinstance(value, list) else "{name}"


Columns = Annotated[
    Union[
        Annotated[str, Tag("{name}")], Annotated[list[str], Tag("{list}")], Annotated[ColumnPattern, Tag("{pattern}")]
    ],
    Discriminator(_columns_kind),
]
"""One column/key/file (or directory of .npy shards) name, a list of names, or a pattern."""


def _selection_kind(value: Any) -> str:
    if isinstance(value, dict) and not (value and set(value) <= PATTERN_KEYS):
        return "{mapping}"
    return "{columns}"


def _no_pattern_keys(mapping: dict) -> dict:
    mixed = sorted(PATTERN_KEYS & set(mapping))
    if mixed:
        raise ValueError(
            f"{', '.join(mixed)} cannot be mixed with input/output names; a pattern is a mapping of only glob/regex/exclude"
        )
    return mapping


Mapping = Annotated[
    dict[str, Columns],
    AfterValidator(_no_pattern_keys),
    Field(min_length=1, json_schema_extra={"propertyNames": {"not": {"enum": sorted(PATTERN_KEYS)}}}),
]

Selection = Annotated[
    Union[Annotated[Columns, Tag("{columns}")], Annotated[Mapping, Tag("{mapping}")]],
    Discriminator(_selection_kind),
]
"""Columns for one array, or a mapping from model input/output name to columns.

A mapping whose keys are all among `glob`, `regex`, `exclude` is a pattern;
those three cannot be input or output names.
"""


class Source(StrictModel):
    """A data file, or `x`/`y` given as their own files.

    Args:
        path: a `.csv`, `.parquet`, `.npz` or `.npy` file, or a directory of
            `.npy` shards (relative to the config file).
        x: the input columns (CSV/Parquet), keys (NPZ) or file (when `path`
            is absent): a name, a list, or a `ColumnPattern`; a mapping of
            model input name to those for multi-input models. Default: every
            column that is not in `y` (CSV/Parquet), key `x` (NPZ), the whole
            array (NPY).
        y: the target column(s), key(s) or file; a mapping of output name for
            multi-output models. Default: key `y` (NPZ); none otherwise.
    """

    path: str | None = None
    x: Selection | None = None
    y: Selection | None = None

    def like(self, train: Source | None) -> Source:
        """This source with `x`/`y` taken from `train` where it names neither.

        Validation, test and predict files usually have the training file's
        columns; saying them once, on `train`, is enough.
        """
        if train is None or self.x is not None or self.y is not None or self.path is None or train.path is None:
            return self  # (without a path, train's x/y name files, not columns)
        if not self.path.lower().endswith((".csv", ".parquet", ".npz")):
            return self  # a .npy array or a directory of shards has no columns to name
        return self.model_copy(update={"x": train.x, "y": train.y})

    @model_validator(mode="after")
    def _has_a_file(self) -> Source:
        if self.path is None and not isinstance(self.x, (str, dict)):
            raise ValueError("expected 'path' (a .csv, .parquet, .npz or .npy file) or 'x' naming its own file")
        return self


class Split(StrictModel):
    """A validation set carved out of the training data: shuffled and seeded.

    Args:
        split: the fraction of training rows held out, strictly between 0 and 1.
    """

    split: float = Field(gt=0, lt=1)


def _validation_kind(value: Any) -> str:
    if isinstance(value, dict) and "split" in value:
        return "{split}"
    return "{source}"


Validation = Annotated[
    Union[Annotated[Split, Tag("{split}")], Annotated[Source, Tag("{source}")]],
    Discriminator(_validation_kind),
]


class DataSpec(StrictModel):
    """The `data:` section.

    Args:
        train: the training data (required to train).
        validation: `{split: f}` or a source; default none.
        test: what `evaluate` uses; default the validation data.
        predict: what `predict` uses unless `--input` is given.
        memory_budget: bytes (`2GB`, `512MiB`, an integer) that memory-mapped
            `.npy` data may take in RAM; bigger data is streamed batch by
            batch through a `keras.utils.PyDataset` instead of being loaded.
            Default: a quarter of the machine's physical memory.
    """

    train: Source | None = None
    validation: Validation | None = None
    test: Source | None = None
    predict: Source | None = None
    memory_budget: ByteSize | None = Field(default=None, gt=0)
