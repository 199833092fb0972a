"""Fuzzes kerascli with mutated configs and reports how many ran and which crashed.

    python benchmarks/fuzz.py                      # 10,000 validate examples, 50 train examples
    python benchmarks/fuzz.py --validate 50000 --train 200 --seed 3

A crash is an uncaught exception, an exit code other than 0/2 (or 1 for a
diverged loss), or exit 2 without a message. Each distinct crash is printed
with the config that caused it; the exit status is 1 when any crashed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="kerascli-fuzz-keras-"))

from fuzzing import check_cli, mutated_config  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402


def run(command: str, examples: int, seed_value: int, workdir: Path) -> tuple[int, dict[str, str]]:
    """Runs `examples` mutants through `command`; returns (count, {crash summary: config})."""
    count, crashes = 0, {}
    path = workdir / "fuzz.yaml"

    @seed(seed_value)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(text=mutated_config())
    def one(text):
        nonlocal count
        count += 1
        path.write_text(text)
        args = (
            ["validate", str(path)]
            if command == "validate"
            else ["train", str(path), "--set", "fit.epochs=1", "--quiet", "--output-dir", str(workdir / "runs")]
        )
        crash = check_cli(args)
        if crash is not None:
            key = crash.strip().splitlines()[-1][:200]
            crashes.setdefault(key, f"{crash}\n--- config ---\n{text}")

    one()
    return count, crashes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validate", type=int, default=10_000, help="validate examples (default 10000)")
    parser.add_argument("--train", type=int, default=50, help="train --set fit.epochs=1 examples (default 50)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="kerascli-fuzz-"))
    shutil.copytree(REPO / "configs" / "data", workdir / "data")
    os.chdir(workdir)
    failed = False
    for command, examples in (("validate", args.validate), ("train", args.train)):
        if examples <= 0:
            continue
        start = time.perf_counter()
        count, crashes = run(command, examples, args.seed, workdir)
        seconds = time.perf_counter() - start
        print(
            f"{command}: {count} examples in {seconds:.1f} s ({count / seconds:.0f}/s), {len(crashes)} distinct crash(es)"
        )
        for summary, detail in crashes.items():
            failed = True
            print(f"\n=== crash: {summary}\n{detail}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
