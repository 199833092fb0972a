"""Errors that kerascli reports to the user.

The exit code lives on the class, so the CLI only needs to catch the root:

    KerasCliError            exit 1: a runtime failure (I/O, diverged training)
    ├── ConfigError          exit 2: the config is invalid; carries every Problem
    ├── DataError            exit 2: the data does not fit the config
    └── UsageError           exit 2: bad command-line usage (missing run, bad option)

Anything else that escapes is a bug in kerascli and may show its traceback.
Every line kerascli prints about a problem goes through `printable`: values
echoed from a config or a data file cannot drive the terminal.
"""

from __future__ import annotations

import dataclasses
import re

# C0 and C1 controls (ESC starts terminal sequences), DEL, and the Unicode marks that reorder text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\t": r"\t", "\n": r"\n", "\r": r"\r"}


def _escape(match: re.Match) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def printable(text: str) -> str:
    """`text` safe to print on a terminal: control characters written as escapes (`\\x1b`, `\\n`).

    A config or data file can hold ESC sequences that retitle or clear the
    terminal when echoed; every message kerascli prints goes through this.
    """
    return _CONTROL.sub(_escape, text)


def excerpt(value, limit: int = 40) -> str:
    """A short, quoted, printable excerpt of a value read from a file, for a message.

    Data files can be anything readable (a symlink to a secret included): a
    message shows at most `limit` characters of a cell or a column name.
    """
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    return "'" + printable(text).replace("'", "\\'") + "'"


@dataclasses.dataclass(frozen=True)
class Problem:
    """One problem with a config, rendered as one line.

    Args:
        file: the config file the problem is in ("" when it has no file).
        line: 1-based line, or 0 when the problem has no place in the file.
        col: 1-based column, or 0.
        path: dotted path of the offending key, e.g. `model.layers[1].units`.
        message: what was received, what was expected.
    """

    file: str
    line: int
    col: int
    path: str
    message: str

    def render(self) -> str:
        where = self.file
        if self.line:
            where = f"{where}:{self.line}:{self.col}"
        parts = [p for p in (where, self.path) if p]
        return printable(": ".join(parts + [self.message]))


class KerasCliError(Exception):
    """A failure kerascli explains to the user; exit code 1."""

    exit_code = 1

    def lines(self) -> list[str]:
        """The message, one line per problem, control characters escaped."""
        return [printable(line) for line in str(self).split("\n")]


class ConfigError(KerasCliError):
    """The config is invalid; holds every problem found, in file order."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 10**9, p.col, p.path))
        super().__init__("\n".join(p.render() for p in self.problems))

    def lines(self) -> list[str]:
        return [p.render() for p in self.problems]


class DataError(KerasCliError):
    """The data named by the config is missing, unreadable or does not fit; holds the problems, like `ConfigError`.

    Args:
        problems: one `Problem`, several, or a message that has no place in a
            config (e.g. about a file named on the command line).
    """

    exit_code = 2

    def __init__(self, problems: Problem | list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem("", 0, 0, "", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(p.render() for p in self.problems))

    def lines(self) -> list[str]:
        return [p.render() for p in self.problems]


class UsageError(KerasCliError):
    """The command line is wrong (no run to use, bad option value)."""

    exit_code = 2
