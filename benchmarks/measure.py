"""Runs a command as a child process and reports its wall time, CPU time and peak resident memory.

`run_timed` gives wall and CPU time (user + system of the child and its
threads, from `RUSAGE_CHILDREN`): CPU time is far less sensitive than wall
time to other processes competing for the cores.

Peak RSS is the kernel's accounting for that one child (`ru_maxrss` from
`os.wait4`): everything it mapped and touched, memory-mapped file pages
included. Linux keeps `ru_maxrss` across `exec`, so a child forked straight
from a big benchmark process would inherit the parent's size; the command is
therefore started from a small launcher process (this file run as a script).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time


def run_timed(cmd: list, env: dict | None = None, cwd=None, stderr=subprocess.PIPE):
    """Runs `cmd` (stdout captured); returns `(completed process, wall seconds, CPU seconds)`; the caller checks the exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=stderr, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return proc, seconds, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def run_measured(args: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Runs `args`; returns `(seconds, peak_rss_mib, stdout)`; exits if it fails."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "KERAS_BACKEND": "jax", **(env or {})},
    )
    seconds = time.perf_counter() - start
    if proc.returncode:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(map(str, args))}")
    out, _, peak = proc.stdout.rpartition("PEAK_RSS_MIB=")
    return seconds, float(peak), out


def _launch(args: list[str]) -> int:
    """(launcher) Runs `args`, prints its peak RSS last; returns its exit code."""
    proc = subprocess.Popen(args)
    _, status, usage = os.wait4(proc.pid, 0)
    sys.stdout.flush()
    print(f"PEAK_RSS_MIB={usage.ru_maxrss / 1024:.1f}", flush=True)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(_launch(sys.argv[1:]))
