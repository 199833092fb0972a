"""Every benchmark of kerascli against plain Keras, in one run, as one table.

    python benchmarks/run_all.py [--reps 3] [--only startup,iris,mlp,defaults,predict,cnn,build,memory]

Each row runs kerascli and the hand-written Keras script beside it
(`benchmarks/plain_*.py`) on the same model, data, backend and settings,
alternating them rep by rep (A B, B A, ...) so that load from other processes
falls on both; the table gives medians, and the ratio is the median of the
per-rep ratios. Nothing here is a test: it prints numbers.

Rows:
- startup: `kerascli --help` and `kerascli validate configs/iris.yaml`, beside
  `python -c "import keras"` (what any Keras script pays before its first line);
  `benchmarks/startup.py` breaks them down against `import typer`.
- iris: `kerascli train configs/iris.yaml` (50 epochs) wall time, start-up
  included, with a cold and a warm compilation cache, vs `plain_iris.py`.
- mlp: steady-state training overhead. MLP 64→256→256→10 on 100k rows,
  batch 128, `steps_per_execution: 1`, kerascli's progress bars drawn
  (a forced terminal, sent to /dev/null) vs the bare loop (`verbose=0`);
  samples/s over epochs 2+.
- defaults: kerascli's own defaults vs the naive script (Keras defaults:
  batch 32, Keras' progress bar, float64 data as NumPy made it), and
  kerascli's defaults with its fused steps switched off
  (`KERASCLI_FUSED_STEPS=0`), the three alternating; CPU seconds are the
  whole process's.
- predict: 100k rows at batch 128 and 1024, `.npy` written, process wall
  time vs `plain_predict.py`.
- cnn: the small CNN of `cnn_pool.py` (28×28×1, batch 128): kerascli, whose
  JAX max pools take the strided-slices path, vs plain Keras on JAX, and vs
  plain Keras on TensorFlow when TensorFlow is installed.
- build, memory: `build_latency.py` (summary and model building against
  plain Keras, weight bit-identity, compile seconds of repeated commands) and
  `memory.py` (in-budget training and streamed predict against tiny runs);
  they print their own lines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from measure import run_timed  # noqa: E402

PY = sys.executable
ROWS = 100_000
ALL = ("startup", "iris", "mlp", "defaults", "predict", "cnn", "build", "memory")
# Benchmarks that print their own rows (kerascli and plain Keras side by side, in their own processes).
OWN_SCRIPTS = {"build": "build_latency.py", "memory": "memory.py"}


def kerascli() -> list[str]:
    script = Path(PY).parent / "kerascli"
    return [str(script)] if script.exists() else [PY, "-m", "kerascli"]


CPU: list[float] = []  # CPU seconds (user + system) of each `run`, in order


def run(cmd: list[str], env: dict, cwd: Path | None = None, stderr=subprocess.DEVNULL) -> tuple[float, str]:
    """Runs `cmd`; returns (wall seconds, stdout) and appends its CPU seconds to `CPU`.

    CPU time is far less sensitive than wall time to other processes
    competing for the cores, so start-up rows show both.

    Raises:
        RuntimeError: a non-zero exit.
    """
    proc, seconds, cpu = run_timed(cmd, env, cwd, stderr)
    CPU.append(cpu)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:] if proc.stderr else ''}"
        )
    return seconds, proc.stdout


def alternate(reps: int, **candidates):
    """Runs each candidate (a no-argument function returning a number) once per rep, order alternating.

    Returns:
        `{name: [value per rep]}`.
    """
    names = list(candidates)
    out = {n: [] for n in names}
    for rep in range(reps):
        for name in names if rep % 2 == 0 else names[::-1]:
            out[name].append(candidates[name]())
    return out


def ratio(a: list[float], b: list[float]) -> float:
    """The median of the per-rep ratios a/b."""
    return statistics.median(x / y for x, y in zip(a, b))


def spread(values: list[float]) -> str:
    """`min–max` of a list, to show the noise."""
    return f"{min(values):.3g}–{max(values):.3g}"


class Table:
    def __init__(self):
        self.rows: list[tuple] = []

    def add(self, name, ours, theirs, ratio_text, target, note=""):
        self.rows.append((name, ours, theirs, ratio_text, target, note))
        print(f"  {name}: kerascli {ours} | plain Keras {theirs} | {ratio_text} | target {target} {note}", flush=True)

    def markdown(self) -> str:
        lines = [
            "| benchmark | kerascli | plain Keras | ratio | target | spread (min–max) |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        lines += [f"| {' | '.join(str(c) for c in row)} |" for row in self.rows]
        return "\n".join(lines)


def base_env(tmp: Path) -> dict:
    env = dict(os.environ)
    env.update(
        KERAS_BACKEND="jax",
        KERAS_HOME=str(tmp / "keras-home"),
        KERASCLI_CACHE_DIR=str(tmp / "xla-warm"),
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    # As on a user's machine: bytecode is cached (an editable install has no
    # precompiled kerascli, and compiling it on every start costs ~0.1 s).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# -- benchmarks --------------------------------------------------------------


def bench_startup(table: Table, env: dict, tmp: Path, reps: int) -> None:
    cli = kerascli()
    config = REPO / "configs" / "iris.yaml"
    run(cli + ["--help"], env)  # warm the file cache

    def timed(cmd):
        return lambda: (run(cmd, env)[0], CPU[-1])

    both = alternate(
        max(reps, 5),
        help=timed(cli + ["--help"]),
        validate=timed(cli + ["validate", str(config)]),
        keras=timed([PY, "-c", "import keras"]),
        python=timed([PY, "-c", "pass"]),
    )
    wall = {k: [w for w, _ in v] for k, v in both.items()}
    cpu = {k: [c for _, c in v] for k, v in both.items()}
    med = {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in both}
    for name, target in (("help", "≤ 0.20 s"), ("validate", "≤ 0.30 s")):
        table.add(
            f"start-up: `kerascli {name}`, wall (CPU)",
            f"{med[name][0]:.2f} s ({med[name][1]:.2f} s)",
            f"{med['keras'][0]:.2f} s ({med['keras'][1]:.2f} s) for `import keras`",
            f"{ratio(wall[name], wall['keras']):.2f}×",
            target,
            spread(wall[name]),
        )
    print(f"  (bare `python -c pass`: {med['python'][0]:.2f} s wall, {med['python'][1]:.2f} s CPU)")


def bench_iris(table: Table, env: dict, tmp: Path, reps: int) -> None:
    cli = kerascli()
    config = REPO / "configs" / "iris.yaml"
    out = tmp / "iris-runs"
    run(cli + ["train", str(config), "--quiet", "-o", str(out)], env)  # fills the warm cache

    def cold():
        cache = tempfile.mkdtemp(dir=tmp, prefix="xla-cold-")
        seconds = run(cli + ["train", str(config), "--quiet", "-o", str(out)], {**env, "KERASCLI_CACHE_DIR": cache})[0]
        shutil.rmtree(cache, ignore_errors=True)
        return seconds

    def warm():
        return run(cli + ["train", str(config), "--quiet", "-o", str(out)], env)[0], CPU[-1]

    def plain():
        return run([PY, str(HERE / "plain_iris.py"), str(tmp)], env)[0], CPU[-1]

    def cold_both():
        seconds = cold()
        return seconds, CPU[-1]

    both = alternate(reps, warm=warm, plain=plain, cold=cold_both)
    times = {k: [w for w, _ in v] for k, v in both.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in both.items()}
    plain_s = statistics.median(times["plain"])
    for name, label in (("warm", "cache warm (a re-run)"), ("cold", "cache cold (first run)")):
        ours = statistics.median(times[name])
        table.add(
            f"Iris train, 50 epochs, wall (CPU), {label}",
            f"{ours:.2f} s ({cpu[name]:.2f} s)",
            f"{plain_s:.2f} s ({cpu['plain']:.2f} s)",
            f"{ratio(times[name], times['plain']):.2f}× time",
            "≤ 4 s and ≤ 1.15×",
            spread(times[name]),
        )


def make_mlp_data(tmp: Path) -> dict[str, Path]:
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, 64))
    y = rng.integers(0, 10, size=ROWS).astype("int64")
    paths = {"float64": tmp / "mlp64.npz", "float32": tmp / "mlp32.npz", "predict": tmp / "predict.npy"}
    np.savez(paths["float64"], x=x, y=y)
    np.savez(paths["float32"], x=x.astype("float32"), y=y.astype("int32"))
    np.save(paths["predict"], x.astype("float32"))
    return paths


def mlp_config(tmp: Path, data: Path, name: str, fit: str, compile_extra: str = "") -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(
        f"name: {name}\nseed: 0\nbackend: jax\n"
        f"data:\n  train: {{path: {data}}}\n"
        "model:\n  layers:\n"
        "    - {type: Dense, units: 256, activation: relu}\n"
        "    - {type: Dense, units: 256, activation: relu}\n"
        "    - {type: Dense, units: 10, activation: softmax}\n"
        f"compile: {{optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]{compile_extra}}}\n"
        f"fit: {fit}\n"
    )
    return path


def kerascli_samples_per_second(config: Path, env: dict, out: Path) -> float:
    """Trains with progress bars drawn to a forced terminal; samples/s of epochs 2+ from run.json."""
    _, stdout = run(kerascli() + ["train", str(config), "-o", str(out)], {**env, "FORCE_COLOR": "1", "COLUMNS": "120"})
    run_dir = Path(stdout.strip().splitlines()[-1].split("run: ", 1)[1])
    profile = json.loads((run_dir / "run.json").read_text())["profile"]
    return ROWS / statistics.median(profile["epoch_seconds"][1:])


def plain_samples_per_second(args: list[str], env: dict) -> float:
    _, stdout = run([PY, str(HERE / "plain_mlp.py")] + args, env)
    result = json.loads(stdout.strip().splitlines()[-1])
    return result["rows"] / statistics.median(result["epoch_seconds"][1:])


def bench_mlp(table: Table, env: dict, tmp: Path, reps: int, data: dict) -> None:
    config = mlp_config(tmp, data["float32"], "mlp-exact", "{epochs: 4, batch_size: 128}", ", steps_per_execution: 1")
    rates = alternate(
        reps,
        ours=lambda: kerascli_samples_per_second(config, env, tmp / "mlp-runs"),
        plain=lambda: plain_samples_per_second([str(data["float32"]), "--epochs", "4", "--batch-size", "128"], env),
    )
    table.add(
        "MLP 100k rows, batch 128, same settings, samples/s (epochs 2+)",
        f"{statistics.median(rates['ours']):,.0f}",
        f"{statistics.median(rates['plain']):,.0f}",
        f"{ratio(rates['ours'], rates['plain']):.3f}×",
        "≥ 0.98×",
        spread(rates["ours"]) + " vs " + spread(rates["plain"]),
    )


def bench_defaults(table: Table, env: dict, tmp: Path, reps: int, data: dict) -> None:
    """kerascli's defaults, with and without its fused steps, against the naive script; all alternating."""
    config = mlp_config(tmp, data["float64"], "mlp-defaults", "{epochs: 3}")
    out = tmp / "mlp-runs"

    def with_cpu(measure):
        return lambda: (measure(), CPU[-1])  # CPU: the whole process (start-up and compiles included)

    both = alternate(
        reps,
        ours=with_cpu(lambda: kerascli_samples_per_second(config, env, out)),
        plain=with_cpu(lambda: plain_samples_per_second([str(data["float64"]), "--naive", "--epochs", "3"], env)),
        unfused=with_cpu(lambda: kerascli_samples_per_second(config, {**env, "KERASCLI_FUSED_STEPS": "0"}, out)),
    )
    rates = {k: [r for r, _ in v] for k, v in both.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in both.items()}
    plain_cell = f"{statistics.median(rates['plain']):,.0f} (naive script; {cpu['plain']:.1f} s CPU)"
    for name, label in (("ours", ""), ("unfused", ", fused steps off (`KERASCLI_FUSED_STEPS=0`)")):
        table.add(
            f"MLP 100k rows, each with its defaults (batch 32){label}, samples/s (epochs 2+; process CPU)",
            f"{statistics.median(rates[name]):,.0f} ({cpu[name]:.1f} s CPU)",
            plain_cell,
            f"{ratio(rates[name], rates['plain']):.2f}× (per rep "
            + ", ".join(f"{a / b:.2f}" for a, b in zip(rates[name], rates["plain"]))
            + ")",
            "≥ 1.3×",
            spread_k(rates[name]) + " vs " + spread_k(rates["plain"]),
        )


def spread_k(values: list[float]) -> str:
    """`min–max` of samples/s, in thousands."""
    return f"{min(values) / 1000:.1f}k–{max(values) / 1000:.1f}k"


def bench_predict(table: Table, env: dict, tmp: Path, reps: int, data: dict) -> None:
    config = mlp_config(tmp, data["float32"], "mlp-predict", "{epochs: 1, batch_size: 1024}")
    _, stdout = run(kerascli() + ["train", str(config), "--quiet", "-o", str(tmp / "predict-runs")], env)
    run_dir = stdout.strip().splitlines()[-1].split("run: ", 1)[1]
    for batch in (128, 1024):
        times = alternate(
            reps,
            ours=lambda batch=batch: run(
                kerascli()
                + [
                    "predict",
                    run_dir,
                    "--input",
                    str(data["predict"]),
                    "--output",
                    str(tmp / "ours.npy"),
                    "--batch-size",
                    str(batch),
                ],
                env,
            )[0],
            plain=lambda batch=batch: run(
                [
                    PY,
                    str(HERE / "plain_predict.py"),
                    f"{run_dir}/model.keras",
                    str(data["predict"]),
                    str(tmp / "plain.npy"),
                    str(batch),
                ],
                env,
            )[0],
        )
        table.add(
            f"predict 100k rows, batch {batch}, .npy written, wall",
            f"{statistics.median(times['ours']):.2f} s",
            f"{statistics.median(times['plain']):.2f} s",
            f"{ratio(times['plain'], times['ours']):.2f}× speed",
            "≥ 0.95×",
            spread(times["ours"]) + " vs " + spread(times["plain"]),
        )


def bench_cnn(table: Table, env: dict, tmp: Path, reps: int) -> None:
    """The small CNN of `cnn_pool.py`: kerascli (fast pool) vs plain Keras on JAX, and vs TensorFlow."""
    import importlib.util

    import numpy as np

    samples, epochs = 6400, 4
    rng = np.random.default_rng(0)  # the same arrays `cnn_pool.py --worker` makes
    x = rng.random((samples, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, size=(samples,))
    np.savez(tmp / "cnn.npz", x=x, y=y)
    config = tmp / "cnn.yaml"
    config.write_text(
        f"name: cnn\nseed: 0\nbackend: jax\ndata:\n  train: {{path: {tmp / 'cnn.npz'}}}\n"
        "model:\n  layers:\n"
        "    - {type: Conv2D, filters: 32, kernel_size: 3, activation: relu}\n"
        "    - {type: MaxPooling2D, pool_size: 2}\n"
        "    - {type: Conv2D, filters: 64, kernel_size: 3, activation: relu}\n"
        "    - {type: MaxPooling2D, pool_size: 2}\n"
        "    - {type: Flatten}\n"
        "    - {type: Dense, units: 10, activation: softmax}\n"
        "compile: {optimizer: adam, loss: sparse_categorical_crossentropy, steps_per_execution: 1}\n"
        f"fit: {{epochs: {epochs}, batch_size: 128}}\n"
    )

    def ours():
        _, stdout = run(kerascli() + ["train", str(config), "--quiet", "-o", str(tmp / "cnn-runs")], env)
        run_dir = Path(stdout.strip().splitlines()[-1].split("run: ", 1)[1])
        return samples / statistics.median(
            json.loads((run_dir / "run.json").read_text())["profile"]["epoch_seconds"][1:]
        )

    def plain(backend):
        def measure():
            _, stdout = run(
                [PY, str(HERE / "cnn_pool.py"), "--worker", "--epochs", str(epochs), "--samples", str(samples)],
                {**env, "KERAS_BACKEND": backend},
            )
            line = next(row for row in stdout.splitlines() if row.startswith("RESULT "))
            times = json.loads(line[len("RESULT ") :])["epoch_s"][1:]
            return samples / statistics.median(times)

        return measure

    candidates = {"ours": ours, "jax": plain("jax")}
    has_tf = importlib.util.find_spec("tensorflow") is not None
    if has_tf:
        candidates["tf"] = plain("tensorflow")
    rates = alternate(reps, **candidates)
    table.add(
        "small CNN 28×28×1, batch 128, JAX, samples/s (epochs 2+)",
        f"{statistics.median(rates['ours']):,.0f} (fast pool)",
        f"{statistics.median(rates['jax']):,.0f}",
        f"{ratio(rates['ours'], rates['jax']):.2f}×",
        "faster",
        spread(rates["ours"]) + " vs " + spread(rates["jax"]),
    )
    if has_tf:
        table.add(
            "small CNN, kerascli on JAX vs plain Keras on TensorFlow",
            f"{statistics.median(rates['ours']):,.0f}",
            f"{statistics.median(rates['tf']):,.0f} (TF)",
            f"{ratio(rates['ours'], rates['tf']):.2f}×",
            "≥ 0.8× (within 1.25×)",
            spread(rates["ours"]) + " vs " + spread(rates["tf"]),
        )
    else:
        print("  (TensorFlow not installed: no TF row)")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import importlib.metadata as md

    versions = ", ".join(f"{p} {md.version(p)}" for p in ("keras", "jax", "jaxlib", "numpy") if _installed(p))
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {versions}"


def _installed(package: str) -> bool:
    import importlib.metadata as md

    try:
        md.version(package)
        return True
    except md.PackageNotFoundError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each pair (alternating order)")
    parser.add_argument("--only", default=",".join(ALL), help=f"comma-separated subset of: {', '.join(ALL)}")
    args = parser.parse_args()
    chosen = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(chosen) - set(ALL)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    table = Table()
    started = time.time()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="kerascli-bench-") as name:
        tmp = Path(name)
        env = base_env(tmp)
        data = make_mlp_data(tmp) if {"mlp", "defaults", "predict"} & set(chosen) else {}
        for bench in chosen:
            print(f"[{bench}]", flush=True)
            if bench == "startup":
                bench_startup(table, env, tmp, args.reps)
            elif bench == "iris":
                bench_iris(table, env, tmp, args.reps)
            elif bench == "mlp":
                bench_mlp(table, env, tmp, args.reps, data)
            elif bench == "defaults":
                bench_defaults(table, env, tmp, args.reps, data)
            elif bench == "predict":
                bench_predict(table, env, tmp, args.reps, data)
            elif bench == "cnn":
                bench_cnn(table, env, tmp, min(args.reps, 2))  # ~2 min per run on a busy 2-core machine
            elif bench in OWN_SCRIPTS:
                subprocess.run([PY, str(HERE / OWN_SCRIPTS[bench])], env=env, check=True)
    print()
    print(f"Machine: {machine()}")
    print(
        f"Load average before/after: {load_before[0]:.1f} / {os.getloadavg()[0]:.1f}; "
        f"{args.reps} alternating reps; {time.time() - started:.0f} s in all"
    )
    print()
    print(table.markdown())


if __name__ == "__main__":
    main()
