"""Data sources → named arrays, seeded splits, label vocabularies, feeds for Keras.

A source is a `.csv` or `.parquet` table (read with pyarrow), an `.npz`, a
`.npy` (memory-mapped), a directory of `.npy` shards, or a folder of images
or `.txt` files in class subfolders; `x` and `y` name columns (by name, list,
glob, regex or "all but"), keys, or their own files.
Arrays come back keyed by model input and output name, so single- and
multi-input models go through the same code. String class labels are encoded
to integers with a vocabulary fitted on the training data and saved with the run.

Modules:

    arrays.py     Arrays (inputs and targets by name), Labels
    lazy.py       lazy arrays: memory maps, shards, row views, reading rows without page faults
    dtypes.py     the dtypes data takes once loaded (float64 → float32), its size in RAM
    places.py     where a row is in its file: a CSV's own line, a row index (Origin)
    loading.py    one source → Arrays by input/output name; the seeded split
    selection.py  which columns a selection names
    readers.py    one source: which file or folder, what it holds, the arrays its selections name
    tables.py     CSV and Parquet through pyarrow: schema, columns, incremental record batches
    arrayfiles.py .npy memory maps and shards, .npz arrays (budget-checked)
    conversion.py pyarrow columns → float32 matrices (non-numeric cells, float32 overflow)
    cells.py      one-line messages for bad cells and records (pyarrow's CSV errors, with the line)
    labels.py     string labels ↔ integers
    folders.py    class-subfolder layouts: the files, their classes, a folder's columns
    images.py     image files as a lazy array, decoded as Keras decodes them
    text.py       free text → tokens (pyarrow.compute), text files
    vocabulary.py encoded input columns: vocabularies fitted on train, applied again
    encoding.py   which inputs are encoded columns, and encoding them; raw string inputs
    strings.py    raw string inputs (dtype: string, backend: tensorflow): columns as strings
    checks.py     strict checks: rows, NaN/inf, classes, input shapes
    streaming.py  in-memory arrays or a PyDataset for fit/evaluate (imports Keras)
    windows.py    the streamed epoch order (blocks, windows) and reading a window in few reads
    chunks.py     a source's inputs chunk by chunk, each checked (streamed predict)
    predicting.py streamed predict: predict each chunk, write incrementally (imports Keras)
    predictions.py the columns of a predictions table: decoded labels, probabilities

This package imports Keras only in `streaming` and `predicting`; import them
where they are needed (`from kerascli.data.streaming import fit_feeds`).
"""

from kerascli.data.arrays import DEFAULT_INPUT, Arrays, Labels, is_lazy
from kerascli.data.checks import check_classes, check_inputs
from kerascli.data.loading import load, split
from kerascli.data.vocabulary import Vocabularies

__all__ = [
    "Arrays",
    "Labels",
    "Vocabularies",
    "load",
    "split",
    "check_inputs",
    "check_classes",
    "DEFAULT_INPUT",
    "is_lazy",
]
