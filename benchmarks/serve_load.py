"""`kerascli serve` under load, against a minimal hand-written FastAPI app calling `model.predict`.

    python benchmarks/serve_load.py --clients 16 --requests 50 --rows 1

Trains configs/iris.yaml for one epoch, then starts two servers on free
loopback ports (127.0.0.1 only), each loading the same model.keras:

* `kerascli serve RUN` (micro-batching, padded batch sizes compiled at start);
* the baseline: a FastAPI app of a dozen lines whose `async def` route turns
  the rows into an array and calls `model.predict` on them (a plain `def`
  route runs `predict` on several threads at once, and Keras' predict is not
  thread-safe: that variant answered 500 to most concurrent requests here).

CLIENTS concurrent httpx clients send REQUESTS requests of ROWS rows each,
to one server at a time, alternating, for --rounds rounds; every loop is
bounded by --deadline seconds. Reported per server (best round): rows/s,
p50/p99 latency, errors; then the ratios kerascli / baseline (goals:
throughput >= 1.0x, p50 <= 1.2x). The load average is printed beside them:
client and servers share this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only
COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
BASELINE = textwrap.dedent(
    """
    import sys
    import keras
    import numpy as np
    import uvicorn
    from fastapi import FastAPI

    COLUMNS = {columns!r}
    model = keras.saving.load_model(sys.argv[1])
    app = FastAPI()


    @app.post("/predict")
    async def predict(body: dict):
        x = np.array([[row[c] for c in COLUMNS] for row in body["rows"]], dtype="float32")
        return {{"predictions": model.predict(x, verbose=0).tolist()}}


    model.predict(np.zeros((1, len(COLUMNS)), "float32"), verbose=0)
    uvicorn.run(app, host="{host}", port=int(sys.argv[2]), log_level="warning", access_log=False)
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start(command: list[str], port: int, env: dict, deadline: float) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://{HOST}:{port}/predict"
    body = {"rows": [dict.fromkeys(COLUMNS, 1.0)]}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server failed to start: {process.stderr.read()[-2000:]}")
        try:
            if httpx.post(url, json=body, timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.3)
    process.kill()
    sys.exit("server did not start in time")


async def load(port: int, clients: int, requests: int, rows: int, deadline: float) -> dict:
    """CLIENTS concurrent clients x REQUESTS requests; stops early at `deadline`."""
    rng = np.random.default_rng(0)
    bodies = [
        {"rows": [dict(zip(COLUMNS, map(float, rng.uniform(0, 8, 4).round(1)))) for _ in range(rows)]}
        for _ in range(clients)
    ]
    latencies, errors = [], []

    async def client(http: httpx.AsyncClient, body: dict):
        for _ in range(requests):
            if time.monotonic() > deadline:
                return
            started = time.perf_counter()
            try:
                response = await http.post(f"http://{HOST}:{port}/predict", json=body)
                if response.status_code != 200:
                    errors.append(response.status_code)
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
            latencies.append(time.perf_counter() - started)

    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=clients)) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http, body) for body in bodies))
        wall = time.perf_counter() - started
    ms = np.array(latencies) * 1e3
    return {
        "rows_per_s": len(latencies) * rows / wall,
        "p50": float(np.percentile(ms, 50)),
        "p99": float(np.percentile(ms, 99)),
        "requests": len(latencies),
        "errors": len(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=50, help="requests per client")
    parser.add_argument("--rows", type=int, default=1, help="rows per request")
    parser.add_argument("--max-batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--deadline", type=float, default=60.0, help="seconds per load loop at most")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kerascli-serve-bench-"))
    env = dict(os.environ, KERAS_BACKEND="jax", KERAS_HOME=str(work / "keras"))
    servers = []
    try:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "kerascli",
                "train",
                str(REPO / "configs" / "iris.yaml"),
                "-o",
                str(work / "runs"),
                "--quiet",
                "--set",
                "fit.epochs=1",
            ],
            cwd=REPO,
            env=env,
            check=True,
        )
        run = next((work / "runs").glob("*/*"))
        (work / "baseline.py").write_text(BASELINE.format(columns=COLUMNS, host=HOST))
        ports = {"kerascli": free_port(), "baseline": free_port()}
        startup = time.monotonic() + 300
        servers.append(
            start(
                [
                    sys.executable,
                    "-m",
                    "kerascli",
                    "serve",
                    str(run),
                    "--host",
                    HOST,
                    "--port",
                    str(ports["kerascli"]),
                    "--max-batch",
                    str(args.max_batch),
                ],
                ports["kerascli"],
                env,
                startup,
            )
        )
        servers.append(
            start(
                [sys.executable, str(work / "baseline.py"), str(run / "model.keras"), str(ports["baseline"])],
                ports["baseline"],
                env,
                startup,
            )
        )
        best = {}
        for _ in range(args.rounds):
            for name, port in ports.items():
                result = asyncio.run(
                    load(port, args.clients, args.requests, args.rows, time.monotonic() + args.deadline)
                )
                if name not in best or result["rows_per_s"] > best[name]["rows_per_s"]:
                    best[name] = result
                print(
                    f"{name:9s} {result['rows_per_s']:8.0f} rows/s  p50 {result['p50']:6.1f} ms  "
                    f"p99 {result['p99']:6.1f} ms  {result['requests']} requests, {result['errors']} errors  "
                    f"(load average {os.getloadavg()[0]:.2f})",
                    flush=True,
                )
        ours, theirs = best["kerascli"], best["baseline"]
        print(f"\n{args.clients} clients x {args.requests} requests x {args.rows} rows, best of {args.rounds}:")
        print(f"throughput kerascli/baseline: {ours['rows_per_s'] / theirs['rows_per_s']:.2f}x (goal >= 1.0x)")
        print(f"p50 latency kerascli/baseline: {ours['p50'] / theirs['p50']:.2f}x (goal <= 1.2x)")
        print(f"p99 latency kerascli/baseline: {ours['p99'] / theirs['p99']:.2f}x")
        print(f"errors: kerascli {ours['errors']}, baseline {theirs['errors']}")
    finally:
        for process in servers:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
