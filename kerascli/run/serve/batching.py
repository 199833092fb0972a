"""Micro-batching: requests that arrive while the model is busy are predicted together.

A request's rows wait in a queue; one worker task takes every queued request
(up to `max_batch` rows), concatenates their inputs, runs the model once in a
thread of its own and hands each request its slice of the outputs. Under light
load a request is predicted at once (there is nothing to wait for); under heavy
load the batches grow toward `max_batch` while the model is busy, which is where
the throughput comes from. Batches are padded to a power of two (at most
`max_batch`), so a jitted predict function compiles once per bucket, all of them
at warm-up, never while serving.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


def buckets(max_batch: int) -> list[int]:
    """The padded batch sizes: powers of two below `max_batch`, then `max_batch`."""
    sizes, size = [], 1
    while size < max_batch:
        sizes.append(size)
        size *= 2
    return sizes + [max_batch]


def bucket_for(rows: int, sizes: list[int]) -> int:
    """The smallest bucket that holds `rows` rows."""
    return next(size for size in sizes if size >= rows)


def pad(arrays: dict[str, np.ndarray], size: int) -> dict[str, np.ndarray]:
    """Each array padded with zero rows to `size` rows."""
    out = {}
    for name, values in arrays.items():
        extra = size - len(values)
        out[name] = (
            values if extra == 0 else np.concatenate([values, np.zeros((extra, *values.shape[1:]), values.dtype)])
        )
    return out


@dataclass
class _Pending:
    inputs: dict[str, np.ndarray]
    rows: int
    future: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Collects requests into batches of at most `max_batch` rows for `predict`.

    Args:
        predict: inputs by name (`max_batch` rows at most, a bucket size) ->
            outputs by name, each with as many rows.
        max_batch: most rows in one model call.
    """

    def __init__(self, predict: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]], max_batch: int):
        self.predict = predict
        self.max_batch = max_batch
        self.sizes = buckets(max_batch)
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="kerascli-predict")
        self._task: asyncio.Task | None = None

    def warm_up(self, example: dict[str, np.ndarray]) -> None:
        """Runs every bucket size once (compiles them), before serving."""
        for size in self.sizes:
            self.predict(pad({k: v[:1] for k, v in example.items()}, size))

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="kerascli-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._executor.shutdown(wait=True)

    async def submit(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The model's outputs for `inputs` (any number of rows)."""
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(inputs, len(next(iter(inputs.values()))), future))
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            rows = batch[0].rows
            while rows < self.max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                batch.append(item)
                rows += item.rows
            try:
                outputs = await loop.run_in_executor(self._executor, self._predict_rows, [p.inputs for p in batch])
            except Exception as exc:  # noqa: BLE001 - handed to each waiting request
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                continue
            start = 0
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_result({k: v[start : start + pending.rows] for k, v in outputs.items()})
                start += pending.rows

    def _predict_rows(self, parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        joined = {
            name: np.concatenate([p[name] for p in parts]) if len(parts) > 1 else parts[0][name] for name in parts[0]
        }
        total = len(next(iter(joined.values())))
        pieces = []
        for start in range(0, total, self.max_batch):
            chunk = {k: v[start : start + self.max_batch] for k, v in joined.items()}
            n = len(next(iter(chunk.values())))
            out = self.predict(pad(chunk, bucket_for(n, self.sizes)))
            pieces.append({k: np.asarray(v)[:n] for k, v in out.items()})
        if len(pieces) == 1:
            return pieces[0]
        return {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}
