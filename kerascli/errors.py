"""Errors that kerascli reports to the user.

The exit code lives on the class, so the CLI only needs to catch the root:

    KerasCliError            exit 1: a runtime failure (I/O, diverged training)
    ├── ConfigError          exit 2: the config is invalid; carries every Problem
    ├── DataError            exit 2: the data does not fit the config
    └── UsageError           exit 2: bad command-line usage (missing run, bad option)

Anything else that escapes is a bug in kerascli and may show its traceback.
"""

from __future__ import annotations

import dataclasses


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
        return ": ".join(parts + [self.message])


class KerasCliError(Exception):
    """A failure kerascli explains to the user; exit code 1."""

    exit_code = 1

    def lines(self) -> list[str]:
        """The message, one line per problem."""
        return [str(self)]


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
