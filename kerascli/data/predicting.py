"""Streamed predict: read the input in chunks, predict each, append the predictions to the file.

Peak memory does not grow with the number of rows: the input is read chunk
by chunk (`kerascli.data.chunks`), each a whole number of batches, so the
predictions equal those of one `model.predict` over all rows. A reader
thread reads and checks the next chunk while the model predicts this one.
Predictions are appended to a temporary file beside the target (CSV or
Parquet through pyarrow's writers, `.npy` written sequentially with its header
fixed at the end), which is renamed over the target once complete: a failure
leaves no partial file. An `.npz` input is loaded whole (it is compressed and
cannot be memory-mapped).

Imports Keras (through the model it is given): load it after the backend is chosen.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Iterator

from kerascli.config.document import Document, Key
from kerascli.config.spec.data import Source
from kerascli.data.chunks import Chunk, read_chunks
from kerascli.data.strings import model_string_inputs, to_keras
from kerascli.data.writing import PredictionWriter
from kerascli.engine.tensors import tensor_name


def predict_to_file(
    model,
    source: Source,
    doc: Document,
    key: Key,
    *,
    target: Path,
    batch_size: int,
    output_names: list[str],
    labels: dict,
    kinds: dict,
    encodings: dict | None = None,
    vocabularies=None,
    target_names: dict | None = None,
) -> int:
    """Predicts on `source` chunk by chunk and writes the predictions to `target`.

    Args:
        model: the trained Keras model.
        source: the data to predict on (targets, if any, are ignored).
        doc: the config document (paths, error locations).
        key: where the source is in the config.
        target: the predictions file: `.csv`, `.parquet` or `.npy`.
        batch_size: rows per `predict` batch.
        output_names: the model's output names, in `model.outputs` order.
        labels: class vocabularies by output name (decoded in CSV/Parquet).
        kinds: output name -> "categorical", "binary" or None.
        encodings: `data.text` and `data.categories` together, by column.
        vocabularies: the run's input `Vocabularies` (encoded columns).
        target_names: the training targets' column names by output (headers).

    Returns:
        The number of rows predicted.

    Raises:
        DataError: unreadable data, unknown columns, non-numeric or NaN values,
            inputs whose shape does not match `model.inputs`.
        UsageError: an unsupported output file type.
    """
    writer = PredictionWriter(target, labels, kinds, target_names)
    input_names = [tensor_name(t) for t in model.inputs]
    rows = 0
    encoded = {"encodings": encodings or {}, "vocabularies": vocabularies, "string_inputs": model_string_inputs(model)}
    with writer:
        # The next chunk is read and checked (pyarrow and numpy, mostly outside the GIL) while this one is predicted.
        for x in _prefetch(read_chunks(source, doc, key, input_names, output_names, batch_size, model, **encoded)):
            feed = to_keras(dict(x) if len(x) > 1 else next(iter(x.values())))  # raw strings as string tensors
            raw = model.predict(feed, batch_size=batch_size, verbose=0)
            writer.write(
                raw
                if isinstance(raw, dict)
                else dict(zip(output_names, raw if isinstance(raw, (list, tuple)) else [raw])),
                keep=getattr(x, "keep", None),
            )
            rows += len(next(iter(x.values())))
            if isinstance(x, Chunk):
                x.release()
    return rows


def _prefetch(chunks: Iterator, depth: int = 1) -> Iterator:
    """Runs `chunks` in a thread, `depth` items ahead; re-raises its errors here."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce():
        try:
            for item in chunks:
                while not stop.is_set():
                    try:
                        items.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            items.put(exc)

    thread = threading.Thread(target=produce, daemon=True, name="kerascli-predict-reader")
    thread.start()
    try:
        while True:
            item = items.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
