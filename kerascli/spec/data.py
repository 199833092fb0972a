"""The `data:` section: where train / validation / test / predict arrays come from."""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Discriminator, Field, Tag, model_validator

from kerascli.spec.base import StrictModel

Columns = Union[str, list[str]]
"""One column/key/file name, or a list of column names."""

Selection = Union[Columns, dict[str, Columns]]
"""Columns for one array, or a mapping from model input/output name to columns."""


class Source(StrictModel):
    """A data file, or `x`/`y` given as their own files.

    Args:
        path: a `.csv`, `.npz` or `.npy` file (relative to the config file).
        x: the input columns (CSV), keys (NPZ) or file (when `path` is absent);
            a mapping of model input name to those for multi-input models.
            Default: every column that is not in `y` (CSV), key `x` (NPZ),
            the whole array (NPY).
        y: the target column(s), key(s) or file; a mapping of output name for
            multi-output models. Default: key `y` (NPZ); none otherwise.
    """

    path: str | None = None
    x: Selection | None = None
    y: Selection | None = None

    def like(self, train: "Source | None") -> "Source":
        """This source with `x`/`y` taken from `train` where it names neither.

        Validation, test and predict files usually have the training file's
        columns; saying them once, on `train`, is enough.
        """
        if train is None or self.x is not None or self.y is not None or self.path is None:
            return self
        if self.path.lower().endswith(".npy"):
            return self
        return self.model_copy(update={"x": train.x, "y": train.y})

    @model_validator(mode="after")
    def _has_a_file(self) -> "Source":
        if self.path is None and not isinstance(self.x, (str, dict)):
            raise ValueError("expected 'path' (a .csv, .npz or .npy file) or 'x' naming its own file")
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
    """

    train: Source | None = None
    validation: Validation | None = None
    test: Source | None = None
    predict: Source | None = None
