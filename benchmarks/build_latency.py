"""Build latency: `kerascli summary` and model loading against plain Keras building the same model.

    python benchmarks/build_latency.py [--reps 1] [--only build,mobilenet,identity,cache,inference]

Rows, each command in its own process, kerascli and the plain script
alternating:

- build: `kerascli summary configs/resnet.yaml` / `inception.yaml` with an
  empty compilation cache (cold) and again (warm), beside a plain Keras
  script that builds the same model (`python build_latency.py plain NAME`).
  Wall and CPU time (user + system, threads included) of the whole
  process, start-up included.
- mobilenet: `keras.applications.MobileNetV2(alpha=0.35)` (~420k
  parameters, 262 variables) built by a plain script, and by the same script
  inside kerascli's `deferred_initialization()` (cold and warm cache).
- identity: the weights `kerascli train`'s build phase gives configs/resnet.yaml
  against those of the plain script with the same seed, bit for bit.
- inference: `kerascli evaluate` / `predict` of a configs/resnet.yaml run
  against a plain script that loads its `model.keras` and calls
  `model.evaluate` / `model.predict` on the same rows (cache warm from train).
- cache: XLA compile seconds (JAX's backend-compile events, cache reads
  included) of `summary`, `train`, `evaluate` and `predict` of
  configs/resnet.yaml, first run (empty cache) and repeat.

Nothing here is a test: it prints numbers (and the load average beside them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from measure import run_timed  # noqa: E402

PY = sys.executable


def plain_model(name: str):
    """The model of configs/NAME.yaml, written by hand in Keras (same layers, same order)."""
    import keras

    layers = keras.layers
    if name == "mobilenet":
        return keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, weights=None, classes=10)
    x = inputs = keras.Input((8, 8, 1), name="input")
    if name == "resnet":
        x = layers.Conv2D(8, 3, activation="relu", name="conv_1")(x)
        x = layers.Conv2D(16, 3, activation="relu", name="conv_2")(x)
        x = layers.MaxPooling2D(2, name="pool")(x)
        for i in (1, 2):
            block_in = y = keras.Input(x.shape[1:])
            y = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv_1")(y)
            y = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv_2")(y)
            x = keras.Model(block_in, layers.Add(name="add")([y, block_in]), name=f"res_{i}")(x)
        x = layers.Conv2D(16, 1, activation="relu", name="conv_3")(x)
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(32, activation="relu", name="hidden")(x)
        x = layers.Dropout(0.5)(x)
        return keras.Model(inputs, layers.Dense(3, activation="softmax", name="shape")(x))
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="stem")(x)
    for block, (f1, f3, f5) in (("inc_a", (8, 8, 4)), ("inc_b_1", (4, 8, 4)), ("inc_b_2", (4, 8, 4))):
        block_in = keras.Input(x.shape[1:])
        b1 = layers.Conv2D(f1, 1, padding="same", activation="relu", name="b1")(block_in)
        b3 = layers.Conv2D(f3, 3, padding="same", activation="relu", name="b3")(block_in)
        b5 = layers.Conv2D(f5, 5, padding="same", activation="relu", name="b5")(block_in)
        pool = layers.MaxPooling2D(3, strides=1, padding="same", name="pool")(block_in)
        joined = layers.Concatenate(name="joined")([b1, b3, b5, pool])
        x = keras.Model(block_in, joined, name=block)(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(3, activation="softmax", name="shape")(x))


def child_plain(name: str, lever: bool, seed: int, weights_out: str | None) -> None:
    """(child) Builds the plain model, optionally inside kerascli's lever; saves its weights."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import contextlib

    import numpy as np

    if lever:
        from kerascli.engine.initialization import deferred_initialization
        from kerascli.engine.keras_import import load_keras

        keras = load_keras("jax")
        context = deferred_initialization()
    else:
        import keras

        context = contextlib.nullcontext()
    keras.utils.set_random_seed(seed)
    with context:
        model = plain_model(name)
    weights = [np.asarray(v) for v in model.weights]
    if weights_out:
        np.savez(weights_out, *weights)


def child_kerascli_weights(config: str, weights_out: str) -> None:
    """(child) The weights `kerascli train` builds for `config` (its plan, start, load_data and build phases)."""
    import numpy as np

    from kerascli.run import train as training

    t = training.plan(config, [], None, None, None)
    for phase in (training.start, training.load_data, training.build):
        phase(t)
    np.savez(weights_out, *[np.asarray(v) for v in t.model.weights])


def child_plain_inference(mode: str, run_dir: str) -> None:
    """(child) What a plain script does for `kerascli evaluate`/`predict` of a configs/resnet.yaml run."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras
    import numpy as np

    model = keras.saving.load_model(Path(run_dir) / "model.keras", safe_mode=True)
    data = REPO / "configs" / "data"
    if mode == "predict":
        with np.load(data / "shapes-new.npz") as new:
            np.save(Path(run_dir) / "plain-predictions.npy", model.predict(new["x"].astype("float32"), verbose=0))
        return
    with np.load(data / "shapes.npz") as shapes:
        x, y = shapes["x"].astype("float32"), shapes["y"]
    order = np.random.default_rng(4).permutation(len(x))  # the config's seeded 25% validation split
    val = order[: int(0.25 * len(x))]
    print(model.evaluate(x[val], y[val], batch_size=32, return_dict=True, verbose=0))


def child_compile_seconds(args: list[str]) -> None:
    """(child) Runs `kerascli ARGS` in this process; prints the XLA compile seconds it spent."""
    from kerascli.engine.keras_import import add_xla_flags

    add_xla_flags("jax")
    import jax

    total = [0.0]

    def listen(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            total[0] += duration

    jax.monitoring.register_event_duration_secs_listener(listen)
    from kerascli.cli import app

    try:
        app(args, standalone_mode=False)
    finally:
        print(f"COMPILE_SECONDS={total[0]:.3f}", flush=True)


CPU: list[float] = []  # CPU seconds (user + system, threads included) of each `run`, in order


def run(cmd: list[str], env: dict, cwd: Path | None = None) -> tuple[float, str]:
    """Runs `cmd`; returns (wall seconds, stdout) and appends its CPU seconds to `CPU`."""
    proc, seconds, cpu = run_timed(cmd, env, cwd)
    CPU.append(cpu)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
    return seconds, proc.stdout


def timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of `cmd`."""
    return run(cmd, env)[0], CPU[-1]


def medians(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)


def environment(cache: Path) -> dict:
    """The children's environment: bytecode is cached, as on a user's machine (keras' is, from its install)."""
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "KERASCLI_CACHE_DIR": str(cache),
        "PYTHONPATH": str(REPO),
        "KERAS_HOME": str(cache.parent / "keras-home"),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def compile_bytecode(tmp: Path) -> None:
    """Writes kerascli's bytecode once, as `pip install` does, so the first timed run does not pay it."""
    run([PY, "-m", "compileall", "-q", str(REPO / "kerascli")], environment(tmp / "bytecode"))


def load() -> str:
    return "load average " + " ".join(f"{v:.1f}" for v in os.getloadavg())


def build_rows(tmp: Path, reps: int) -> None:
    for name in ("resnet", "inception"):
        plain, cold, warm, loads = [], [], [], []
        for rep in range(reps):
            cache = tmp / f"cache-{name}-{rep}"
            env = environment(cache)
            summary = [PY, "-m", "kerascli", "summary", str(REPO / "configs" / f"{name}.yaml")]
            loads.append(os.getloadavg()[0])
            plain.append(timed([PY, __file__, "plain", name], env))
            cold.append(timed(summary, env))
            warm.append(timed(summary, env))
        (p, pc), (c, cc), (w, wc) = (medians(v) for v in (plain, cold, warm))
        print(
            f"  summary configs/{name}.yaml: cold {c:5.1f} s ({cc:4.1f} s CPU), warm {w:5.1f} s ({wc:4.1f} s CPU); "
            f"plain Keras build {p:5.1f} s ({pc:4.1f} s CPU); {p / c:4.1f}x / {p / w:4.1f}x faster "
            f"(CPU {pc / cc:4.1f}x / {pc / wc:4.1f}x) (load average {min(loads):.1f}-{max(loads):.1f})",
            flush=True,
        )


def mobilenet_row(tmp: Path, reps: int) -> None:
    import numpy as np

    plain, cold, warm, loads = [], [], [], []
    weights = {"plain": tmp / "mobilenet-plain.npz", "lever": tmp / "mobilenet-lever.npz"}
    for rep in range(reps):
        env = environment(tmp / f"cache-mobilenet-{rep}")
        loads.append(os.getloadavg()[0])
        plain.append(timed([PY, __file__, "plain", "mobilenet", "--weights", str(weights["plain"])], env))
        cold.append(timed([PY, __file__, "lever", "mobilenet", "--weights", str(weights["lever"])], env))
        warm.append(timed([PY, __file__, "lever", "mobilenet"], env))
    (p, pc), (c, cc), (w, wc) = (medians(v) for v in (plain, cold, warm))
    ours, theirs = np.load(weights["lever"]), np.load(weights["plain"])
    same = sum(ours[k].tobytes() == theirs[k].tobytes() for k in ours.files)
    print(
        f"  MobileNetV2(alpha=0.35), 262 variables: with kerascli's lever cold {c:5.1f} s ({cc:4.1f} s CPU), "
        f"warm {w:5.1f} s ({wc:4.1f} s CPU); plain Keras {p:5.1f} s ({pc:4.1f} s CPU); {p / c:4.1f}x / {p / w:4.1f}x "
        f"faster (CPU {pc / cc:4.1f}x / {pc / wc:4.1f}x); {same}/{len(ours.files)} weight arrays bit-identical "
        f"(load average {min(loads):.1f}-{max(loads):.1f})",
        flush=True,
    )


def identity_row(tmp: Path) -> None:
    import numpy as np

    env = environment(tmp / "cache-identity")
    config = REPO / "configs" / "resnet.yaml"
    run([PY, __file__, "kerascli-weights", str(config), str(tmp / "kerascli.npz")], env)
    run([PY, __file__, "plain", "resnet", "--seed", "4", "--weights", str(tmp / "plain.npz")], env)
    ours, theirs = np.load(tmp / "kerascli.npz"), np.load(tmp / "plain.npz")
    same = sum(ours[k].tobytes() == theirs[k].tobytes() for k in ours.files)
    print(
        f"  configs/resnet.yaml (seed 4): {same}/{len(ours.files)} weight arrays bit-identical to plain Keras' draws",
        flush=True,
    )


def cache_rows(tmp: Path) -> None:
    work = tmp / "repeat"
    work.mkdir()
    config = str(REPO / "configs" / "resnet.yaml")
    run_dir = str(work / "runs" / "resnet")
    commands = {  # each with its own empty cache first: evaluate and predict must not reuse train's programs
        "summary": ["summary", config],
        "train": ["train", config, "--quiet", "--set", "fit.epochs=1", "--output-dir", str(work / "runs")],
        "evaluate": ["evaluate", run_dir],
        "predict": ["predict", run_dir, "--output", str(work / "p.csv")],
    }
    for name, args in commands.items():
        env = environment(tmp / f"cache-repeat-{name}")
        seconds = []
        for _ in range(2):
            _, out = run([PY, __file__, "compile-seconds", *args], env, cwd=work)
            seconds.append(float(out.rpartition("COMPILE_SECONDS=")[2]))
        ratio = seconds[1] / seconds[0] if seconds[0] else 0.0
        print(
            f"  {name:<9} XLA compile: first run {seconds[0]:6.2f} s, repeat {seconds[1]:6.2f} s "
            f"({100 * ratio:4.1f}% of the first; target <= 10%) ({load()})",
            flush=True,
        )


def inference_rows(tmp: Path, reps: int) -> None:
    env = environment(tmp / "cache-inference")
    work = tmp / "inference"
    work.mkdir()
    config = str(REPO / "configs" / "resnet.yaml")
    run([PY, "-m", "kerascli", "train", config, "--quiet", "--set", "fit.epochs=1", "--output-dir", str(work)], env)
    run_dir = next((work / "resnet").iterdir())
    for mode in ("evaluate", "predict"):
        ours, plain = [], []
        for _ in range(reps):
            ours.append(run([PY, "-m", "kerascli", mode, str(run_dir)], env)[0])
            plain.append(run([PY, __file__, "plain-inference", mode, str(run_dir)], env)[0])
        o, p = statistics.median(ours), statistics.median(plain)
        print(
            f"  {mode} of a configs/resnet.yaml run: kerascli {o:5.1f} s, plain load_model + {mode} {p:5.1f} s; "
            f"{o / p:4.2f}x the time (target <= 1.2) ({load()})",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--only", default="build,mobilenet,identity,cache,inference")
    args = parser.parse_args()
    only = set(args.only.split(","))
    with tempfile.TemporaryDirectory(prefix="kerascli-build-") as name:
        tmp = Path(name)
        print(f"build latency (jax, {os.cpu_count()} cores)")
        compile_bytecode(tmp)
        if "build" in only:
            build_rows(tmp, args.reps)
        if "mobilenet" in only:
            mobilenet_row(tmp, args.reps)
        if "identity" in only:
            identity_row(tmp)
        if "cache" in only:
            cache_rows(tmp)
        if "inference" in only:
            inference_rows(tmp, args.reps)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("plain", "lever"):
        child = argparse.ArgumentParser()
        child.add_argument("mode")
        child.add_argument("name")
        child.add_argument("--seed", type=int, default=7)
        child.add_argument("--weights")
        a = child.parse_args()
        child_plain(a.name, a.mode == "lever", a.seed, a.weights)
    elif len(sys.argv) > 1 and sys.argv[1] == "kerascli-weights":
        child_kerascli_weights(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "plain-inference":
        child_plain_inference(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "compile-seconds":
        child_compile_seconds(sys.argv[2:])
    else:
        main()
