"""Fuzzes kerascli with mutated configs and attacked YAML; reports how many ran, which crashed, the slowest.

    python benchmarks/fuzz.py                      # 10,000 validate, 10,000 YAML-structure, 50 train examples
    python benchmarks/fuzz.py --validate 50000 --yaml 20000 --train 200 --seed 3
    python benchmarks/fuzz.py --validate 0 --train 0 --yaml 0 --worst   # only the ≤ 1 MB worst cases

A crash is an uncaught exception, an exit code other than 0/2 (or 1 for a
diverged loss), or exit 2 without a message. Each distinct crash is printed
with the config that caused it. YAML-structure cases (`tests/fuzzing_yaml.py`:
alias bombs, deep nesting, anchors, keys, tags, odd bytes) must also each
answer `validate` within `--max-seconds` (default 1). `--worst` runs
`kerascli validate` in a fresh process on a few adversarial files of at most
1 MB and prints the wall time and peak memory of each. The exit status is 1
when any case crashed or was too slow.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="kerascli-fuzz-keras-"))

from fuzzing import check_cli, mutated_config  # noqa: E402
from fuzzing_yaml import yaml_structure  # noqa: E402
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


def run_yaml(examples: int, seed_value: int, workdir: Path, max_seconds: float) -> tuple[int, dict[str, str], list]:
    """Runs `examples` attacked YAML files through `validate`; returns (count, crashes, the slowest cases)."""
    count, crashes, times = 0, {}, []
    path = workdir / "fuzz.yaml"

    @seed(seed_value)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=yaml_structure())
    def one(data):
        nonlocal count
        count += 1
        path.write_bytes(data)
        start = time.perf_counter()
        crash = check_cli(["validate", str(path)])
        seconds = time.perf_counter() - start
        times.append((seconds, data[-160:]))  # the attack is at the end of the text
        if crash is None and seconds > max_seconds:
            crash = f"took {seconds:.2f} s, more than {max_seconds} s"
        if crash is not None:
            key = crash.strip().splitlines()[-1][:200]
            crashes.setdefault(key, f"{crash}\n--- config (first 2000 bytes) ---\n{data[:2000]!r}")

    one()
    return count, crashes, sorted(times, key=lambda t: -t[0])[:3]


def worst_cases(workdir: Path) -> dict[str, bytes]:
    """Adversarial config files of at most 1 MB."""
    body = b"model:\n  layers:\n    - {type: Dense, units: 1}\n"
    bomb = [b"a0: &a0 [" + b", ".join([b"lol"] * 9) + b"]"]
    bomb += [f"a{i}: &a{i} [".encode() + b", ".join([f"*a{i - 1}".encode()] * 9) + b"]" for i in range(1, 9)]
    flat = body + b"x: [" + b",".join([b"1"] * 330_000) + b"]\n"
    mapping = body + b"x:\n" + b"".join(f"  k{i}: v\n".encode() for i in range(90_000))
    return {
        "alias bomb (9 levels, 400 bytes)": body + b"\n".join(bomb) + b"\n",
        "1 MB flow list": flat[: 2**20 - 2] + b"]\n",
        "1 MB mapping": mapping[: 2**20],
        "1 MB deep flow": body + b"x: " + b"[" * 500_000 + b"]" * 500_000 + b"\n",
        "1 MB scalar": body + b"name: " + b"x" * (2**20 - 100) + b"\n",
        "1 MB of comments": body + b"# c\n" * (2**18 - 20),
    }


# Run in a fresh process per case: `validate` once on a small valid config (kerascli's lazy imports happen
# there), then timed on the case; prints the case's time, the warm-up's and the process' peak memory.
_MEASURE = """
import resource, sys, time
from typer.testing import CliRunner
from kerascli.cli import app
start = time.perf_counter()
CliRunner().invoke(app, ["validate", sys.argv[2]])
warm_up = time.perf_counter() - start
start = time.perf_counter()
result = CliRunner().invoke(app, ["validate", sys.argv[1]])
seconds = time.perf_counter() - start
text = (result.stderr or result.output).strip()
# VmHWM is this process' own peak (ru_maxrss keeps the forking parent's across exec).
status = open("/proc/self/status").read() if sys.platform == "linux" else ""
hwm = [int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM:")]
peak = hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(result.exit_code, f"{seconds:.3f}", peak // 1024, f"{warm_up:.3f}")
print(text.splitlines()[0][:110] if text else "", "Traceback" in text)
"""


def measure_worst(workdir: Path, max_seconds: float) -> bool:
    """`validate` in a fresh process on each worst case: its time and the peak memory; True if all answered in time."""
    ok = True
    for name, data in worst_cases(workdir).items():
        path = workdir / "worst.yaml"
        path.write_bytes(data)
        small = REPO / "configs" / "iris.yaml"
        done = subprocess.run([sys.executable, "-c", _MEASURE, str(path), str(small)], capture_output=True, text=True)
        lines = done.stdout.splitlines()
        if done.returncode != 0 or len(lines) < 2:
            print(f"  {name}: the measuring process failed: {done.stderr.strip()[-300:]}")
            ok = False
            continue
        code, seconds, peak_mb, warm_up = lines[0].split()
        first, traceback = lines[1].rsplit(" ", 1)
        good = code in ("0", "2") and traceback == "False" and float(seconds) <= max_seconds
        ok &= good
        print(
            f"  {name:<34} {len(data) / 2**20:5.2f} MB  exit {code}  {float(seconds):6.3f} s  peak RSS {peak_mb} MB"
            f"  (first validate, imports included: {float(warm_up):.2f} s)"
            f"{'' if good else '  <-- FAIL'}\n      {first}"
        )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validate", type=int, default=10_000, help="validate examples (default 10000)")
    parser.add_argument("--train", type=int, default=50, help="train --set fit.epochs=1 examples (default 50)")
    parser.add_argument("--yaml", type=int, default=10_000, help="YAML-structure validate examples (default 10000)")
    parser.add_argument("--max-seconds", type=float, default=1.0, help="longest a YAML-structure case may take")
    parser.add_argument("--worst", action="store_true", help="also time the <= 1 MB worst cases in fresh processes")
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
    if args.yaml > 0:
        start = time.perf_counter()
        count, crashes, slowest = run_yaml(args.yaml, args.seed, workdir, args.max_seconds)
        seconds = time.perf_counter() - start
        print(
            f"yaml: {count} examples in {seconds:.1f} s ({count / seconds:.0f}/s), {len(crashes)} distinct failure(s); "
            f"slowest {slowest[0][0]:.3f} s"
            if slowest
            else "yaml: no examples"
        )
        for took, data in slowest:
            print(f"  {took:.3f} s: ...{data!r}")
        for summary, detail in crashes.items():
            failed = True
            print(f"\n=== failure: {summary}\n{detail}")
    if args.worst:
        print(f"worst cases (load average {os.getloadavg()[0]:.2f}):")
        failed |= not measure_worst(workdir, args.max_seconds)
    shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
