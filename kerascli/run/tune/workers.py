"""`--jobs N`: N worker processes share the study's storage, each pinned to its share of the cores.

Each worker is `python -m kerascli.run.tune.worker PLAN` in a session of its
own (so a Ctrl-C at the terminal reaches this process only, which forwards
it: the first asks each worker to stop after its current trial, a second
stops them at once). Before JAX starts, a worker pins itself to its cores
(`os.sched_setaffinity`; XLA sizes its thread pool from the affinity) and
sets the OpenMP/BLAS thread counts to match. The trials still missing are
split into per-worker quotas, so the workers run exactly that many.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from kerascli.errors import KerasCliError
from kerascli.run.tune.session import Plan, say

THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")
POLL_SECONDS = 0.5


def cpu_shares(jobs: int, cpus: list[int] | None = None) -> list[list[int]]:
    """Splits the usable cores into `jobs` contiguous shares (round-robin when there are fewer cores)."""
    cpus = sorted(cpus if cpus is not None else _usable_cpus())
    if jobs >= len(cpus):
        return [[cpus[i % len(cpus)]] for i in range(jobs)]
    size, extra = divmod(len(cpus), jobs)
    shares, start = [], 0
    for i in range(jobs):
        end = start + size + (1 if i < extra else 0)
        shares.append(cpus[start:end])
        start = end
    return shares


def _usable_cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return list(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def quotas(remaining: int, jobs: int) -> list[int]:
    """`remaining` trials split over `jobs` workers (the first ones take one more)."""
    size, extra = divmod(remaining, jobs)
    return [size + (1 if i < extra else 0) for i in range(jobs)]


def run(plan: Plan, remaining: int, watch=None) -> bool:
    """Runs the missing trials in `plan.jobs` worker processes; returns whether a signal stopped them.

    Args:
        plan: the checked request.
        remaining: trials still missing from the study.
        watch: called about every `POLL_SECONDS` while the workers run (live display), or None.

    Raises:
        KerasCliError: a worker failed; its message (exit code 2 for a problem
            every trial has, else 1).
    """
    shares = cpu_shares(plan.jobs)
    logs = Path(tempfile.mkdtemp(prefix="kerascli-tune-"))
    workers = []
    for index, (quota, cpus) in enumerate(zip(quotas(remaining, plan.jobs), shares)):
        if quota == 0:
            continue
        workers.append(_start(plan, index, quota, cpus, logs))
    signals = {"count": 0}

    def forward(signum, frame):
        signals["count"] += 1
        if signals["count"] == 1:
            say(
                f"{signal.Signals(signum).name} received: the workers stop after their current trial "
                "(press Ctrl-C again to stop them now)"
            )
        for process, _ in workers:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)

    previous = (
        {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
        if threading.current_thread() is threading.main_thread()
        else {}
    )
    try:
        while any(p.poll() is None for p, _ in workers):
            if watch is not None:
                watch()
            time.sleep(POLL_SECONDS)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    _raise_failures(workers)
    return signals["count"] > 0


def _start(plan: Plan, index: int, quota: int, cpus: list[int], logs: Path):
    env = dict(os.environ, **{name: str(len(cpus)) for name in THREAD_ENV})
    args = {"plan": dataclasses.asdict(plan), "worker": index, "quota": quota, "cpus": cpus, "parent": os.getpid()}
    log = open(logs / f"worker-{index}.log", "w+b")  # noqa: SIM115 - read back when the worker ends
    process = subprocess.Popen(
        [sys.executable, "-m", "kerascli.run.tune.worker", json.dumps(args)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process, log


def _raise_failures(workers) -> None:
    failures = []
    for process, log in workers:
        log.seek(0)
        text = log.read().decode("utf-8", "replace").strip()
        log.close()
        if process.returncode not in (0, 130, 143):
            failures.append((process.returncode, text))
    if failures:
        code, text = failures[0]
        raise WorkerFailed(text.splitlines()[-20:] or [f"a tune worker exited with code {code}"], 2 if code == 2 else 1)


class WorkerFailed(KerasCliError):
    """A worker process failed: its last lines of output, and exit 2 (a config or study problem) or 1."""

    def __init__(self, lines: list[str], exit_code: int):
        super().__init__("\n".join(lines))
        self._lines = lines
        self.exit_code = exit_code

    def lines(self) -> list[str]:
        return self._lines
