"""CSV load: kerascli's loader against `pyarrow.csv.read_csv` alone, on the same file.

    python benchmarks/csv_load.py --rows 1000000 --cols 50

Writes a float CSV of ROWS × COLS (+ an integer label) to a temp directory,
then alternates the two readers (best of --repeat) and prints the ratio.
Target: kerascli ≤ 1.1× pyarrow's read time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv

from kerascli import config, data
from kerascli.config.spec import Source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cols", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kerascli-csv-bench-") as tmp:
        tmp = Path(tmp)
        rng = np.random.default_rng(0)
        columns = {f"f{i}": rng.normal(size=args.rows).astype(np.float32) for i in range(args.cols)}
        columns["label"] = rng.integers(0, 10, size=args.rows)
        pyarrow.csv.write_csv(pa.table(columns), tmp / "d.csv")
        (tmp / "c.yaml").write_text("data:\n  train: {path: d.csv, y: label}\n")
        doc = config.load(tmp / "c.yaml")
        size = (tmp / "d.csv").stat().st_size / 2**20
        times = {"pyarrow.csv.read_csv": [], "kerascli data.load": []}
        for _ in range(args.repeat):
            start = time.perf_counter()
            pyarrow.csv.read_csv(tmp / "d.csv")
            times["pyarrow.csv.read_csv"].append(time.perf_counter() - start)
            start = time.perf_counter()
            arrays = data.load(
                Source(path="d.csv", y="label"),
                doc,
                ("data", "train"),
                input_names=None,
                output_names=["out"],
                labels=data.Labels(),
            )
            times["kerascli data.load"].append(time.perf_counter() - start)
        assert arrays.x["input"].shape == (args.rows, args.cols)
        best = {k: min(v) for k, v in times.items()}
        print(f"CSV {args.rows} rows x {args.cols} float columns + label ({size:.0f} MiB), best of {args.repeat}:")
        for name, seconds in best.items():
            print(f"  {name:22s} {seconds:7.2f} s")
        print(
            f"  ratio kerascli / pyarrow: {best['kerascli data.load'] / best['pyarrow.csv.read_csv']:.3f} (target <= 1.1)"
        )


if __name__ == "__main__":
    main()
