"""Runs a command as a child process and reports its wall time and peak resident memory.

Peak RSS is the kernel's accounting for that one child (`os.wait4`'s
`ru_maxrss`): everything it mapped and touched, memory-mapped file pages included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time


def run_measured(args: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Runs `args`; returns `(seconds, peak_rss_mib, stdout)`; exits if it fails."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, text=True,
                                env={**os.environ, "KERAS_BACKEND": "jax", **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            sys.stderr.write(err.read()[-3000:])
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(map(str, args))}")
        return seconds, usage.ru_maxrss / 1024, out.read()
