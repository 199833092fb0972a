"""Free text → tokens with `pyarrow.compute`, as `keras.layers.TextVectorization` standardises and splits.

`TextVectorization` needs TensorFlow (its ops are `tf.strings`), so the
default install does the same steps in the data layer, vectorised in Arrow:
lower-case, strip the punctuation Keras strips, split on whitespace (or into
characters). `kerascli.data.vocabulary` maps the tokens to indices. Text
folders (`text_dataset_from_directory`'s layout) are read here too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# keras.layers.TextVectorization's DEFAULT_STRIP_REGEX (keras/src/layers/preprocessing/text_vectorization.py).
STRIP_REGEX = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'


def tokenize(values, standardize: str | None, split: str):
    """Standardises and splits strings into tokens.

    Args:
        values: the strings: a pyarrow array or chunked array, or a numpy array.
        standardize: `lower_and_strip_punctuation`, `lower`,
            `strip_punctuation`, or None.
        split: `whitespace` or `character`.

    Returns:
        A pyarrow list array: one list of tokens per row (null rows give none).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = pa.array(np.asarray(values, dtype=object).tolist(), type=pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    values = pc.fill_null(values, "")
    if standardize in ("lower", "lower_and_strip_punctuation"):
        values = pc.utf8_lower(values)
    if standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
        values = pc.replace_substring_regex(values, pattern=STRIP_REGEX, replacement="")
    if split == "character":
        return _characters(values)
    return pc.utf8_split_whitespace(values)


def _characters(values):
    """Each string as a list of its characters (what `split="character"` gives)."""
    import pyarrow as pa

    rows = [list(text) for text in values.to_pylist()]
    return pa.array(rows, type=pa.list_(pa.string()))


def read_texts(root: Path, files: list[str], fail) -> np.ndarray:
    """The contents of text files (UTF-8), as a numpy array of str.

    Raises:
        DataError (through `fail`): a file that cannot be read or is not UTF-8.
    """
    texts = []
    for name in files:
        try:
            texts.append((root / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read text file {name} of {root}: {exc}")
    return np.asarray(texts, dtype=object)
