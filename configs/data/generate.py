"""Regenerates the small synthetic data sets in this folder (seeded, deterministic).

No real data set fits the Keras workflow note's binary example, so
`binary.csv` / `binary-new.csv` are made here: 4 features drawn from N(0, 1)
and a 0/1 target from a noisy linear rule. Run: python configs/data/generate.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def binary(rows: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4)).round(4)
    score = x @ np.array([1.5, -1.0, 0.5, 0.0]) + rng.normal(scale=0.3, size=rows)
    return x, (score > 0).astype(int)


def write_csv(path: Path, header: list[str], rows) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    x, y = binary()
    names = ["f1", "f2", "f3", "f4"]
    write_csv(HERE / "binary.csv", names + ["target"], [list(r) + [t] for r, t in zip(x.tolist(), y.tolist())])
    new_x, _ = binary(rows=20, seed=1)
    write_csv(HERE / "binary-new.csv", names, new_x.tolist())


if __name__ == "__main__":
    main()
