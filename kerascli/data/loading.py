"""Loading one source into `Arrays`: which columns feed which input and output, and the split.

Columns named in `data.text`/`data.categories` are encoded to ids
(`kerascli.data.encoding`); a folder's default `x` is its images or texts
and its default `y` the class folder names.
"""

from __future__ import annotations

import difflib

import numpy as np

from kerascli.config.document import Document, Key
from kerascli.config.spec.data import Source
from kerascli.data.arrays import DEFAULT_INPUT, Arrays, Labels
from kerascli.data.checks import check_rows
from kerascli.data.encoding import input_array
from kerascli.data.labels import encode
from kerascli.data.places import Origin
from kerascli.data.readers import Reader
from kerascli.data.selection import names_of
from kerascli.data.vocabulary import Vocabularies
from kerascli.errors import DataError


def load(
    source: Source,
    doc: Document,
    key: Key,
    *,
    input_names: list[str] | None,
    output_names: list[str],
    labels: Labels,
    fit_labels: bool = False,
    need_y: bool = True,
    targets: bool = True,
    encodings: dict | None = None,
    vocabularies: Vocabularies | None = None,
    head: int | None = None,
    string_inputs: dict[str, tuple] | None = None,
) -> Arrays:
    """Loads one source: tables into memory, `.npy` files and shards memory-mapped (see `fit_feeds`).

    Args:
        source: the `data.<role>` spec.
        doc: the config document (for paths and error locations).
        key: where the source is in the config, e.g. `("data", "train")`.
        input_names: the model's input names, or None to name a single input
            `input` (the shapes are then inferred from the data).
        output_names: the model's output node names.
        labels: vocabularies by output name; updated when `fit_labels`.
        fit_labels: learn vocabularies of string targets and encoded columns (training data only).
        need_y: whether targets are required.
        targets: whether to load targets at all (`predict` does not); the
            target columns are still left out of the default inputs.
        encodings: `data.text` and `data.categories` together, by column.
        vocabularies: the input columns' `Vocabularies` (fitted here when `fit_labels`).
        head: read only the first `head` rows of each file (`validate --deep`).
        string_inputs: the sample shape of each input declared `dtype: string`
            (`kerascli.data.strings`): its column is read as raw strings.

    Returns:
        The `Arrays`.

    Raises:
        DataError: a missing, unreadable or corrupt file, an unknown column or
            key, non-numeric inputs, NaN/inf values, mismatched row counts,
            labels unseen in training.
    """
    reader = Reader(source, doc, key, head)
    x_sel, y_sel = selections(source, reader)
    y_names = names_of(y_sel)
    if not targets:
        y_sel, need_y = None, False
    y_selected = target_selections(y_sel, output_names, need_y, doc, key)
    x_selected = input_selections(x_sel, input_names, doc, key)
    check_no_target_leak(reader, x_selected, y_selected, doc, key)
    y = {name: reader.array(sel, key + _sub("y", name, y_sel), target=True) for name, sel in y_selected.items()}
    encoded = {"encodings": encodings or {}, "vocabularies": vocabularies, "fit": fit_labels}
    x = _inputs(reader, x_selected, x_sel, y_names, string_inputs or {}, encoded, key)
    y = _encode_targets(reader, y, y_selected, labels, fit_labels, key)
    arrays = Arrays(x, y, origin_of(reader, {**x_selected, **y_selected}, y_names, key))
    check_rows(arrays, doc, key)
    return arrays


def _inputs(reader: Reader, selected: dict, x_sel, targets: list[str], strings: dict, encoded: dict, key: Key):
    """The array of each input (`kerascli.data.encoding.input_array`)."""
    return {
        name: input_array(
            reader, sel, key + _sub("x", name, x_sel), targets=targets, strings=strings.get(name), **encoded
        )
        for name, sel in selected.items()
    }


def _encode_targets(reader: Reader, y: dict, selected: dict, labels: Labels, fit_labels: bool, key: Key) -> dict:
    """The targets with string labels encoded (a folder's classes are every class folder)."""
    for name, values in list(y.items()):
        if fit_labels and name not in labels and reader.folder is not None and names_of(selected[name]) == ["label"]:
            labels[name] = list(reader.folder.classes)  # Keras' class_names: every class folder, empty ones too
        y[name] = encode(values, name, labels, fit_labels, reader.doc, key + ("y",))
    return y


def origin_of(reader: Reader, selected: dict, targets: list[str], key: Key) -> Origin | None:
    """The file the arrays come from and the column names of each, for messages."""
    if reader.path is None:
        return None
    columns = {}
    if reader.kind in (".csv", ".parquet", ".npz"):
        for name, selection in selected.items():
            if not (isinstance(selection, str) and reader.own_file(selection, key)):
                picked = reader.selected_names(selection, key, targets if name not in targets else ())
                columns[name] = picked
    return reader.origin(columns)


def check_no_target_leak(reader: Reader, x_selected: dict, y_selected: dict, doc: Document, key: Key) -> None:
    """An input that lists a target column would learn the answer from the question: refused.

    Raises:
        DataError: naming the column that is both an input and a target.
    """
    targets = {c for sel in y_selected.values() for c in names_of(sel) if not reader.own_file(c, key)}
    for selection in x_selected.values():
        leaked = [c for c in names_of(selection) if c in targets]
        if leaked:
            raise DataError(
                doc.problem(
                    key + ("x",),
                    f"'{leaked[0]}' is both an input column and the target: the model would read the answer "
                    f"(a target leak); remove it from 'x'",
                )
            )


def selections(source: Source, reader: Reader):
    """`(x, y)` selections of a source, with the NPZ defaults (keys `x` and `y`) filled."""
    x_sel, y_sel = source.x, source.y
    if reader.kind == ".npz":
        x_sel = "x" if x_sel is None else x_sel
        y_sel = ("y" if "y" in reader.names() else None) if y_sel is None else y_sel
    if reader.folder is not None:
        x_sel = reader.folder.kind if x_sel is None else x_sel
        y_sel = ("label" if reader.folder.labels is not None else None) if y_sel is None else y_sel
    return x_sel, y_sel


def _sub(axis: str, name: str, selection) -> Key:
    return (axis, name) if isinstance(selection, dict) else (axis,)


def target_selections(y_sel, output_names: list[str], need_y: bool, doc: Document, key: Key) -> dict:
    """The target selection of each model output."""
    if isinstance(y_sel, dict):
        for name in y_sel:
            if name not in output_names:
                hint = difflib.get_close_matches(name, output_names, n=1)
                raise DataError(
                    doc.problem(
                        key + ("y", name),
                        f"'{name}' is not a model output; outputs are: {', '.join(output_names)}"
                        + (f" (did you mean '{hint[0]}'?)" if hint else ""),
                    )
                )
        return dict(y_sel)
    if y_sel is not None:
        if len(output_names) > 1:
            raise DataError(
                doc.problem(
                    key + ("y",),
                    f"the model has {len(output_names)} outputs ({', '.join(output_names)}); give 'y' as a mapping from output name to columns",
                )
            )
        return {output_names[0]: y_sel}
    if need_y:
        raise DataError(doc.problem(key, "no targets: set 'y' to the target column, key or file"))
    return {}


def input_selections(x_sel, input_names: list[str] | None, doc: Document, key: Key) -> dict:
    """The input selection of each model input."""
    if isinstance(x_sel, dict):
        return dict(x_sel)
    if input_names and len(input_names) > 1:
        raise DataError(
            doc.problem(
                key + ("x",),
                f"the model has {len(input_names)} inputs ({', '.join(input_names)}); give 'x' as a mapping from input name to columns",
            )
        )
    name = input_names[0] if input_names and len(input_names) == 1 else DEFAULT_INPUT
    return {name: x_sel}


def split(
    arrays: Arrays, fraction: float, seed: int, doc: Document, key: Key, shuffle: bool = True
) -> tuple[Arrays, Arrays]:
    """Shuffles rows with `seed` and holds out the first `floor(n * fraction)`; or the last rows.

    This is the usual recipe (permute, take the first part as validation),
    not Keras' `validation_split`, which takes the last rows unshuffled;
    `shuffle=False` is Keras' way, for series (no future rows in training).
    Memory-mapped arrays and image folders are split by index (`RowView`),
    never loaded.

    Returns:
        `(train, validation)`.
    """
    n = len(arrays)
    n_val = int(fraction * n)
    if n_val == 0 or n_val == n:
        side = "validation" if n_val == 0 else "training"
        raise DataError(doc.problem(key, f"a split of {fraction} of {n} rows leaves the {side} set empty"))
    if not shuffle:
        return arrays.take(np.arange(n - n_val)), arrays.take(np.arange(n - n_val, n))
    order = np.random.default_rng(seed).permutation(n)
    return arrays.take(order[n_val:]), arrays.take(order[:n_val])
