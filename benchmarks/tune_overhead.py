"""Benchmark: `kerascli tune` against a plain Optuna script, and `--jobs 1` against `--jobs 2`.

1. Overhead per trial. The same random search on Iris (learning rate
   log-uniform in [1e-3, 1e-1], first layer 8 or 16 units; Dense-relu →
   Dense-softmax, Adam, batch 16, `--epochs` epochs, the seeded 30%
   validation split) runs as
   - a plain Optuna script: data read once, each trial builds, compiles and
     fits the Keras model and returns its validation loss (in-memory storage);
     once as written, once with JAX's persistent compilation cache on, set as
     kerascli sets it (so both skip the same compiles: the difference is
     kerascli's own work);
   - `kerascli tune` in one process: each trial is a whole `kerascli train`
     (validation, data, build, fit with kerascli's callbacks, the run
     directory with `model.keras`), the study in SQLite.
   Each runs in its own subprocess with a fresh cache directory. Per-trial time is Optuna's trial duration
   (start → complete); the first `--warmup` trials (imports and first
   compiles) are left out, and the median of the rest is compared.
2. Parallel trials: the wall time of the 6-trial study of
   configs/iris_tune.yaml with `--jobs 1` and with `--jobs 2` (a fresh study
   each, the command run as a user would).

Usage:
    .venv/bin/python benchmarks/tune_overhead.py [--trials 12] [--warmup 3] [--epochs 10] [--skip-jobs]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, "configs", "data", "iris.csv")
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
CONFIG = f"""\
name: iris
seed: 42
data:
  train: {{path: {DATA}, x: [{", ".join(FEATURES)}], y: species}}
  validation: {{split: 0.3}}
model:
  layers:
    - {{type: Dense, units: 16, activation: relu}}
    - {{type: Dense, units: 3, activation: softmax}}
compile:
  optimizer: {{type: Adam, learning_rate: 0.01}}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
fit: {{epochs: EPOCHS, batch_size: 16}}
tune:
  space:
    compile.optimizer.learning_rate: {{loguniform: [1.0e-3, 1.0e-1]}}
    model.layers[0].units: {{choice: [8, 16]}}
  sampler: random
  pruner: none
"""


MODES = ("plain", "plain+cache", "kerascli")


def durations(study) -> list[float]:
    return [(t.datetime_complete - t.datetime_start).total_seconds() for t in study.trials]


def plain(args, cache: bool = False) -> dict:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras
    import numpy as np
    import optuna
    import pyarrow.csv

    if cache:
        import jax

        jax.config.update("jax_compilation_cache_dir", tempfile.mkdtemp(prefix="plain-xla-cache-"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.05)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    table = pyarrow.csv.read_csv(DATA)
    x = np.stack([table.column(c).to_numpy() for c in FEATURES], axis=1).astype("float32")
    species = table.column("species").to_numpy(zero_copy_only=False).astype(str)
    classes = sorted(set(species))
    y = np.array([classes.index(s) for s in species], dtype="int32")
    order = np.random.default_rng(42).permutation(len(x))
    n_val = int(0.3 * len(x))
    x_val, y_val, x_train, y_train = x[order[:n_val]], y[order[:n_val]], x[order[n_val:]], y[order[n_val:]]

    def objective(trial):
        learning_rate = trial.suggest_float("compile.optimizer.learning_rate", 1e-3, 1e-1, log=True)
        units = trial.suggest_categorical("model.layers[0].units", [8, 16])
        keras.utils.set_random_seed(42)
        model = keras.Sequential(
            [
                keras.Input(shape=(4,)),
                keras.layers.Dense(units, activation="relu"),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        history = model.fit(
            x_train, y_train, epochs=args.epochs, batch_size=16, validation_data=(x_val, y_val), verbose=0
        )
        return history.history["val_loss"][-1]

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=42))
    start = time.perf_counter()
    study.optimize(objective, n_trials=args.trials)
    return {"durations": durations(study), "wall": time.perf_counter() - start}


def kerascli(args) -> dict:
    sys.path.insert(0, REPO)
    import optuna

    from kerascli.run.tune import Request, tune
    from kerascli.run.tune.study import open_storage

    folder = tempfile.mkdtemp(prefix="kerascli-tune-bench-")
    config = os.path.join(folder, "iris.yaml")
    with open(config, "w") as handle:
        handle.write(CONFIG.replace("EPOCHS", str(args.epochs)))
    start = time.perf_counter()
    outcome = tune(Request(config=config, options={"trials": args.trials}, output_dir=os.path.join(folder, "runs")))
    wall = time.perf_counter() - start
    study = optuna.load_study(study_name=outcome.plan.study, storage=open_storage(outcome.plan.storage))
    return {"durations": durations(study), "wall": wall}


def run_worker(mode: str, args) -> dict:
    command = [sys.executable, __file__, "--worker", mode, "--trials", str(args.trials), "--epochs", str(args.epochs)]
    env = dict(os.environ, KERASCLI_CACHE_DIR=tempfile.mkdtemp(prefix="kerascli-xla-cache-"))
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def jobs_wall(jobs: int) -> float:
    folder = tempfile.mkdtemp(prefix="kerascli-tune-jobs-")
    command = [
        sys.executable,
        "-m",
        "kerascli",
        "tune",
        os.path.join(REPO, "configs", "iris_tune.yaml"),
        "--trials",
        "6",
        "--jobs",
        str(jobs),
        "--quiet",
        "--output-dir",
        os.path.join(folder, "runs"),
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=REPO)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--skip-jobs", action="store_true")
    parser.add_argument("--worker", choices=MODES)
    args = parser.parse_args()
    if args.worker:
        work = {"plain": plain, "plain+cache": lambda a: plain(a, cache=True), "kerascli": kerascli}[args.worker]
        print(json.dumps(work(args)))
        return
    results = {mode: run_worker(mode, args) for mode in MODES}
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    medians = {}
    for mode, result in results.items():
        warm = result["durations"][args.warmup :]
        medians[mode] = statistics.median(warm)
        print(
            f"{mode:12s} {args.trials} trials, {args.epochs} epochs: median warm trial {medians[mode] * 1000:.0f} ms "
            f"(first {result['durations'][0]:.2f} s), wall {result['wall']:.1f} s"
        )
    for base in ("plain", "plain+cache"):
        print(
            f"per warm trial: kerascli / {base} = {medians['kerascli'] / medians[base]:.2f}x "
            f"(load average {os.getloadavg()[0]:.2f})"
        )
    if not args.skip_jobs:
        one, two = jobs_wall(1), jobs_wall(2)
        print(
            f"configs/iris_tune.yaml, 6 trials: --jobs 1 {one:.1f} s, --jobs 2 {two:.1f} s "
            f"({one / two:.2f}x; {len(os.sched_getaffinity(0))} cores; load average {os.getloadavg()[0]:.2f})"
        )


if __name__ == "__main__":
    main()
