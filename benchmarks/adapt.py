"""Benchmark: adapting preprocessing on 1M rows, kerascli vs calling Keras (or the plain library) directly.

- `Normalization` on 1M rows x 8 float32 columns: kerascli's `adapt_model`
  (finds the layer, feeds it the training rows) vs `layer.adapt(array)`;
  and the chunked path kerascli takes for data it does not hold in memory (a
  memory-mapped `.npy`, read chunk by chunk, each chunk adapted as a backend
  tensor, moments merged as Keras merges batches) vs the same
  `layer.adapt(array)`, vs `layer.adapt(memmap)` (what a Keras user calls on
  the file), and vs `layer.adapt(tensor)` (the array already a backend
  tensor in RAM: Keras' fastest call). Every timing includes reading the
  adapted variance back, so JAX's asynchronous dispatch is not mistaken for
  speed.
- 1M strings of a category column (StringLookup's job): kerascli's
  vocabulary (pyarrow `value_counts` + `index_in`: fit and encode) vs
  `keras.layers.StringLookup.adapt` + call when TensorFlow is installed,
  else vs numpy (`np.unique(return_inverse=True)`, the plain-library way).

Each timing is the best of `--repeat` runs in this process.

Usage:
    .venv/bin/python benchmarks/adapt.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def normalization(rows: int, repeat: int) -> list[tuple[str, float, float]]:
    import keras
    import numpy as np

    from kerascli import config
    from kerascli.config.spec import Config
    from kerascli.data.arrays import Arrays
    from kerascli.model.adapt import adapt_model

    values = np.random.default_rng(0).normal(5, 3, size=(rows, 8)).astype(np.float32)
    tmp = Path(tempfile.mkdtemp())
    (tmp / "c.yaml").write_text("model: {layers: [{type: Normalization, name: n}]}\n")
    doc = config.load(tmp / "c.yaml")
    cfg = Config.model_validate(doc.data)
    np.save(tmp / "x.npy", values)
    mapped = np.load(tmp / "x.npy", mmap_mode="r")

    def model():
        inp = keras.Input((8,), name="input")
        return keras.Model(inp, keras.layers.Normalization(name="n")(inp))

    def direct(data):
        layer = keras.layers.Normalization()
        layer.adapt(data)
        np.asarray(layer.variance)  # the state computed (JAX dispatches asynchronously)

    def kerascli(data):
        built = model()
        adapt_model(built, cfg, doc, Arrays({"input": data}, {}))
        np.asarray(built.get_layer("n").variance)

    plain = best(lambda: direct(values), repeat)
    ours = best(lambda: kerascli(values), repeat)
    chunked = best(lambda: kerascli(mapped), repeat)
    plain_mapped = best(lambda: direct(mapped), repeat)
    tensor = best(lambda: direct(keras.ops.convert_to_tensor(values)), repeat)
    return [
        ("Normalization, 1M x 8 in memory vs adapt(array)", ours, plain),
        ("Normalization, 1M x 8 memory-mapped (chunked) vs adapt(array)", chunked, plain),
        ("Normalization, 1M x 8 memory-mapped (chunked) vs adapt(the memory map)", chunked, plain_mapped),
        ("Normalization, 1M x 8 memory-mapped (chunked) vs adapt(a backend tensor in RAM)", chunked, tensor),
    ]


def strings(rows: int, repeat: int) -> list[tuple[str, float, float]]:
    import numpy as np
    import pyarrow as pa

    from kerascli.data import vocabulary

    rng = np.random.default_rng(0)
    pool = np.array([f"value_{i}" for i in range(1000)])
    column = pa.array(pool[rng.zipf(1.3, rows) % 1000])

    def ours():
        vocab = vocabulary.fit(column, "category", {"output_mode": "int"})
        vocab.encode(column)

    if importlib.util.find_spec("tensorflow") is not None:
        import keras

        def keras_lookup():
            layer = keras.layers.StringLookup()
            layer.adapt(column.to_numpy(zero_copy_only=False))
            layer(column.to_numpy(zero_copy_only=False))

        return [
            (
                "StringLookup-equivalent, 1M strings (fit + encode) vs Keras StringLookup",
                best(ours, repeat),
                best(keras_lookup, repeat),
            )
        ]

    def numpy_lookup():
        np.unique(column.to_numpy(zero_copy_only=False).astype(str), return_inverse=True)

    return [
        (
            "StringLookup-equivalent, 1M strings (fit + encode) vs np.unique (no TensorFlow here)",
            best(ours, repeat),
            best(numpy_lookup, repeat),
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = normalization(args.rows, args.repeat) + strings(args.rows, args.repeat)
    print(f"load average {os.getloadavg()[0]:.2f}, CPU seconds of this process {sum(os.times()[:2]):.1f}")
    for name, ours, plain in results:
        print(f"{name:85s} kerascli {ours:6.3f} s  direct {plain:6.3f} s  ratio {ours / plain:5.2f}x")


if __name__ == "__main__":
    main()
