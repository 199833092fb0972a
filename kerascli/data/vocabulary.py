"""Vocabularies of encoded input columns: fitted on the training rows, saved with the run, applied again.

A column in `data.categories` becomes indices the way `keras.layers.
StringLookup` makes them (index 0: a value training never saw; then the
training values by frequency); a column in `data.text` becomes token ids the
way `keras.layers.TextVectorization` makes them (0: padding, 1: unknown
token; then the tokens by frequency). Counting and lookup are pyarrow
kernels (`value_counts`, `index_in`), so a million strings take a fraction
of a second and no TensorFlow. Ties in frequency are broken by the value, so
the vocabulary is the same on every run.

The vocabularies are written to the run's `vocabularies.json`; `evaluate`
and `predict` read them and encode raw inputs identically.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from kerascli.data.text import tokenize

PAD, OOV = "", "[UNK]"


@dataclasses.dataclass
class Vocabulary:
    """One encoded column.

    Args:
        kind: `text` or `category`.
        tokens: the vocabulary, most frequent first (padding/OOV not included).
        options: the column's `TextColumn`/`CategoryColumn` options as a dict.
        sequence_length: tokens per row for text in `int` mode (the option,
            or the longest training row).
    """

    kind: str
    tokens: list[str]
    options: dict[str, Any]
    sequence_length: int | None = None

    @property
    def reserved(self) -> list[str]:
        """The indices before the first token: `["", "[UNK]"]` for text ids, `["[UNK]"]` otherwise."""
        return [PAD, OOV] if self.kind == "text" and self.options.get("output_mode", "int") == "int" else [OOV]

    @property
    def size(self) -> int:
        """How many indices there are (what `Embedding(input_dim=)` or the one-hot width is)."""
        return len(self.reserved) + len(self.tokens)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    def encode(self, values) -> np.ndarray:
        """Raw strings (or numbers) → what the model input receives.

        Returns:
            int32 `(rows, 1)` (category `int`), int32 `(rows, sequence_length)`
            (text `int`), or float32 `(rows, size)` (one-hot, multi-hot, count).
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        mode = self.options.get("output_mode", "int")
        offset = len(self.reserved)
        lookup = pa.array(self.tokens, type=pa.string())
        if self.kind == "category":
            ids = _index(_as_strings(values), lookup, offset)
            if mode == "int":
                return ids.reshape(-1, 1)
            out = np.zeros((len(ids), self.size), np.float32)
            out[np.arange(len(ids)), ids] = 1.0
            return out
        tokens = tokenize(values, self.options.get("standardize"), self.options.get("split", "whitespace"))
        flat = _index(pc.list_flatten(tokens), lookup, offset)
        lengths = np.asarray(pc.fill_null(pc.list_value_length(tokens), 0), dtype=np.int64)
        rows = np.repeat(np.arange(len(lengths)), lengths)
        if mode == "int":
            width = self.sequence_length
            position = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            keep = position < width
            out = np.zeros((len(lengths), width), np.int32)
            out[rows[keep], position[keep]] = flat[keep]
            return out
        out = np.zeros((len(lengths), self.size), np.float32)
        np.add.at(out, (rows, flat), 1.0)
        return np.minimum(out, 1.0) if mode == "multi_hot" else out


class Vocabularies(dict):
    """Vocabularies of encoded input columns by column name; saved as `vocabularies.json`."""

    def to_json(self) -> dict:
        return {name: vocab.to_json() for name, vocab in self.items()}

    @classmethod
    def from_json(cls, data: dict) -> Vocabularies:
        return cls({name: Vocabulary(**entry) for name, entry in (data or {}).items()})


def fit(values, kind: str, options: dict[str, Any]) -> Vocabulary:
    """Learns a column's vocabulary from its training rows.

    Args:
        values: the column (pyarrow or numpy).
        kind: `text` or `category`.
        options: the column's options (`max_tokens`, ...), as a dict.

    Returns:
        The `Vocabulary`.
    """
    import pyarrow.compute as pc

    lengths = None
    if kind == "text":
        tokens = tokenize(values, options.get("standardize"), options.get("split", "whitespace"))
        lengths = pc.fill_null(pc.list_value_length(tokens), 0)
        flat = pc.list_flatten(tokens)
    else:
        flat = _as_strings(values)
    counts = pc.value_counts(pc.drop_null(flat))
    names = counts.field("values").to_numpy(zero_copy_only=False).astype(str)
    order = np.lexsort((names, -counts.field("counts").to_numpy()))  # most frequent first, then by value
    vocab = Vocabulary(kind, [], dict(options))
    vocab.tokens = names[order].tolist()
    if options.get("max_tokens"):
        vocab.tokens = vocab.tokens[: max(0, options["max_tokens"] - len(vocab.reserved))]
    if kind == "text" and options.get("output_mode", "int") == "int":
        longest = int(pc.max(lengths).as_py() or 1) if len(lengths) else 1
        vocab.sequence_length = options.get("output_sequence_length") or max(1, longest)
    return vocab


def _as_strings(values):
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = pa.array(np.asarray(values, dtype=object).tolist())
    if not pa.types.is_string(values.type):
        values = pc.cast(values, pa.string())
    return values


def _index(values, lookup, offset: int) -> np.ndarray:
    """Index of each value in `lookup` plus `offset`; 1 less than `offset` (the OOV index) when absent."""
    import pyarrow.compute as pc

    found = pc.index_in(values, value_set=lookup)
    found = pc.add(found, offset)
    return np.asarray(pc.fill_null(found, offset - 1), dtype=np.int32)
