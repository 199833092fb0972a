"""Encoded inputs: a column named in `data.text` or `data.categories` reaches its model input as indices.

A selection that names exactly one encoded column is read raw (strings),
its vocabulary fitted on the training rows (`kerascli.data.vocabulary`) and
applied; the same vocabulary encodes validation, test and predict rows. An
encoded column must be a model input of its own: it becomes a sequence of
token ids or a one-hot block, which cannot share a matrix with numbers.

A model input declared `dtype: string` instead receives its one column as
raw strings (`kerascli.data.strings`): the graph's own string layers
encode it.
"""

from __future__ import annotations

from kerascli.config.document import Key
from kerascli.config.spec.data import TextColumn
from kerascli.data import vocabulary
from kerascli.data.selection import names_of
from kerascli.data.strings import string_column
from kerascli.data.vocabulary import Vocabularies


def encoded_column(selection, encodings: dict) -> str | None:
    """The encoded column `selection` names alone, or None when it names none."""
    names = names_of(selection)
    if len(names) == 1 and names[0] in encodings and not isinstance(selection, dict):
        return names[0]
    return None


def check_not_mixed(selection, encodings: dict, fail) -> None:
    """An encoded column listed among other columns of one input is an error."""
    mixed = [n for n in names_of(selection) if n in encodings]
    if mixed and len(names_of(selection)) > 1:
        fail(
            f"column '{mixed[0]}' is encoded (data.text/data.categories) and becomes ids, not one number; "
            f"give it its own input, e.g. x: {{{mixed[0]}: {mixed[0]}, ...}}"
        )


def encoded_inputs(selected: dict, encodings: dict, vocabularies, fail) -> dict[str, str | None]:
    """The encoded column of each input (None for the others), checked to have a vocabulary in the run."""
    encoded = {name: encoded_column(sel, encodings) for name, sel in selected.items()}
    for name, sel in selected.items():
        if encoded[name] is None:
            check_not_mixed(sel, encodings, fail)
        elif not vocabularies or encoded[name] not in vocabularies:
            fail(f"column '{encoded[name]}' is encoded but the run has no vocabulary for it; train again")
    return encoded


def input_array(
    reader,
    selection,
    key: Key,
    *,
    targets,
    encodings: dict,
    vocabularies: Vocabularies | None,
    fit: bool,
    strings: tuple | None = None,
):
    """The array for one model input: raw strings, encoded when `selection` names an encoded column, else as read.

    Args:
        reader: the source's `Reader`.
        selection: the input's columns.
        key: where the selection is in the config.
        targets: the target column names (never picked as inputs).
        encodings: `data.text` and `data.categories` together, by column.
        vocabularies: the fitted vocabularies (updated when `fit`).
        fit: learn vocabularies of columns that have none yet (training data).
        strings: the sample shape of a model input declared `dtype: string`
            (its column is read as raw strings); None for the others.

    Returns:
        A numpy array (or a lazy one, for files).
    """
    if strings is not None:
        return string_input(reader, selection, key, targets=targets, encodings=encodings, shape=strings)
    column = encoded_column(selection, encodings)
    if column is None:
        check_not_mixed(selection, encodings, lambda m: reader.fail(key, m))
        return reader.array(selection, key, targets=targets)
    values = reader.raw_column(column, key)
    if vocabularies is None:
        vocabularies = Vocabularies()
    if column not in vocabularies:
        if not fit:
            reader.fail(key, f"column '{column}' is encoded but the run has no vocabulary for it; train again")
        options = encodings[column]
        kind = "text" if isinstance(options, TextColumn) else "category"
        vocabularies[column] = vocabulary.fit(values, kind, options.model_dump())
    return vocabularies[column].encode(values)


def string_input(reader, selection, key: Key, *, targets, encodings: dict, shape: tuple):
    """The raw strings of the one column `selection` names, for a model input declared `dtype: string`.

    Raises:
        DataError: the selection names no column or several, a file, or a column
            that `data.text`/`data.categories` encodes (the input would receive ids).
    """
    fail = lambda message: reader.fail(key, message)  # noqa: E731
    if reader.folder is None and reader.kind not in (".csv", ".parquet"):
        fail(
            "a string input (dtype: string) reads one column of a .csv or .parquet file, or a folder's 'text'; "
            f"{reader.path.name if reader.path else 'this source'} has no text columns"
        )
    if reader.folder is not None:
        names = names_of(selection) or [reader.folder.kind]
    else:
        names = reader.column_names(selection, key, targets)
    if len(names) != 1:
        fail(
            f"a string input (dtype: string) reads one column, got {len(names)} ({', '.join(names)}); "
            "give each text column its own input, e.g. x: {title: title, body: body}"
        )
    column = names[0]
    if column in encodings:
        fail(
            f"column '{column}' feeds a string input (dtype: string) and is also encoded to ids by data.text/"
            "data.categories; keep one: the graph's string layers (TensorFlow) or the data layer's encoding"
        )
    where = f"column '{column}' of {reader.path.name}"
    return string_column(reader.raw_column(column, key), shape, where, fail)
