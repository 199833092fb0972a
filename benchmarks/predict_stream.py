"""Streamed predict: peak RSS at growing row counts, and throughput against a raw `model.predict`.

    python benchmarks/predict_stream.py --rows 1000000 10000000 --features 32 --batch-size 1024

Trains a small MLP (FEATURES-64-3, softmax) on 20k rows with `kerascli train`,
then for each ROWS:

* `kerascli predict RUN --input x.npy --output p.npy --batch-size B` in its
  own process: its peak RSS (kernel accounting of the child) must stay flat;
* in one process, over the same rows and model: `model.predict(x)` on the
  memory-mapped array (all predictions returned in RAM, as Keras does) and
  kerascli's streamed `predict_to_file` (chunks read, predicted, appended
  to a .npy, fsynced), alternated, best of --repeat; the ratio is their
  throughput (wall clock), and the same for CPU time (all threads), which a
  busy shared machine disturbs less.

Targets: flat RSS; streamed throughput >= 0.95x raw `model.predict`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_measured  # noqa: E402

CONFIG = """
name: small
seed: 1
data:
  train: {x: train_x.npy, y: train_y.npy}
model:
  layers:
    - {type: Dense, units: 64, activation: relu}
    - {type: Dense, units: 3, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy}
fit: {epochs: 1, batch_size: 256}
"""


def write_x(path: Path, rows: int, features: int, block: int = 1 << 20) -> None:
    rng = np.random.default_rng(0)
    x = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, features))
    for start in range(0, rows, block):
        x[start : start + block] = rng.normal(size=(min(block, rows - start), features))
        x.flush()
    del x


def compare(run: str, x_path: str, batch_size: int, repeat: int) -> None:
    """(child) Times raw model.predict and the streamed writer in this one process."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    from kerascli import config
    from kerascli.config import spec
    from kerascli.data import predictions
    from kerascli.data.predicting import predict_to_file

    model = keras.saving.load_model(Path(run) / "model.keras")
    doc = config.load(Path(run) / "config.yaml")
    cfg = spec.from_document(doc)
    x = np.load(x_path, mmap_mode="r")
    model.predict(x[: batch_size * 2], batch_size=batch_size, verbose=0)  # compile both batch shapes first
    model.predict(x[: batch_size + 1], batch_size=batch_size, verbose=0)
    outputs = cfg.model.output_names()
    kinds = predictions.classifier_outputs(cfg, outputs)
    out = Path(x_path).with_name("compare.npy")
    best = {"raw": float("inf"), "streamed": float("inf"), "raw_cpu": float("inf"), "streamed_cpu": float("inf")}

    def timed(name, fn):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        best[name] = min(best[name], time.perf_counter() - start)
        best[name + "_cpu"] = min(best[name + "_cpu"], time.process_time() - cpu)

    for _ in range(repeat):
        timed("raw", lambda: model.predict(x, batch_size=batch_size, verbose=0))
        timed(
            "streamed",
            lambda: predict_to_file(
                model,
                spec.Source(path=x_path),
                doc,
                ("data", "predict"),
                target=out,
                batch_size=batch_size,
                output_names=outputs,
                labels={},
                kinds=kinds,
            ),
        )
    print(" ".join(f"{k.upper()}={v}" for k, v in best.items()))


def raw_only(run: str, x_path: str, batch_size: int) -> None:
    """(child) Only `model.predict` over the whole file, for its peak RSS."""
    import keras

    model = keras.saving.load_model(Path(run) / "model.keras")
    model.predict(np.load(x_path, mmap_mode="r"), batch_size=batch_size, verbose=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, run, x_path = args.child
        return (
            compare(run, x_path, args.batch_size, args.repeat)
            if kind == "compare"
            else raw_only(run, x_path, args.batch_size)
        )
    directory = args.workdir or Path(tempfile.mkdtemp(prefix="kerascli-predict-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        rng = np.random.default_rng(1)
        train_x = rng.normal(size=(20_000, args.features)).astype(np.float32)
        np.save(directory / "train_x.npy", train_x)
        np.save(directory / "train_y.npy", (train_x[:, :3].argmax(axis=1)).astype(np.int32))
        (directory / "small.yaml").write_text(CONFIG)
        run_measured(
            [
                sys.executable,
                "-m",
                "kerascli",
                "train",
                str(directory / "small.yaml"),
                "--quiet",
                "--output-dir",
                str(directory / "runs"),
            ]
        )
        run = str(next((directory / "runs" / "small").iterdir()))
        print(f"MLP {args.features}-64-3 (softmax), batch {args.batch_size}, float32 .npy input, .npy output")
        for rows in args.rows:
            x_path = directory / f"x{rows}.npy"
            write_x(x_path, rows, args.features)
            seconds, rss, _ = run_measured(
                [
                    sys.executable,
                    "-m",
                    "kerascli",
                    "predict",
                    run,
                    "--input",
                    str(x_path),
                    "--output",
                    str(directory / "p.npy"),
                    "--batch-size",
                    str(args.batch_size),
                ]
            )
            assert np.load(directory / "p.npy", mmap_mode="r").shape == (rows, 3)
            _, raw_rss, _ = run_measured(
                [sys.executable, __file__, "--batch-size", str(args.batch_size), "--child", "raw", run, str(x_path)]
            )
            _, _, out = run_measured(
                [
                    sys.executable,
                    __file__,
                    "--batch-size",
                    str(args.batch_size),
                    "--repeat",
                    str(args.repeat),
                    "--child",
                    "compare",
                    run,
                    str(x_path),
                ]
            )
            times = {k: float(v) for k, v in (part.split("=") for part in out.split()[-4:])}
            raw_t, streamed_t = times["RAW"], times["STREAMED"]
            print(
                f"  {rows:>10} rows: kerascli predict peak RSS {rss:6.0f} MiB (whole command {seconds:.1f} s); "
                f"raw model.predict peak RSS {raw_rss:6.0f} MiB"
            )
            print(
                f"  {'':>10}       throughput streamed {rows / streamed_t:9.0f} rows/s, raw model.predict {rows / raw_t:9.0f} rows/s, "
                f"ratio {raw_t / streamed_t:.3f} (target >= 0.95); CPU-time ratio {times['RAW_CPU'] / times['STREAMED_CPU']:.3f}"
            )
            x_path.unlink()
    finally:
        if args.workdir is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
