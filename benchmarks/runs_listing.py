"""`kerascli runs` and the data fingerprint against the plain library work they are made of.

    python benchmarks/runs_listing.py --runs 200 --megabytes 256

- runs: reading N run directories as `kerascli runs` does (`run.json`,
  `history.json`, `metrics.json`, varied keys) against a bare loop of
  `json.loads` over the same files. Target: ≤ 0.5 s for 200 runs.
- fingerprint: `fingerprint.file_digest` on a file of M MiB against
  `hashlib.file_digest(f, "sha256")` (Python 3.11+) on the same file.

Both alternate A and B (best of --repeat) so that load from other processes
falls on both. Nothing here is a test: it prints numbers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import tempfile
import time
from pathlib import Path

import yaml

from kerascli.run import runs_table
from kerascli.run.fingerprint import file_digest


def make_runs(base: Path, count: int) -> None:
    """`count` run directories shaped like `train` leaves them (50 epochs, four metrics)."""
    config = yaml.safe_load((Path(__file__).resolve().parent.parent / "configs" / "iris.yaml").read_text())
    for i in range(count):
        run = base / f"exp{i % 5}" / f"20261201-{i // 3600:02d}{i // 60 % 60:02d}{i % 60:02d}"
        run.mkdir(parents=True)
        config["compile"]["optimizer"]["learning_rate"] = 10.0 ** -(i % 4)
        (run / "run.json").write_text(
            json.dumps({"status": "completed", "epochs": 50, "config": config, "timings": {"total": 3.2}}, indent=2)
        )
        history = {k: [random.random() for _ in range(50)] for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
        (run / "history.json").write_text(json.dumps(history, indent=2))
        (run / "metrics.json").write_text(json.dumps({"validation": {"loss": 0.5, "accuracy": 0.9}}))


def plain_json(base: Path) -> int:
    count = 0
    for run in sorted(base.glob("*/*")):
        for name in ("run.json", "history.json", "metrics.json"):
            json.loads((run / name).read_text())
        count += 1
    return count


def kerascli_runs(base: Path) -> int:
    records = runs_table.read_runs(base)
    runs_table.varied_keys(records)
    return len(records)


def best(function, *args, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--megabytes", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="kerascli-runs-bench-") as tmp:
        base = Path(tmp) / "runs"
        make_runs(base, args.runs)
        plain = best(plain_json, base, repeat=args.repeat)
        ours = best(kerascli_runs, base, repeat=args.repeat)
        print(f"runs ({args.runs}): json.loads {plain:.3f} s, kerascli {ours:.3f} s, ratio {ours / plain:.2f}x")
        data = Path(tmp) / "data.bin"
        data.write_bytes(os.urandom(args.megabytes << 20))
        with open(data, "rb") as handle:
            plain = best(
                lambda: hashlib.file_digest(handle, "sha256") if not handle.seek(0) else None, repeat=args.repeat
            )
        ours = best(file_digest, data, repeat=args.repeat)
        rate = args.megabytes / ours
        print(
            f"sha256 ({args.megabytes} MiB): hashlib.file_digest {plain:.3f} s, kerascli {ours:.3f} s "
            f"({rate:.0f} MiB/s), ratio {ours / plain:.2f}x"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
