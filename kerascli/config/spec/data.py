"""The `data:` section: where train / validation / test / predict arrays come from."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    ByteSize,
    Discriminator,
    Field,
    PositiveInt,
    Tag,
    field_validator,
    model_validator,
)

from kerascli.config.spec.base import StrictModel
from kerascli.config.tables import FILE_SUFFIXES

PATTERN_KEYS = frozenset({"glob", "regex", "exclude"})
IMAGE_KEYS = ("image_size", "color_mode", "crop_to_aspect_ratio", "pad_to_aspect_ratio", "interpolation")
INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")
"""What `keras.ops.image.resize` takes on every backend (as `image_dataset_from_directory` uses it)."""


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
    """A data file or folder, or `x`/`y` given as their own files.

    Args:
        path: a `.csv`, `.parquet`, `.npz` or `.npy` file, a directory of
            `.npy` shards, or a folder of images or `.txt` files in class
            subfolders (`image_dataset_from_directory`'s layout); relative to
            the config file.
        x: the input columns (CSV/Parquet), keys (NPZ) or file (when `path`
            is absent): a name, a list, or a `ColumnPattern`; a mapping of
            model input name to those for multi-input models. Default: every
            column that is not in `y` (CSV/Parquet), key `x` (NPZ), the whole
            array (NPY), `image` or `text` (folders).
        y: the target column(s), key(s) or file; a mapping of output name for
            multi-output models. Default: key `y` (NPZ), `label` (a folder
            with class subfolders); none otherwise.
        image_size: `[height, width]` images are resized to (folders of
            images). Defaults to `[256, 256]`, as in Keras.
        color_mode: `grayscale`, `rgb` or `rgba` (1, 3 or 4 channels).
            Defaults to `rgb`.
        crop_to_aspect_ratio: resize without distortion by cropping the
            centre to the target aspect ratio. Defaults to false.
        pad_to_aspect_ratio: resize without distortion by padding.
            Defaults to false.
        interpolation: how images are resized; one of `bilinear`, `nearest`,
            `lanczos3`, `lanczos5`, `bicubic`, `area`. Defaults to `bilinear`.
        keep: columns copied from the input into the predictions, first
            (identifiers; `data.predict` only). A folder's predictions always
            start with the file's `path`.
    """

    path: str | None = None
    x: Selection | None = None
    y: Selection | None = None
    image_size: Annotated[list[PositiveInt], Field(min_length=2, max_length=2)] | None = None
    color_mode: Literal["grayscale", "rgb", "rgba"] | None = None
    crop_to_aspect_ratio: bool | None = None
    pad_to_aspect_ratio: bool | None = None
    interpolation: Literal[INTERPOLATIONS] | None = None
    keep: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] | None = None

    def like(self, train: Source | None) -> Source:
        """This source with `x`/`y` (and a folder's image options) taken from `train` where it names none.

        Validation, test and predict files usually have the training file's
        columns and images; saying them once, on `train`, is enough.
        """
        if train is None:
            return self
        update = {}
        if self.path is not None and not self.path.lower().endswith(FILE_SUFFIXES):  # a folder, like train's
            update = {
                k: getattr(train, k) for k in IMAGE_KEYS if getattr(self, k) is None and getattr(train, k) is not None
            }
        if not (self.x is not None or self.y is not None or self.path is None or train.path is None):
            # (without a path, train's x/y name files, not columns)
            if self.path.lower().endswith((".csv", ".parquet", ".npz")):
                update.update(x=train.x, y=train.y)  # a .npy array or a directory of shards has no columns to name
        return self.model_copy(update=update) if update else self

    def image_options(self) -> dict[str, Any]:
        """The image options as `keras.ops.image.resize` and the decoder take them, defaults filled."""
        return {
            "image_size": tuple(self.image_size or (256, 256)),
            "color_mode": self.color_mode or "rgb",
            "crop_to_aspect_ratio": bool(self.crop_to_aspect_ratio),
            "pad_to_aspect_ratio": bool(self.pad_to_aspect_ratio),
            "interpolation": self.interpolation or "bilinear",
        }

    @model_validator(mode="after")
    def _has_a_file(self) -> Source:
        if self.path is None and not isinstance(self.x, (str, dict)):
            raise ValueError(
                "expected 'path' (a .csv, .parquet, .npz or .npy file, or a folder) or 'x' naming its own file"
            )
        if self.crop_to_aspect_ratio and self.pad_to_aspect_ratio:
            raise ValueError("give 'crop_to_aspect_ratio' or 'pad_to_aspect_ratio', not both")
        return self


class Split(StrictModel):
    """A validation set carved out of the training data: shuffled and seeded, or the last rows.

    Args:
        split: the fraction of training rows held out, strictly between 0 and 1.
        shuffle: hold out a seeded random sample (true, the default) or the
            last rows in file order (false: time series must not train on
            the future).
    """

    split: float = Field(gt=0, lt=1)
    shuffle: bool = True


def _validation_kind(value: Any) -> str:
    if isinstance(value, dict) and "split" in value:
        return "{split}"
    return "{source}"


Validation = Annotated[
    Union[Annotated[Split, Tag("{split}")], Annotated[Source, Tag("{source}")]],
    Discriminator(_validation_kind),
]


STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")


class TextColumn(StrictModel):
    """A free-text column turned into token ids by the data layer (no TensorFlow needed).

    It does what `keras.layers.TextVectorization` does with the same
    arguments: standardise, split, map tokens to indices by frequency in the
    training rows (0 is padding, 1 is out-of-vocabulary), pad or cut to
    `output_sequence_length`. The vocabulary is saved with the run and
    applied again by `evaluate` and `predict`.

    Args:
        max_tokens: the vocabulary size, padding and OOV included; the most
            frequent tokens are kept. Default: every token of the training rows.
        output_sequence_length: tokens per row (`output_mode: int`). Default:
            the longest training row.
        standardize: `lower_and_strip_punctuation` (default), `lower`,
            `strip_punctuation`, or null (none).
        split: `whitespace` (default) or `character`.
        output_mode: `int` (a sequence of ids, for `Embedding`), `multi_hot`
            or `count` (one value per vocabulary entry).
    """

    max_tokens: int | None = Field(default=None, ge=3)
    output_sequence_length: PositiveInt | None = None
    standardize: Literal[STANDARDIZE] | None = "lower_and_strip_punctuation"
    split: Literal["whitespace", "character"] = "whitespace"
    output_mode: Literal["int", "multi_hot", "count"] = "int"


class CategoryColumn(StrictModel):
    """A string (or integer) category column turned into indices by the data layer.

    It does what `keras.layers.StringLookup` does: values are indexed by
    frequency in the training rows, index 0 is out-of-vocabulary (a value
    training never saw). The vocabulary is saved with the run.

    Args:
        max_tokens: the vocabulary size, OOV included. Default: every value.
        output_mode: `int` (one index per row, shape `[1]`, for `Embedding`)
            or `one_hot` (one column per vocabulary entry).
    """

    max_tokens: int | None = Field(default=None, ge=2)
    output_mode: Literal["int", "one_hot"] = "int"


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
        text: free-text columns by name, turned into token ids (`TextColumn`);
            a text folder's column is `text`.
        categories: category columns by name, turned into indices
            (`CategoryColumn`); `{}` takes the defaults.
    """

    train: Source | None = None
    validation: Validation | None = None
    test: Source | None = None
    predict: Source | None = None
    memory_budget: ByteSize | None = Field(default=None, gt=0)
    text: dict[str, TextColumn] = {}
    categories: dict[str, CategoryColumn] = {}

    @model_validator(mode="after")
    def _keep_on_predict(self) -> DataSpec:
        for role in ("train", "test"):
            if getattr(self, role) is not None and getattr(self, role).keep:
                raise ValueError(
                    f"'keep' belongs on data.predict (columns copied into the predictions), not data.{role}"
                )
        both = sorted(set(self.text) & set(self.categories))
        if both:
            raise ValueError(f"column '{both[0]}' is in both data.text and data.categories; give it one encoding")
        return self

    def encoded(self) -> dict[str, TextColumn | CategoryColumn]:
        """Every encoded column's options by name."""
        return {**self.text, **self.categories}
