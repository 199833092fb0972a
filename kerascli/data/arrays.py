"""Containers for loaded data: inputs and targets by model input / output name, and label vocabularies.

Arrays may be lazy (`kerascli.data.lazy`: memory maps, shards, row views);
`Arrays.take` keeps them lazy, and `Arrays.origin` remembers the file the
rows come from, so that data errors name the file's own line or row.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from kerascli.data.dtypes import memory_bytes, to_float32
from kerascli.data.lazy import RowView, is_lazy, read_rows
from kerascli.data.places import Origin

DEFAULT_INPUT = "input"


@dataclasses.dataclass
class Arrays:
    """Inputs and targets keyed by model input / output name.

    Args:
        x: input arrays, one per model input, all with the same row count.
        y: target arrays, one per model output; empty when the source has none.
        origin: the file they come from (for messages), when known.
    """

    x: dict[str, Any]
    y: dict[str, Any]
    origin: Origin | None = None

    def __len__(self) -> int:
        return len(next(iter(self.x.values())))

    def take(self, rows: np.ndarray) -> Arrays:
        """The rows `rows` of every array, in that order; lazy arrays stay lazy."""
        return Arrays(
            {k: _take(v, rows) for k, v in self.x.items()},
            {k: _take(v, rows) for k, v in self.y.items()},
            self.origin.take(rows) if self.origin is not None else None,
        )

    def lazy_bytes(self) -> int:
        """RAM the lazy (memory-mapped) arrays would take if loaded."""
        return sum(memory_bytes(v) for v in (*self.x.values(), *self.y.values()) if is_lazy(v))

    def input_blocks(self, max_bytes: int, multiple: int = 1):
        """Yields the inputs by name, consecutive rows at a time, about `max_bytes` a block (float64 as float32).

        Lazy arrays (memory maps, image files) are read block by block, so a
        pass over data bigger than RAM keeps the resident memory flat.

        Args:
            max_bytes: about how many bytes one block holds.
            multiple: rows per block are a multiple of this (a batch size).
        """
        n = len(self)
        row_bytes = max(1, sum(memory_bytes(v) // max(len(v), 1) for v in self.x.values()))
        step = max(multiple, (max_bytes // row_bytes) // multiple * multiple)
        for start in range(0, n, step):
            rows = slice(start, min(start + step, n))
            yield {k: to_float32(read_rows(v, rows)) for k, v in self.x.items()}


def _take(values, rows: np.ndarray):
    if isinstance(values, RowView):
        return RowView(values.base, values.rows[rows])
    if is_lazy(values):
        return RowView(values, rows)
    return values[rows]


class Labels(dict):
    """Class vocabularies by output name: `{"species": ["setosa", ...]}`."""
