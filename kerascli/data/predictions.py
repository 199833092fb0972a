"""The columns of a predictions table: decoded labels and per-class probabilities.

For a classifier output (a cross-entropy loss, or string labels in training)
the CSV holds the predicted label (decoded to the training strings when there
was a vocabulary) and one probability column per class. Other outputs get one
column per unit. Several outputs are told apart by an `<output>.` prefix.
The streamed writer (`kerascli.data.predicting`) writes these columns chunk
by chunk to CSV or Parquet.
"""

from __future__ import annotations

import re

import numpy as np

CATEGORICAL = "categorical"
BINARY = "binary"

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP: "CSV injection").
FORMULA_START = r"^[=+\-@\t\r]"
PLAIN_NUMBER = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"


def classifier_outputs(cfg, outputs: list[str]) -> dict[str, str | None]:
    """Which outputs are classifiers, from their loss names: categorical, binary or None."""
    loss = cfg.compile.loss
    kinds = {}
    for name in outputs:
        item = loss.get(name) if isinstance(loss, dict) else loss
        text = (item.type if item is not None else "").lower().replace("_", "")
        if "categoricalcrossentropy" in text or "categoricalfocalcrossentropy" in text:
            kinds[name] = CATEGORICAL
        elif "binarycrossentropy" in text or "binaryfocalcrossentropy" in text or text == "hinge":
            kinds[name] = BINARY
        else:
            kinds[name] = None
    return kinds


def target_columns(source, outputs: list[str]) -> dict[str, list[str]]:
    """The target column names the training source gives each output (`y: price` → `{out: [price]}`).

    Targets given as their own files name no columns and are left out.
    """
    from kerascli.config.tables import FILE_SUFFIXES
    from kerascli.data.selection import names_of

    if source is None or source.y is None:
        return {}
    by_output = source.y if isinstance(source.y, dict) else ({outputs[0]: source.y} if len(outputs) == 1 else {})
    named = {out: names_of(sel) for out, sel in by_output.items()}
    return {
        out: names
        for out, names in named.items()
        if names and not any(n.lower().endswith(FILE_SUFFIXES) for n in names)
    }


def columns(
    name: str,
    values: np.ndarray,
    vocab: list[str] | None,
    kind: str | None,
    prefix: str,
    targets: list[str] | None = None,
) -> tuple[list[str], list[np.ndarray]]:
    """Column headers and column arrays for one output.

    `targets` are the column names the user gave the output's targets: a
    regression on `y: price` writes a `price` column, a multi-label output
    on `y: [sports, tech]` writes `sports` and `tech` (probabilities).
    """
    values = np.asarray(values)
    flat = values.reshape(len(values), -1)
    width = flat.shape[1]
    if vocab is not None and kind is None:
        kind = BINARY if width == 1 and len(vocab) == 2 else CATEGORICAL
    if kind == CATEGORICAL and width > 1:
        classes = vocab if vocab is not None and len(vocab) == width else [str(i) for i in range(width)]
        index = flat.argmax(axis=1)
        labels = np.asarray(classes, dtype=object)[index]
        return [f"{prefix}label"] + [f"{prefix}p_{c}" for c in classes], [labels] + [flat[:, i] for i in range(width)]
    if kind == BINARY and width == 1:
        classes = vocab if vocab is not None and len(vocab) == 2 else ["0", "1"]
        labels = np.where(flat[:, 0] > 0.5, classes[1], classes[0]).astype(object)
        return [f"{prefix}label", f"{prefix}p_{classes[1]}"], [labels, flat[:, 0]]
    if (
        targets and len(targets) == width and not (width == 1 and prefix)
    ):  # several outputs: one column each is named after its output
        return [f"{prefix}{t}" for t in targets], [flat[:, i] for i in range(width)]
    if width == 1:
        return [prefix.rstrip(".") or name], [flat[:, 0]]
    return [f"{prefix}{i}" for i in range(width)], [flat[:, i] for i in range(width)]


def table(
    by_output: dict[str, np.ndarray], labels: dict, kinds: dict, target_names: dict | None = None
) -> tuple[list[str], list[np.ndarray]]:
    """The headers and columns of a predictions table: `columns` of every output, `<output>.`-prefixed when several.

    The one assembly of a predictions row: the file writer and `kerascli serve` both use it.
    """
    headers, cols = [], []
    multi = len(by_output) > 1
    target_names = target_names or {}
    for name, values in by_output.items():
        prefix = f"{name}." if multi else ""
        h, c = columns(name, np.asarray(values), labels.get(name), kinds.get(name), prefix, target_names.get(name))
        headers += h
        cols += c
    return headers, cols


def spreadsheet_safe(table):
    """`table` with every string cell a spreadsheet would run as a formula prefixed with `'`.

    As OWASP advises for CSV files: a cell (or header) starting with `=`,
    `+`, `-`, `@`, tab or carriage return gets a leading single quote, so
    `=HYPERLINK(...)` shows as text. Numbers are never touched: numeric
    columns stay numbers, and a text cell that is a plain number (`-1`,
    `+2.5`) is not a formula.

    Args:
        table: a pyarrow table of predictions (and kept input columns).

    Returns:
        The table, with the same column types.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.and_(
                pc.match_substring_regex(column, FORMULA_START),
                pc.invert(pc.match_substring_regex(column, PLAIN_NUMBER)),
            )
            column = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.table(columns, names=[_safe_text(n) for n in table.column_names])


def _safe_text(text: str) -> str:
    """One header or label, prefixed with `'` when a spreadsheet would run it as a formula."""
    return "'" + text if re.match(FORMULA_START, text) and not re.match(PLAIN_NUMBER, text) else text
