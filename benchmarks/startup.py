"""Start-up of the commands that never import Keras, against bare Python and `import typer`, in one run.

    python benchmarks/startup.py [--reps 15] [--source] [--against DIR]

Each rep runs every command once, in a rotating order so that load from
other processes falls on all of them alike; the table gives the median wall
and CPU (user + sys, from the kernel's accounting of that one child) of each,
its spread, and what it costs over `python -c pass` and over
`python -c 'import typer'` (the floor of any typer CLI). `--against DIR`
also times the same commands from another checkout (e.g. the main branch)
in the same rounds, for a before/after that shares the load. Nothing here is
a test: it prints numbers, with the load average before and after.

An installed package has its bytecode compiled (pip does it), so by default
the children write and reuse `.pyc` files in a temporary
`PYTHONPYCACHEPREFIX` (one warm-up run fills it), even where the environment
sets `PYTHONDONTWRITEBYTECODE`. `--source` measures with the environment as
it is (with `PYTHONDONTWRITEBYTECODE=1`, every kerascli module is compiled
from source on every run: tens of milliseconds more).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
TARGETS = {"--help": 0.2, "validate": 0.3}
BASELINES = ("python -c pass", "python -c 'import typer'", "a one-argument typer command")


def kerascli() -> list[str]:
    """The console script beside this Python, else `python -m kerascli`."""
    script = Path(PY).parent / "kerascli"
    return [str(script)] if script.exists() else [PY, "-m", "kerascli"]


def commands(runs_dir: Path, tree: Path, suffix: str = "") -> dict[str, tuple[list[str], Path]]:
    """What is timed, by label: each command line and the checkout it runs from."""
    cli = kerascli()
    run_a, run_b = sorted(str(p) for p in (runs_dir / "iris").iterdir())
    return {
        f"--help{suffix}": (cli + ["--help"], tree),
        f"validate{suffix}": (cli + ["validate", str(tree / "configs" / "iris.yaml")], tree),
        f"schema{suffix}": (cli + ["schema"], tree),
        f"runs{suffix}": (cli + ["runs", str(runs_dir)], tree),
        f"diff{suffix}": (cli + ["diff", run_a, run_b], tree),
    }


# The floor of any command of a typer CLI: typer coerces each argument through a pydantic TypeAdapter.
TYPER_COMMAND = """
import sys
from pathlib import Path
from typing import Annotated
import typer
app = typer.Typer(add_completion=False)
@app.command()
def check(path: Annotated[Path, typer.Argument()]) -> None:
    print(path)
sys.argv = ["check", "configs/iris.yaml"]
app()
"""


def baselines() -> dict[str, tuple[list[str], Path]]:
    """Bare Python, `import typer`, and a one-argument typer command (what validate cannot go below)."""
    return {
        "python -c pass": ([PY, "-c", "pass"], REPO),
        "python -c 'import typer'": ([PY, "-c", "import typer"], REPO),
        "a one-argument typer command": ([PY, "-c", TYPER_COMMAND], REPO),
    }


def fake_runs(base: Path) -> Path:
    """Two finished runs, as `train` leaves their JSON (what `runs` and `diff` read)."""
    for stamp, seed in (("20261201-100000", 1), ("20261201-110000", 2)):
        run = base / "iris" / stamp
        run.mkdir(parents=True)
        config = {"name": "iris", "seed": seed, "fit": {"epochs": 50, "batch_size": 16}}
        info = {"status": "completed", "config": config, "started": f"2026-12-01T1{seed}:00:00+00:00"}
        (run / "run.json").write_text(json.dumps(info))
        (run / "history.json").write_text(json.dumps({"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]}))
        (run / "metrics.json").write_text(json.dumps({"validation": {"loss": 0.6, "accuracy": 0.9}}))
    return base


def timed(command: tuple[list[str], Path], env: dict) -> tuple[float, float]:
    """Runs a command from its checkout, output discarded; returns (wall seconds, CPU seconds of that child)."""
    args, tree = command
    env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))}
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=tree)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{stderr[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def measure(cmds: dict[str, tuple[list[str], Path]], env: dict, reps: int) -> dict[str, list[tuple[float, float]]]:
    """`reps` rounds of every command, each round in a rotated order; the samples by label."""
    labels = list(cmds)
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in labels}
    for command in cmds.values():
        timed(command, env)  # warm-up: the file cache, and the bytecode cache when it is on
    for rep in range(reps):
        shift = rep % len(labels)
        for label in labels[shift:] + labels[:shift]:
            samples[label].append(timed(cmds[label], env))
    return samples


def report(samples: dict[str, list[tuple[float, float]]], suffix: str | None) -> list[str]:
    """The table (median wall and CPU, wall spread, CPU over the baselines), then before/after CPU ratios."""
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in samples.items()}
    bare, typer_command = med[BASELINES[0]][1], med[BASELINES[2]][1]
    lines = [
        "| command | wall (median) | CPU user+sys (median) | wall min–max | CPU over `python -c pass` | "
        "CPU over a one-argument typer command | target |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, (wall, cpu) in med.items():
        walls = [w for w, _ in samples[label]]
        name = label if label in BASELINES else f"kerascli {label}"
        shown = name if label == BASELINES[2] else f"`{name}`"
        target = f"≤ {TARGETS[label]:.2f} s wall" if label in TARGETS else ""  # not for the --against rows
        lines.append(
            f"| {shown} | {wall:.3f} s | {cpu:.3f} s | {min(walls):.3f}–{max(walls):.3f} | "
            f"{cpu - bare:+.3f} s | {cpu - typer_command:+.3f} s | {target} |"
        )
    if suffix:
        lines.append("")
        for label in (k for k in med if k + suffix in med):
            (wall, cpu), (wall_b, cpu_b) = med[label], med[label + suffix]
            lines.append(
                f"{label}: CPU {cpu:.3f} s vs {cpu_b:.3f} s ({cpu / cpu_b:.2f}×), "
                f"wall {wall:.3f} s vs {wall_b:.3f} s ({wall / wall_b:.2f}×)"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15, help="rounds of every command (default 15)")
    parser.add_argument("--source", action="store_true", help="no bytecode cache: the environment as it is")
    parser.add_argument("--against", type=Path, help="another checkout whose commands are timed in the same rounds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kerascli-startup-") as tmp:
        env = dict(os.environ)
        if not args.source:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        runs_dir = fake_runs(Path(tmp) / "runs")
        cmds = {**baselines(), **commands(runs_dir, REPO)}
        suffix = f" ({args.against})" if args.against else None
        if args.against:
            cmds.update(commands(runs_dir, args.against.resolve(), suffix))
        load_before = os.getloadavg()
        samples = measure(cmds, env, args.reps)
        load_after = os.getloadavg()
    print(
        f"{args.reps} reps, Python {sys.version.split()[0]}, "
        f"{'bytecode from source every run' if args.source else 'bytecode cached (as installed)'}; "
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)"
    )
    print("\n".join(report(samples, suffix)))


if __name__ == "__main__":
    main()
