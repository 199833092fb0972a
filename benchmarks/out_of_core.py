"""Out-of-core training: a float32 `.npy` bigger than the memory budget, streamed through a PyDataset.

    python benchmarks/out_of_core.py --rows 8000000 --features 128 --budget 1GB

Writes x.npy (ROWS × FEATURES float32) and y.npy (10 learnable classes) to
--workdir, and x8.npy/y8.npy, their first 1/8. Then, alternating the two
sides rep by rep (A B, B A, ...) so that load from other processes falls on
both:

1. End to end, each a `kerascli train` process (MLP FEATURES-256-10):
   streamed: the whole file for one epoch with `data.memory_budget: BUDGET`,
   so it streams; in memory: the same command with a budget it fits
   (`--baseline whole`, the default: the file must fit in RAM), or the 1/8
   slice for 8 epochs (`--baseline slice`: the same samples and one compile,
   but 8 epoch ends and checkpoints). Samples/s of the `fit` phase (from run.json),
   peak RSS (kernel accounting of the child, mapped file pages included), and
   the CPU seconds (user + sys) of the whole command. A run on 2048 rows
   gives the resident memory of the process itself.
2. In this process, after a warm-up: `model.fit` on kerascli's
   `MemmapBatches` over x.npy (one epoch) against plain Keras
   `model.fit(x, y, shuffle=True)` on the baseline's arrays in RAM; wall
   samples/s and CPU milliseconds per step of each.

Every figure is printed with the load average at the time. Targets:
throughput streamed / in memory >= 0.8; streamed peak RSS <= 1 GiB at the
issue's sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
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


def load() -> str:
    return "load {:.1f}/{:.1f}".format(*os.getloadavg()[:2])


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def train(directory: Path, name: str, x: str, y: str, budget: str, batch: int, epochs: int = 1) -> dict:
    """One `kerascli train` process: its fit seconds, peak RSS (MiB), CPU seconds and the load before it."""
    config = directory / f"{name}.yaml"
    config.write_text(CONFIG.format(name=name, x=x, y=y, budget=budget, batch=batch, epochs=epochs))
    shutil.rmtree(directory / "runs" / name, ignore_errors=True)
    before, cpu = load(), children_cpu()
    _, rss, _ = run_measured(
        [sys.executable, "-m", "kerascli", "train", str(config), "--quiet", "--output-dir", str(directory / "runs")]
    )
    run = next((directory / "runs" / name).iterdir())
    fit_seconds = json.loads((run / "run.json").read_text())["timings"]["fit"]
    return {"fit": fit_seconds, "rss": rss, "cpu": children_cpu() - cpu, "load": before}


def baseline(args) -> tuple[str, int]:
    """The in-memory side: (the file suffix, epochs): the whole file for one epoch, or its first 1/8 for 8."""
    return ("", 1) if args.baseline == "whole" else ("8", 8)


def end_to_end(directory: Path, args) -> None:
    suffix, epochs = baseline(args)
    rows, baseline_samples = args.rows, epochs * (args.rows // 8 if suffix else args.rows)
    ratios = []
    for rep in range(args.reps):
        sides = [
            ("streamed", "x.npy", "y.npy", args.budget, 1),
            ("in_memory", f"x{suffix}.npy", f"y{suffix}.npy", "1TB", epochs),
        ]
        results = {}
        for name, x, y, budget, side_epochs in sides if rep % 2 == 0 else sides[::-1]:
            results[name] = train(directory, name, x, y, budget, args.batch_size, side_epochs)
        streamed, in_memory = results["streamed"], results["in_memory"]
        rate_s, rate_m = rows / streamed["fit"], baseline_samples / in_memory["fit"]
        ratios.append(rate_s / rate_m)
        print(
            f"  rep {rep + 1}: streamed (budget {args.budget}) {rate_s:9.0f} samples/s, peak RSS {streamed['rss']:5.0f} MiB, "
            f"CPU {streamed['cpu']:5.1f} s ({streamed['load']}) | in memory {rate_m:9.0f} samples/s, "
            f"peak RSS {in_memory['rss']:5.0f} MiB, CPU {in_memory['cpu']:5.1f} s ({in_memory['load']}) | ratio {rate_s / rate_m:.3f}",
            flush=True,
        )
    tiny = train(directory, "tiny", "x_tiny.npy", "y_tiny.npy", "1TB", args.batch_size)
    print(f"  for scale, the same command on 2048 rows: peak RSS {tiny['rss']:5.0f} MiB (Python + JAX + XLA + Keras)")
    print(
        f"  throughput ratio streamed / in-memory, median of {len(ratios)}: {statistics.median(ratios):.3f} (target >= 0.8)"
    )


def in_process(directory: Path, args) -> None:
    """`model.fit` on kerascli's streamed dataset against plain Keras on arrays, in this one process."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    from kerascli.engine.keras_import import load_keras  # noqa: PLC0415 - Keras only for this part

    keras = load_keras()
    from pydantic import ByteSize, TypeAdapter  # noqa: PLC0415 - as the config parses data.memory_budget

    from kerascli.data.arrays import Arrays  # noqa: PLC0415
    from kerascli.data.streaming import MemmapBatches  # noqa: PLC0415

    x = np.load(directory / "x.npy", mmap_mode="r")
    y = np.load(directory / "y.npy", mmap_mode="r")
    suffix, epochs = baseline(args)
    x8, y8 = np.load(directory / f"x{suffix}.npy"), np.load(directory / f"y{suffix}.npy")
    budget, batch = int(TypeAdapter(ByteSize).validate_python(args.budget)), args.batch_size

    def model():
        keras.utils.set_random_seed(1)
        dense = keras.layers.Dense
        net = keras.Sequential(
            [keras.Input((x.shape[1],)), dense(256, activation="relu"), dense(10, activation="softmax")]
        )
        net.compile("adam", "sparse_categorical_crossentropy", steps_per_execution=args.steps_per_execution)
        net.fit(x8[: 4 * batch], y8[: 4 * batch], batch_size=batch, epochs=1, verbose=0)  # compile
        return net

    def streamed(net):
        return net.fit(
            MemmapBatches(Arrays({"x": x}, {"y": y}), batch, True, 1, budget=budget), shuffle=False, verbose=0
        )

    def arrays(net):
        return net.fit(x8, y8, batch_size=batch, epochs=epochs, shuffle=True, verbose=0)

    nets = {"streamed": model(), "in_memory": model()}
    runs = {"streamed": streamed, "in_memory": arrays}
    steps = {"streamed": -(-len(x) // batch), "in_memory": epochs * -(-len(x8) // batch)}
    samples = {"streamed": len(x), "in_memory": epochs * len(x8)}
    figures = {name: [] for name in runs}
    for rep in range(args.reps):
        for name in list(runs) if rep % 2 == 0 else list(runs)[::-1]:
            before, wall, cpu = load(), time.perf_counter(), time.process_time()
            runs[name](nets[name])
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            figures[name].append((samples[name] / wall, 1e3 * cpu / steps[name], before))
    for rep in range(args.reps):
        (rs, cs, ls), (rm, cm, lm) = figures["streamed"][rep], figures["in_memory"][rep]
        print(
            f"  rep {rep + 1}: MemmapBatches {rs:9.0f} samples/s, CPU {cs:5.2f} ms/step ({ls}) | "
            f"plain Keras arrays {rm:9.0f} samples/s, CPU {cm:5.2f} ms/step ({lm}) | ratio {rs / rm:.3f}, CPU {cm / cs:.3f}"
        )
    wall = statistics.median(s[0] / m[0] for s, m in zip(figures["streamed"], figures["in_memory"]))
    cpu = statistics.median(m[1] / s[1] for s, m in zip(figures["streamed"], figures["in_memory"]))
    print(f"  median ratio streamed / in-memory: throughput {wall:.3f}, CPU per step (in-memory / streamed) {cpu:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8_000_000)
    parser.add_argument("--features", type=int, default=128)
    parser.add_argument("--budget", default="1GB", help="data.memory_budget of the streamed run")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument(
        "--baseline",
        choices=("whole", "slice"),
        default="whole",
        help="in-memory side: the whole file (needs its size in RAM), or its first 1/8 for 8 epochs",
    )
    parser.add_argument("--reps", type=int, default=2, help="alternated repetitions of each comparison")
    parser.add_argument("--steps-per-execution", type=int, default=32, help="in-process part (kerascli's auto: 32)")
    parser.add_argument("--parts", default="train,fit", help="train (kerascli processes), fit (in this process)")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where the data goes (default: a temp dir, removed after)"
    )
    args = parser.parse_args()
    directory = args.workdir or Path(tempfile.mkdtemp(prefix="kerascli-ooc-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        shape = (args.rows, args.features)
        if not (directory / "x.npy").exists() or np.load(directory / "x.npy", mmap_mode="r").shape != shape:
            write_data(directory, args.rows, args.features)
        for name, rows in (("8", args.rows // 8), ("_tiny", 2048)):
            for which in ("x", "y"):
                np.save(directory / f"{which}{name}.npy", np.load(directory / f"{which}.npy", mmap_mode="r")[:rows])
        size = (directory / "x.npy").stat().st_size / 2**30
        print(
            f"x.npy: {args.rows} x {args.features} float32 = {size:.2f} GiB; MLP {args.features}-256-10, "
            f"batch {args.batch_size}; {os.cpu_count()} CPUs"
        )
        if "train" in args.parts:
            print("kerascli train, each its own process:")
            end_to_end(directory, args)
        if "fit" in args.parts:
            print(f"model.fit in one process (steps_per_execution {args.steps_per_execution}):")
            in_process(directory, args)
    finally:
        if args.workdir is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
