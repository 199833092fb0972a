"""Out-of-core training: a float32 `.npy` bigger than the memory budget, streamed through a PyDataset.

    python benchmarks/out_of_core.py --rows 8000000 --features 128 --budget 1GB

Writes x.npy (ROWS × FEATURES float32) and y.npy (10 learnable classes) to
--workdir, then trains an MLP (FEATURES-256-10) for one epoch twice, each in
its own `kerascli train` process:

1. streamed: the whole file, `data.memory_budget: BUDGET`, so it streams;
2. in memory: a 1/8 slice that fits, 8 epochs (the same number of samples
   and one compile), for the throughput baseline;
3. in memory on 2048 rows: the resident memory of the process itself.

Reports each run's peak RSS (kernel accounting of the child, mapped file
pages included) and samples/s of its `fit` phase (from run.json).
Targets: streamed peak RSS <= 1 GiB, throughput >= 0.8x in-memory.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_measured  # noqa: E402

CONFIG = """
name: {name}
seed: 1
data:
  train: {{x: {x}, y: {y}}}
  memory_budget: {budget}
model:
  layers:
    - {{type: Dense, units: 256, activation: relu}}
    - {{type: Dense, units: 10, activation: softmax}}
compile: {{optimizer: adam, loss: sparse_categorical_crossentropy}}
fit: {{epochs: {epochs}, batch_size: {batch}}}
"""


def write_data(directory: Path, rows: int, features: int, block: int = 262144) -> None:
    """x.npy and y.npy, written block by block (never whole in RAM)."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=(features, 10)).astype(np.float32)
    x = np.lib.format.open_memmap(directory / "x.npy", mode="w+", dtype=np.float32, shape=(rows, features))
    y = np.lib.format.open_memmap(directory / "y.npy", mode="w+", dtype=np.int32, shape=(rows,))
    for start in range(0, rows, block):
        values = rng.normal(size=(min(block, rows - start), features)).astype(np.float32)
        x[start : start + len(values)] = values
        y[start : start + len(values)] = (values @ w).argmax(axis=1)
        x.flush()
    del x, y


def train(
    directory: Path, name: str, x: str, y: str, budget: str, batch: int, epochs: int = 1
) -> tuple[float, float, int]:
    config = directory / f"{name}.yaml"
    config.write_text(CONFIG.format(name=name, x=x, y=y, budget=budget, batch=batch, epochs=epochs))
    seconds, rss, _ = run_measured(
        [sys.executable, "-m", "kerascli", "train", str(config), "--quiet", "--output-dir", str(directory / "runs")]
    )
    run = next((directory / "runs" / name).iterdir())
    fit_seconds = json.loads((run / "run.json").read_text())["timings"]["fit"]
    return fit_seconds, rss, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8_000_000)
    parser.add_argument("--features", type=int, default=128)
    parser.add_argument("--budget", default="1GB", help="data.memory_budget of the streamed run")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where the data goes (default: a temp dir, removed after)"
    )
    args = parser.parse_args()
    directory = args.workdir or Path(tempfile.mkdtemp(prefix="kerascli-ooc-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        write_data(directory, args.rows, args.features)
        small = args.rows // 8
        np.save(directory / "x8.npy", np.load(directory / "x.npy", mmap_mode="r")[:small])
        np.save(directory / "y8.npy", np.load(directory / "y.npy", mmap_mode="r")[:small])
        np.save(directory / "x_tiny.npy", np.load(directory / "x.npy", mmap_mode="r")[:2048])
        np.save(directory / "y_tiny.npy", np.load(directory / "y.npy", mmap_mode="r")[:2048])
        size = (directory / "x.npy").stat().st_size / 2**30
        streamed = train(directory, "streamed", "x.npy", "y.npy", args.budget, args.batch_size)
        # 8 epochs of the 1/8 slice: the same number of samples (and one compile), so the rates compare
        in_memory = train(directory, "in_memory", "x8.npy", "y8.npy", "1TB", args.batch_size, epochs=8)
        tiny = train(directory, "tiny", "x_tiny.npy", "y_tiny.npy", "1TB", args.batch_size)
        rate_s, rate_m = args.rows / streamed[0], 8 * small / in_memory[0]
        print(
            f"x.npy: {args.rows} x {args.features} float32 = {size:.2f} GiB; MLP {args.features}-256-10, batch {args.batch_size}, 1 epoch"
        )
        print(
            f"  streamed (budget {args.budget}): peak RSS {streamed[1]:7.0f} MiB, {rate_s:9.0f} samples/s (fit {streamed[0]:.1f} s)"
        )
        print(
            f"  in memory (1/8 = {small} rows, 8 epochs): peak RSS {in_memory[1]:7.0f} MiB, {rate_m:9.0f} samples/s (fit {in_memory[0]:.1f} s)"
        )
        print(f"  for scale, the same command on 2048 rows: peak RSS {tiny[1]:7.0f} MiB (Python + JAX + XLA + Keras)")
        print(
            f"  throughput ratio streamed / in-memory: {rate_s / rate_m:.3f} (target >= 0.8); streamed peak RSS <= 1024 MiB: {streamed[1] <= 1024}"
        )
    finally:
        if args.workdir is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
