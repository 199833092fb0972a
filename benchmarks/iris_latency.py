"""Iris end to end: `kerascli train`, `evaluate` and `predict` of configs/iris.yaml against plain Keras scripts.

    python benchmarks/iris_latency.py [--reps 3]

Each command runs in its own process, whole (start-up, `import keras`, the
work, the exit), alternating with the plain Keras script that does the same
work (`benchmarks/plain_iris.py`: train 50 epochs with validation, evaluate
the saved `.keras` on iris-test.csv, predict iris-new.csv into a CSV):

- train, cache warm: a re-run of the same config (the persistent XLA cache
  holds its programs); cache cold: an empty cache directory each time.
- evaluate / predict of the run `train` wrote, cache warm (after one
  evaluate/predict filled it); the plain script loads the same `model.keras`.

For each row it prints the median wall time and CPU time (user + system of
the process and its threads) of both, the ratio of the medians, and the load
average while the row ran. CPU time is what other processes on a shared
machine disturb least; wall time is the target (Iris `train` <= 4 s warm,
`evaluate`/`predict` <= 3 s and <= 1.2x the plain script). Nothing here is a
test: it prints numbers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from measure import run_timed  # noqa: E402

PY = sys.executable
CONFIG = REPO / "configs" / "iris.yaml"


def timed(cmd: list[str], env: dict, cwd: Path) -> tuple[float, float]:
    """Runs `cmd`; returns its (wall seconds, CPU seconds); exits when it fails."""
    proc, wall, cpu = run_timed(cmd, env, cwd)
    if proc.returncode:
        raise SystemExit(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return wall, cpu


def environment(tmp: Path, cache: Path) -> dict:
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "KERASCLI_CACHE_DIR": str(cache),
        "KERAS_HOME": str(tmp / "keras-home"),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
    }
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a user's machine: bytecode is cached
    return env


def load() -> float:
    return os.getloadavg()[0]


def row(name: str, reps: int, ours, plain) -> None:
    """Runs `ours` and `plain` (each returning (wall, cpu)) `reps` times, alternating; prints the medians."""
    results = {"ours": [], "plain": []}
    loads = []
    for rep in range(reps):
        for which in ("ours", "plain") if rep % 2 == 0 else ("plain", "ours"):
            loads.append(load())
            results[which].append((ours if which == "ours" else plain)())
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in results.items()}
    (ow, oc), (pw, pc) = med["ours"], med["plain"]
    print(
        f"  {name:<28} kerascli {ow:5.2f} s wall {oc:5.2f} s CPU | plain Keras {pw:5.2f} s wall {pc:5.2f} s CPU | "
        f"{ow / pw:4.2f}x the wall time, {oc / pc:4.2f}x the CPU | load average {min(loads):.1f}-{max(loads):.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    cli = [PY, "-m", "kerascli"]
    with tempfile.TemporaryDirectory(prefix="kerascli-iris-") as name:
        tmp = Path(name)
        env = environment(tmp, tmp / "xla-warm")
        out = tmp / "runs"
        train = [*cli, "train", str(CONFIG), "--quiet", "--output-dir", str(out)]
        timed(train, env, tmp)  # fills the warm cache
        run_dir = next((out / "iris").iterdir())
        print(f"Iris (configs/iris.yaml, jax, {os.cpu_count()} cores), medians of {args.reps}")

        def cold():
            cache = Path(tempfile.mkdtemp(dir=tmp, prefix="xla-cold-"))
            try:
                return timed(train, environment(tmp, cache), tmp)
            finally:
                shutil.rmtree(cache, ignore_errors=True)

        def plain_train():
            return timed([PY, str(HERE / "plain_iris.py"), str(tmp)], env, tmp)

        row("train, cache warm", args.reps, lambda: timed(train, env, tmp), plain_train)
        row("train, cache cold", args.reps, cold, plain_train)
        model = str(run_dir / "model.keras")
        commands = {
            "evaluate": ([*cli, "evaluate", str(run_dir)], [PY, str(HERE / "plain_iris.py"), "evaluate", model]),
            "predict": (
                [*cli, "predict", str(run_dir), "--output", str(tmp / "p.csv"), "--force"],
                [PY, str(HERE / "plain_iris.py"), "predict", model, str(tmp / "plain.csv")],
            ),
        }
        for mode, (ours, plain) in commands.items():
            timed(ours, env, tmp)  # fills the cache with this command's programs
            row(f"{mode}, cache warm", args.reps, lambda c=ours: timed(c, env, tmp), lambda c=plain: timed(c, env, tmp))


if __name__ == "__main__":
    main()
