"""SIGINT and SIGTERM: one clean exit (130 / 143) every time, a second signal exits at once.

No Keras here: the command line installs these handlers before anything is imported.

- `command_signals()` wraps every command: the first SIGINT raises
  `KeyboardInterrupt` (as Python does) and the first SIGTERM raises
  `Terminated`, a `KeyboardInterrupt` too, so both unwind through the same
  cleanup (temporary files removed, `run.json` marked) and exit `128 + signum`.
- `SignalGuard` replaces them while training runs: the first signal asks
  `fit` to stop after the current batch (the checkpoint callback reads
  `stopped`), and nothing is raised in the middle of a Keras step.
- Any later signal exits the process at once and quietly (`os._exit`): no
  `Exception ignored in atexit callback` traceback when Ctrl-C is pressed
  twice while JAX shuts down (`exit_at_once_on_signals`, installed by `main`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Callable, Iterator

from kerascli.errors import KerasCliError

SIGNAL_NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}
_seen: dict[str, int | None] = {"signum": None}  # the first signal of this command, once one arrived


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's `KeyboardInterrupt` so that the same cleanup runs.

    Args:
        signum: the signal number (exit code `128 + signum`).
    """

    def __init__(self, signum: int = signal.SIGTERM):
        super().__init__(SIGNAL_NAMES.get(signum, str(signum)))
        self.signum = signum


class Interrupted(KerasCliError):
    """Training stopped on a signal; exit 130 (SIGINT) or 143 (SIGTERM)."""

    def __init__(self, message: str, signum: int = signal.SIGINT):
        super().__init__(message)
        self.exit_code = 128 + int(signum)


def signal_name(signum: int) -> str:
    """`SIGINT`, `SIGTERM`, or the number."""
    return SIGNAL_NAMES.get(signum, str(signum))


def exit_code(exc: BaseException) -> int:
    """`128 + signum` for a `KeyboardInterrupt` (130) or `Terminated` (143)."""
    return 128 + int(getattr(exc, "signum", signal.SIGINT))


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _exit_now(signum, frame) -> None:
    os._exit(128 + signum)


def _raise_first(signum, frame) -> None:
    if _seen["signum"] is not None:
        _exit_now(signum, frame)
    _seen["signum"] = signum
    raise KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


@contextlib.contextmanager
def command_signals() -> Iterator[None]:
    """While a command runs: the first signal raises, a later one exits at once.

    A signal raised inside a finaliser (a `__del__`, a weakref callback such as
    importlib's module locks) cannot propagate; Python would print it as
    "Exception ignored in: ..." with a traceback. It is kept quiet here: the
    signal is recorded in `_seen`: `SignalGuard` still stops a training on it,
    other commands raise it at `raise_pending()` or when they would have
    finished, so a swallowed signal never ends in exit 0. Outside the main thread (where Python cannot install handlers) it does nothing.
    """
    if not _in_main_thread():
        yield
        return
    _seen["signum"] = None
    previous = {signum: signal.signal(signum, _raise_first) for signum in SIGNAL_NAMES}
    previous_hook = sys.unraisablehook

    def quiet_signals(unraisable) -> None:
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            previous_hook(unraisable)

    sys.unraisablehook = quiet_signals
    try:
        yield
        raise_pending()
    finally:
        sys.unraisablehook = previous_hook
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def raise_pending() -> None:
    """Raises, as it arrived, the first signal of this command if a finaliser swallowed it.

    Raises:
        KeyboardInterrupt: SIGINT came (`Terminated` for SIGTERM).
    """
    signum = _seen["signum"]
    if signum is not None:
        raise KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def exit_at_once_on_signals() -> None:
    """From now on SIGINT/SIGTERM end the process at once with `128 + signum` (for the shutdown)."""
    if _in_main_thread():
        for signum in SIGNAL_NAMES:
            signal.signal(signum, _exit_now)


class SignalGuard:
    """While active, SIGINT/SIGTERM ask training to stop instead of raising.

    The first signal sets `signum` (read after each batch through `stopped`); a
    second one prints a line, calls `on_exit` (which marks `run.json`) and
    exits the process at once with `128 + signum`. Outside the main thread the
    guard does nothing.

    Args:
        on_exit: called before the process exits on a second signal.
    """

    def __init__(self, on_exit: Callable[[], None] | None = None):
        self.signum: int | None = None
        self.on_exit = on_exit
        self._previous: dict[int, object] = {}

    def __enter__(self) -> SignalGuard:
        # A signal of this command that arrived earlier but whose KeyboardInterrupt was
        # swallowed (raised inside a `__del__` or a weakref callback, Python prints
        # "Exception ignored" and goes on) still stops the run: before fit starts.
        self.signum = _seen["signum"]
        if _in_main_thread():
            for signum in SIGNAL_NAMES:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum, frame) -> None:
        if self.signum is not None:
            sys.stderr.write(
                f"{signal_name(signum)} again: exiting now; the checkpoint of the last completed epoch is kept\n"
            )
            sys.stderr.flush()
            if self.on_exit is not None:
                with contextlib.suppress(Exception):
                    self.on_exit()
            os._exit(128 + signum)
        self.signum = signum
        _seen["signum"] = signum  # the command's handler exits at once on the next one
        sys.stderr.write(
            f"{signal_name(signum)} received: stopping after the current batch (press Ctrl-C again to exit at once)\n"
        )
        sys.stderr.flush()

    @property
    def stopped(self) -> bool:
        """Whether a signal asked training to stop."""
        return self.signum is not None
