"""Encoded inputs: a column named in `data.text` or `data.categories` reaches its model input as indices.

A selection that names exactly one encoded column is read raw (strings),
its vocabulary fitted on the training rows (`kerascli.data.vocabulary`) and
applied; the same vocabulary encodes validation, test and predict rows. An
encoded column must be a model input of its own: it becomes a sequence of
token ids or a one-hot block, which cannot share a matrix with numbers.
"""

from __future__ import annotations

from kerascli.config.document import Key
from kerascli.config.spec.data import TextColumn
from kerascli.data import vocabulary
from kerascli.data.selection import names_of
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


def input_array(reader, selection, key: Key, *, targets, encodings: dict, vocabularies: Vocabularies | None, fit: bool):
    """The array for one model input: encoded when `selection` names an encoded column, else as read.

    Args:
        reader: the source's `Reader`.
        selection: the input's columns.
        key: where the selection is in the config.
        targets: the target column names (never picked as inputs).
        encodings: `data.text` and `data.categories` together, by column.
        vocabularies: the fitted vocabularies (updated when `fit`).
        fit: learn vocabularies of columns that have none yet (training data).

    Returns:
        A numpy array (or a lazy one, for files).
    """
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
