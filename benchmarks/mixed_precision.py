"""Train throughput under `dtype_policy: mixed_bfloat16` vs float32, kerascli and plain Keras.

Same MLP (64 -> 512 -> 512 -> 10), 40k rows, batch 256, 3 epochs; samples/s
over epochs 2+ (the first compiles). kerascli's rows come from `run.json`;
the plain rows run `keras.config.set_dtype_policy` + `fit` in this process.
On a CPU bfloat16 is emulated and usually slower: the policy is for GPUs and
TPUs; this measures what it costs here and that kerascli adds nothing to it.
Run: python benchmarks/mixed_precision.py
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402

ROWS, FEATURES, CLASSES, BATCH, EPOCHS = 40_000, 64, 10, 256, 3
CONFIG = """\
name: mp
seed: 1
{policy}
data:
  train: {{path: data.npz, x: x, y: y}}
model:
  layers:
    - {{type: Dense, units: 512, activation: relu}}
    - {{type: Dense, units: 512, activation: relu}}
    - {{name: out, type: Dense, units: {classes}, activation: softmax}}
compile: {{optimizer: adam, loss: sparse_categorical_crossentropy, steps_per_execution: 1}}
fit: {{epochs: {epochs}, batch_size: {batch}}}
"""


class EpochClock:
    def __init__(self, keras):
        outer = self

        class _Clock(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                outer.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                outer.seconds.append(time.perf_counter() - outer.start)

        self.seconds: list[float] = []
        self.callback = _Clock()


def plain(policy: str, x, y) -> float:
    import keras

    keras.config.set_dtype_policy(policy)
    try:
        keras.utils.set_random_seed(1)
        model = keras.Sequential(
            [
                keras.Input((FEATURES,)),
                keras.layers.Dense(512, activation="relu"),
                keras.layers.Dense(512, activation="relu"),
                keras.layers.Dense(CLASSES, activation="softmax", dtype="float32"),
            ]
        )
        model.compile("adam", "sparse_categorical_crossentropy")
        clock = EpochClock(keras)
        model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, callbacks=[clock.callback])
    finally:
        keras.config.set_dtype_policy("float32")
    return ROWS * (EPOCHS - 1) / sum(clock.seconds[1:])


def ours(policy: str, folder: Path) -> float:
    from kerascli.run.train import train

    line = f"dtype_policy: {policy}" if policy != "float32" else ""
    path = folder / f"{policy}.yaml"
    path.write_text(CONFIG.format(policy=line, classes=CLASSES, epochs=EPOCHS, batch=BATCH))
    result = train(path, output_dir=str(folder / "runs"), quiet=True)
    seconds = json.loads((result.run_dir / "run.json").read_text())["profile"]["epoch_seconds"]
    return ROWS * (EPOCHS - 1) / sum(seconds[1:])


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, FEATURES)).astype("float32")
    y = rng.integers(0, CLASSES, size=ROWS).astype("int32")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        np.savez(folder / "data.npz", x=x, y=y)
        rows = []
        for policy in ("float32", "mixed_bfloat16"):
            load = os.getloadavg()[0]
            rows.append((policy, ours(policy, folder), plain(policy, x, y), load))
    print("| dtype policy | kerascli samples/s | plain Keras samples/s | kerascli / plain | load average |")
    print("| --- | --- | --- | --- | --- |")
    for policy, a, b, load in rows:
        print(f"| {policy} | {a:,.0f} | {b:,.0f} | {a / b:.2f}x | {load:.1f} |")
    print(
        f"mixed_bfloat16 / float32: kerascli {rows[1][1] / rows[0][1]:.2f}x, plain Keras {rows[1][2] / rows[0][2]:.2f}x"
    )


if __name__ == "__main__":
    main()
