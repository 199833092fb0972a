"""The training input columns of a run: recorded at `train`, selected by name at `evaluate` and `predict`.

A model only sees a matrix: without names, a file whose columns come in
another order (`c,b,a`), or with one renamed, would be predicted by position
and give wrong answers silently. So `train` records, per model input, the
columns (or NPZ keys) it read, in order, with their types (`run.json`,
`"inputs"`), and every later source of a table or NPZ file is read through
`select_recorded`: the same names in the same order, extra columns ignored,
a missing one an error that names it.

`select_recorded` is the one place that decides which columns of a file feed
the model; code that keeps other columns beside the predictions (such as
`data.predict.keep`) asks it which are the inputs.
"""

from __future__ import annotations

from kerascli.config.document import Document, Key
from kerascli.config.spec.data import Source
from kerascli.config.tables import TABLE_SUFFIXES
from kerascli.data.loading import input_selections, selections
from kerascli.data.readers import Reader
from kerascli.data.selection import names_of
from kerascli.errors import DataError

NAMED_KINDS = (*TABLE_SUFFIXES, ".npz")


def recorded_inputs(source: Source, doc: Document, key: Key, input_names: list[str] | None) -> dict[str, dict]:
    """The columns (or keys) each model input reads from `source`, for `run.json`.

    Args:
        source: the training source.
        doc: the config document.
        key: the source's key, e.g. `("data", "train")`.
        input_names: the model's input names (None: one input named `input`).

    Returns:
        `{input_name: {"columns": [...], "dtypes": [...]}}` for inputs read from
        columns of a CSV/Parquet file or keys of an NPZ; empty for arrays in
        their own files, which have no names.
    """
    reader = Reader(source, doc, key)
    if reader.kind not in NAMED_KINDS:
        return {}
    x_sel, y_sel = selections(source, reader)
    types = reader.types()
    recorded = {}
    for name, selection in input_selections(x_sel, input_names, doc, key).items():
        if isinstance(selection, str) and reader.own_file(selection, key + ("x",)):
            continue
        columns = reader.selected_names(selection, key + ("x",), names_of(y_sel))
        recorded[name] = {"columns": columns, "dtypes": [types.get(c, "") for c in columns]}
    return recorded


def select_recorded(source: Source, recorded: dict[str, dict], doc, key: Key, where: str | None = None) -> Source:
    """`source` reading exactly the recorded training columns, by name.

    Args:
        source: an evaluate or predict source (a table or NPZ file).
        recorded: `run.json`'s `"inputs"` (see `recorded_inputs`); runs
            trained before it existed have none, and `source` is returned as is.
        doc: the document errors point into.
        key: the source's key.
        where: how messages name the file (default: its name).

    Returns:
        The source with `x` naming the recorded columns for each input (a
        list for one input, a mapping for several); targets are kept.

    Raises:
        DataError: a recorded column is not in the file (all missing ones named).
    """
    if not recorded or source.path is None:
        return source
    reader = Reader(source, doc, key)
    if reader.kind not in NAMED_KINDS:
        return source
    available = set(reader.names())
    missing = [c for entry in recorded.values() for c in entry["columns"] if c not in available]
    if missing:
        names = ", ".join(f"'{c}'" for c in dict.fromkeys(missing))
        trained = "; ".join(", ".join(e["columns"]) for e in recorded.values())
        noun = "key" if reader.kind == ".npz" else "column"
        raise DataError(
            doc.problem(
                key + ("x",),
                f"{where or reader.path.name} has no {noun} {names}, which the model was trained on "
                f"(its inputs read: {trained})",
            )
        )
    columns = {name: list(entry["columns"]) for name, entry in recorded.items()}
    x = next(iter(columns.values())) if len(columns) == 1 and not isinstance(source.x, dict) else columns
    return source.model_copy(update={"x": x})
