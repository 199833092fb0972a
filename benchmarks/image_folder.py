"""Benchmark: training on a folder of images, kerascli vs plain Keras, and peak memory when streamed.

Makes a folder of `--images` RGB PNGs (`--size`, default 32x32; 4 classes, class subfolders)
in a temporary directory and trains the same small CNN on it for
`--epochs` epochs, batch 64:

- plain Keras: `keras.utils.image_dataset_from_directory(format="grain")`
  + `model.fit` (needs the `grain` package on JAX without TensorFlow);
- kerascli: `kerascli train` on a config naming the folder (decoded once
  into RAM: the folder fits `data.memory_budget`);
- kerascli streamed: the same with `data.memory_budget` a quarter of the
  decoded folder, so it is decoded batch by batch in reader threads.

Each run is its own subprocess. Reported: steady-state samples/s (epochs
after the first, which compiles), whole-run seconds, and each process' peak
RSS (`ru_maxrss`), beside the decoded folder's size.

Usage:
    .venv/bin/python benchmarks/image_folder.py [--images 4000] [--epochs 3] [--size 32]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CLASSES = ("a", "b", "c", "d")
SIZE = 32  # --size
BATCH = 64


def make_folder(root: Path, images: int) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for k, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for i in range(images // len(CLASSES)):
            pixels = rng.normal(40 + 40 * k, 30, size=(SIZE, SIZE, 3)).clip(0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i:05d}.png")


def keras_layers(keras):
    return [
        keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(len(CLASSES), activation="softmax"),
    ]


CONFIG = """
seed: 0
data:
  train: {{path: {folder}, image_size: [{size}, {size}]}}
  memory_budget: {budget}
model:
  layers:
    - {{type: Rescaling, scale: 0.00392156862745098}}
    - {{type: Conv2D, filters: 16, kernel_size: 3, activation: relu}}
    - {{type: MaxPooling2D, pool_size: 2}}
    - {{type: Conv2D, filters: 32, kernel_size: 3, activation: relu}}
    - {{type: GlobalAveragePooling2D}}
    - {{type: Dense, units: 4, activation: softmax}}
compile: {{optimizer: adam, loss: sparse_categorical_crossentropy}}
fit: {{epochs: {epochs}, batch_size: 64}}
"""


def plain(args) -> dict:
    import keras

    class Epochs(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    seconds: list[float] = []
    start = time.perf_counter()
    keras.utils.set_random_seed(0)
    ds = keras.utils.image_dataset_from_directory(
        args.folder, image_size=(SIZE, SIZE), batch_size=BATCH, seed=0, format="grain", verbose=False
    )
    model = keras.Sequential([keras.Input((SIZE, SIZE, 3)), *keras_layers(keras)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(ds, epochs=args.epochs, verbose=0, callbacks=[Epochs()])
    return {"epoch_seconds": seconds, "total": time.perf_counter() - start}


def kerascli(args) -> dict:
    sys.path.insert(0, str(REPO_ROOT))
    from kerascli.run.train import train

    config = Path(args.workdir) / f"bench-{args.budget}.yaml"
    config.write_text(CONFIG.format(folder=args.folder, budget=args.budget, epochs=args.epochs, size=SIZE))
    start = time.perf_counter()
    result = train(config, output_dir=str(Path(args.workdir) / "runs"), quiet=True)
    return {"epoch_seconds": result.profile["epoch_seconds"], "total": time.perf_counter() - start}


def run(kind: str, folder: Path, workdir: Path, epochs: int, budget: int = 2**40) -> dict:
    command = [
        sys.executable,
        __file__,
        "--worker",
        kind,
        "--folder",
        str(folder),
        "--workdir",
        str(workdir),
        "--epochs",
        str(epochs),
        "--budget",
        str(budget),
        "--size",
        str(SIZE),
    ]
    out = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": "jax"})
    if out.returncode != 0:
        raise SystemExit(f"{kind} run failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--size", type=int, default=32, help="image height and width")
    parser.add_argument("--runs", default="plain,ram,streamed", help="which of plain, ram, streamed to run")
    parser.add_argument("--worker")
    parser.add_argument("--folder")
    parser.add_argument("--workdir")
    parser.add_argument("--budget", type=int, default=2**40)
    args = parser.parse_args()
    global SIZE
    SIZE = args.size
    if args.worker:
        result = plain(args) if args.worker == "plain" else kerascli(args)
        result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # this process only
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder, workdir = Path(tmp) / "images", Path(tmp)
        make_folder(folder, args.images)
        decoded = args.images * SIZE * SIZE * 3 * 4
        rows, runs = {}, args.runs.split(",")
        try:
            if "plain" not in runs:
                raise ImportError("not asked for (--runs)")
            import grain  # noqa: F401

            rows["plain Keras (grain)"] = run("plain", folder, workdir, args.epochs)
        except (ImportError, subprocess.CalledProcessError) as exc:
            print(f"plain Keras baseline skipped: {getattr(exc, 'stderr', exc)}"[:300])
        if "ram" in runs:
            rows["kerascli (in RAM)"] = run("kerascli", folder, workdir, args.epochs)
        if "streamed" in runs:
            rows["kerascli (streamed, budget = 1/4)"] = run(
                "kerascli", folder, workdir, args.epochs, budget=decoded // 4
            )
    images = args.images - args.images % len(CLASSES)
    print(
        f"{images} PNG files {SIZE}x{SIZE}x3, decoded {decoded / 2**20:.1f} MiB; {args.epochs} epochs, batch {BATCH}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    base = rows.get("plain Keras (grain)")
    for name, row in rows.items():
        steady = row["epoch_seconds"][1:] or row["epoch_seconds"]
        rate = images / (sum(steady) / len(steady))
        ratio = (
            f"  {rate / (images / (sum(base['epoch_seconds'][1:]) / len(base['epoch_seconds'][1:]))):.2f}x"
            if base
            else ""
        )
        print(
            f"{name:36s} {rate:8.0f} samples/s{ratio}  total {row['total']:6.1f} s  peak RSS {row['peak_rss_mib']:7.0f} MiB"
        )


if __name__ == "__main__":
    main()
