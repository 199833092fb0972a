"""The MLP 64→256→256→10 on synthetic data, written by hand in Keras.

Two modes:

- `--naive`: what a first script looks like: Keras' defaults everywhere
  (`batch_size=32`, `steps_per_execution=1`, Keras' progress bar, the data as
  NumPy made it);
- otherwise the exact settings given (`--batch-size`, `--steps-per-execution`),
  `verbose=0`: the bare training loop, the strictest baseline.

Prints one JSON line: seconds per epoch (validation excluded; there is none).

    python benchmarks/plain_mlp.py DATA.npz [--naive] [--epochs 4] [--batch-size 128] [--steps-per-execution 1]
"""

import argparse
import json
import os
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("data")
parser.add_argument("--naive", action="store_true")
parser.add_argument("--epochs", type=int, default=4)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--steps-per-execution", type=int, default=1)
args = parser.parse_args()


class EpochTimes(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


keras.utils.set_random_seed(0)
data = np.load(args.data)
x, y = data["x"], data["y"]
model = keras.Sequential(
    [
        keras.Input(shape=(x.shape[1],)),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ]
)
times = EpochTimes()
if args.naive:
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=args.epochs, callbacks=[times])
else:
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=args.steps_per_execution,
    )
    model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, callbacks=[times], verbose=0)
print(json.dumps({"epoch_seconds": times.seconds, "rows": len(x)}))
