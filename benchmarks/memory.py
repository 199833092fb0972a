"""Memory that follows the data: in-budget training and streamed predict, against a tiny run.

    python benchmarks/memory.py [--rows 1850000 --features 128]

Writes x.npy (ROWS × FEATURES float32, ~0.95 GB by default) and y.npy, then,
each in its own process (peak RSS from `measure.py`, mapped file pages
included):

1. `kerascli train` of an MLP on x.npy, within `data.memory_budget`, with a
   seeded 20% validation split (a few steps per epoch: the data, not the
   loop, is what is measured), and the same command on 2048 rows; then a
   whole epoch of x.npy streamed, with a budget of a quarter of its size;
2. `kerascli predict --input x.npy` of that run (streamed chunk by chunk), and
   the same command on the 2048-row file.

Targets: training peak − tiny ≤ 1.3 × the size of x.npy; streamed training
peak − tiny within the budget; predict peak − tiny ≤ 150 MB.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_measured  # noqa: E402
from out_of_core import write_data  # noqa: E402

CONFIG = """
name: {name}
seed: 1
data:
  train: {{x: {x}, y: {y}}}
  validation: {{split: 0.2}}
  memory_budget: {budget}
model:
  layers:
    - {{type: Dense, units: 64, activation: relu}}
    - {{type: Dense, units: 10, activation: softmax}}
compile: {{optimizer: adam, loss: sparse_categorical_crossentropy}}
fit: {{epochs: 1, batch_size: 1024{steps}}}
"""


def kerascli(*args) -> tuple[float, float]:
    seconds, rss, _ = run_measured([sys.executable, "-m", "kerascli", *map(str, args)])
    return seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_850_000)
    parser.add_argument("--features", type=int, default=128)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="kerascli-memory-"))
    try:
        write_data(directory, args.rows, args.features)
        np.save(directory / "x_tiny.npy", np.load(directory / "x.npy", mmap_mode="r")[:2048])
        np.save(directory / "y_tiny.npy", np.load(directory / "y.npy", mmap_mode="r")[:2048])
        size_mb = (directory / "x.npy").stat().st_size / 2**20
        runs = directory / "runs"
        rss = {}
        budget = int(size_mb * 2**20) // 4
        sides = (
            ("big", "x.npy", "y.npy", "64GB", ", steps_per_epoch: 20, validation_steps: 5"),
            ("tiny", "x_tiny.npy", "y_tiny.npy", "64GB", ", steps_per_epoch: 1, validation_steps: 1"),  # 2048 rows
            ("streamed", "x.npy", "y.npy", budget, ""),  # a whole epoch and its validation
        )
        for name, x, y, memory_budget, steps in sides:
            config = CONFIG.format(name=name, x=x, y=y, budget=memory_budget, steps=steps)
            (directory / f"{name}.yaml").write_text(config)
            rss[f"train_{name}"] = kerascli("train", directory / f"{name}.yaml", "--quiet", "--output-dir", runs)[1]
        for name, x in (("big", "x.npy"), ("tiny", "x_tiny.npy")):
            run = next((runs / "tiny").iterdir())
            out = directory / f"pred_{name}.npy"
            rss[f"predict_{name}"] = kerascli("predict", run, "--input", directory / x, "--output", out)[1]
        train_extra = rss["train_big"] - rss["train_tiny"]
        streamed_extra = rss["train_streamed"] - rss["train_tiny"]
        predict_extra = rss["predict_big"] - rss["predict_tiny"]
        print(f"x.npy: {args.rows} x {args.features} float32 = {size_mb:.0f} MiB")
        print(
            f"  train in budget (20% split): peak RSS {rss['train_big']:.0f} MiB, tiny run {rss['train_tiny']:.0f} MiB: "
            f"+{train_extra:.0f} MiB = {train_extra / size_mb:.2f}x the array (target <= 1.3)"
        )
        print(
            f"  train streamed (budget {budget / 2**20:.0f} MiB = 1/4 of the array, 20% split, one epoch): "
            f"peak RSS {rss['train_streamed']:.0f} MiB: +{streamed_extra:.0f} MiB over the tiny run (target: within the budget)"
        )
        print(
            f"  streamed predict: peak RSS {rss['predict_big']:.0f} MiB, tiny run {rss['predict_tiny']:.0f} MiB: "
            f"+{predict_extra:.0f} MiB (target <= 150)"
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
