"""Benchmark: the small CNN, kerascli on JAX against plain Keras on JAX and on TensorFlow, in one run.

Model (28x28x1 input): Conv2D(32, 3, relu) -> MaxPooling2D(2) ->
Conv2D(64, 3, relu) -> MaxPooling2D(2) -> Flatten -> Dense(10, softmax);
Adam, sparse categorical crossentropy, batch 128, 6400 random samples
(50 steps per epoch), `steps_per_execution=1` everywhere. Variants:

- `plain Keras, JAX`: `import keras` and the model, nothing else;
- `kerascli, JAX`: Keras started by `kerascli.engine.keras_import.load_keras`
  (its XLA CPU flag) with `compile.fast_pool`'s lowerings on: the fast max
  pool (`kerascli.engine.jax_pool`) and the few-tap conv
  (`kerascli.engine.jax_conv`, the first layer here);
- with `--ablate-conv`, also `kerascli, JAX, no fast conv` (the same with
  `KERASCLI_FAST_CONV=0`), to show what the conv lowering pays;
- `plain Keras, TensorFlow`: the same script on the TF backend (skipped, with
  one line, where TensorFlow is not installed).

The first epoch (compilation) is skipped; the rest are steady state. ms/step,
CPU ms/step (user + system of the worker over those epochs) and samples/s are
means over them ("best" is the fastest epoch). The variants alternate
``--rounds`` times and each one's best run is shown, which evens out load
from other processes; the load average is printed with the table.

Each variant runs in its own subprocess (this script re-invoked with
``--worker``), so JIT caches and the monkeypatch cannot leak between them.

Usage:
    python benchmarks/cnn_pool.py [--epochs 4] [--samples 6400] [--rounds 2] [--ablate-conv]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NO_CONV = "kerascli, JAX, no fast conv"


def worker(args):
    enabled = None
    if args.fast_pool is not None:
        sys.path.insert(0, REPO_ROOT)
        from kerascli.engine import speed
        from kerascli.engine.keras_import import load_keras

        keras = load_keras("jax")  # kerascli's start-up levers (the XLA CPU flag)
        enabled = speed.fast_pool(args.fast_pool == "on")  # as `compile.fast_pool` does
        if args.fast_pool == "on" and not enabled:
            raise SystemExit("fast pool requested but enable() returned False")
    else:
        import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.random((args.samples, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, size=(args.samples,))

    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

            self.cpu = []

        def on_epoch_begin(self, epoch, logs=None):
            self._t, self._cpu = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._t)
            self.cpu.append(time.process_time() - self._cpu)

    timer = Timer()
    model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0, callbacks=[timer])
    steps = -(-args.samples // args.batch_size)
    steady = timer.times[1:] or timer.times
    steady_cpu = timer.cpu[1:] or timer.cpu
    best = min(steady)
    mean = sum(steady) / len(steady)
    result = {
        "backend": keras.backend.backend(),
        "fast_pool": enabled,
        "epoch_s": timer.times,
        "ms_per_step_mean": mean / steps * 1e3,
        "ms_per_step_best": best / steps * 1e3,
        "cpu_ms_per_step": sum(steady_cpu) / len(steady_cpu) / steps * 1e3,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "samples_per_s_mean": args.samples / mean,
        "samples_per_s_best": args.samples / best,
    }
    if args.fast_pool is not None:
        from kerascli.engine import jax_conv, jax_pool

        result["pool_calls"] = jax_pool.call_counts()
        result["conv_calls"] = jax_conv.call_counts()
    print("RESULT " + json.dumps(result), flush=True)


def run_variant(label, backend, fast_pool, args, keras_home, extra_env=None):
    env = dict(os.environ)
    env["KERAS_BACKEND"] = backend
    env["KERAS_HOME"] = keras_home
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.pop("KERASCLI_FAST_POOL", None)
    env.pop("KERASCLI_FAST_CONV", None)
    env.update(extra_env or {})
    env.pop("XLA_FLAGS", None)  # plain Keras runs without kerascli's flag; load_keras adds it for kerascli
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        "--epochs",
        str(args.epochs),
        "--samples",
        str(args.samples),
        "--batch-size",
        str(args.batch_size),
    ]
    if fast_pool is not None:
        cmd += ["--fast-pool", fast_pool]
    print(f"running {label} ...", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    sys.stderr.write(proc.stdout + proc.stderr)
    raise SystemExit(f"{label}: worker failed (rc={proc.returncode})")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--fast-pool", choices=["on", "off"], default=None, help="(worker) patch state")
    p.add_argument("--epochs", type=int, default=4, help="epochs per run; the first is skipped (default 4)")
    p.add_argument("--samples", type=int, default=6400)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="alternate off/on runs this many times and keep each "
        "variant's best run (robust to a busy machine; default 2)",
    )
    p.add_argument("--no-tf", action="store_true", help="skip the TF run")
    p.add_argument("--ablate-conv", action="store_true", help="also run kerascli with KERASCLI_FAST_CONV=0")
    p.add_argument("--json", action="store_true", help="also print raw JSON")
    args = p.parse_args(argv)

    if args.worker:
        return worker(args)

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="kerascli-bench-") as home:
        variants = [
            ("plain Keras, JAX", "jax", None),
            ("kerascli, JAX", "jax", "on"),
        ]
        if args.ablate_conv:
            variants.append((NO_CONV, "jax", "on"))
        if args.no_tf:
            pass
        elif importlib.util.find_spec("tensorflow") is not None:
            variants.append(("plain Keras, TensorFlow", "tensorflow", None))
        else:
            print(
                "TensorFlow is not installed: the TensorFlow comparison is skipped (pip install 'kerascli[tensorflow]')"
            )
        runs = {label: [] for label, _, _ in variants}
        for rnd in range(max(1, args.rounds)):
            for label, backend, fast in variants if rnd % 2 == 0 else variants[::-1]:
                extra = {"KERASCLI_FAST_CONV": "0"} if label == NO_CONV else None
                runs[label].append(run_variant(f"{label} (round {rnd + 1})", backend, fast, args, home, extra))
        # Keep each variant's run with the best mean steady-state throughput.
        results = {label: max(rs, key=lambda r: r["samples_per_s_mean"]) for label, rs in runs.items()}
    print_table(results, args, load_before)


def print_table(results: dict, args, load_before: float) -> None:
    print(
        f"\nSmall CNN 28x28x1, batch {args.batch_size}, {args.samples} samples, "
        f"{args.epochs - 1} steady-state epoch(s), best of {max(1, args.rounds)} "
        f"round(s), {os.cpu_count()} CPU(s), load average {load_before:.1f} before / {os.getloadavg()[0]:.1f} after"
    )
    hdr = f"{'variant':<28} {'ms/step':>9} {'(best)':>8} {'CPU ms/step':>12} {'samples/s':>10} {'(best)':>8}"
    print(hdr)
    print("-" * len(hdr))
    for label, r in results.items():
        print(
            f"{label:<28} {r['ms_per_step_mean']:>9.1f} {r['ms_per_step_best']:>8.1f} {r['cpu_ms_per_step']:>12.1f} "
            f"{r['samples_per_s_mean']:>10.0f} {r['samples_per_s_best']:>8.0f}"
        )
    ours = results["kerascli, JAX"]
    for label in ("plain Keras, JAX", NO_CONV, "plain Keras, TensorFlow"):
        if label in results:
            other = results[label]
            print(
                f"kerascli (JAX) / {label}, samples/s: {ours['samples_per_s_mean'] / other['samples_per_s_mean']:.2f}x mean, "
                f"{ours['samples_per_s_best'] / other['samples_per_s_best']:.2f}x best; "
                f"CPU per step {other['cpu_ms_per_step'] / ours['cpu_ms_per_step']:.2f}x less"
            )
    if ours.get("pool_calls"):
        print(f"fast-pool trace counts (kerascli run): {ours['pool_calls']} (26x26 exactly, 11x11 cropped to 10x10)")
    if ours.get("conv_calls"):
        print(
            f"fast-conv trace counts (kerascli run): {ours['conv_calls']} (the 1-channel first conv; the 32-channel one stays XLA's)"
        )
    print(f"kerascli's XLA_FLAGS: {ours['xla_flags'] or '(none)'}")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
