"""Runs a snippet in a fresh interpreter: for what only a new process shows (imports, start-up state)."""

import subprocess
import sys


def printed_words(code: str) -> list[str]:
    """Runs `code` with `python -c` (it must succeed); returns the words it printed."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()
