"""The Typer app, the options every command shares, and how errors reach the terminal.

Commands live in one module per family (`kerascli.cli.training`, ...), each
registering itself on `app`; `kerascli.cli.registry` imports a module when
one of its commands is first used. Neither Keras nor rich is imported here:
`--help` and `validate` stay fast, and the backend is chosen before Keras loads.

Command modules leave out `from __future__ import annotations`: typer reads
every option's annotation, and string annotations are evaluated again (twice)
each time a command is built.
"""

import contextlib
import functools
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, List, Optional

import typer

from kerascli import __version__
from kerascli.cli.registry import lazy_group
from kerascli.errors import KerasCliError, Problem, printable
from kerascli.run import signals

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(
    cls=lazy_group(lambda: app),
    name="kerascli",
    help="Train Keras models declared in YAML.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

STATE = {"debug": False}


def choice(option: str, choices: tuple[str, ...], **kwargs):
    """A typer option that takes one of `choices`, checked when the command line is parsed.

    A bad value is one line in kerascli's style (`--format: expected one of
    text, github, got 'gitlab'`, exit 2); the shell completes the choices.

    Args:
        option: the option's name, e.g. `--format`.
        choices: the values it accepts.
        **kwargs: more `typer.Option` arguments (help, ...).
    """

    def parse(value: str) -> str:
        if value not in choices:
            raise typer.BadParameter(f"expected one of {', '.join(choices)}, got '{value}'", param_hint=option)
        return value

    return typer.Option(
        option,
        parser=parse,
        metavar="[" + "|".join(choices) + "]",
        autocompletion=lambda incomplete: [c for c in choices if c.startswith(incomplete)],
        **kwargs,
    )


SetOption = Annotated[
    Optional[List[str]],
    typer.Option(
        "--set", "-s", metavar="KEY=VALUE", help="Override a config value, e.g. --set fit.epochs=3 (repeatable)."
    ),
]
BackendOption = Annotated[
    Optional[str],
    typer.Option("--backend", help="Keras backend: jax, tensorflow or torch (overrides the config and KERAS_BACKEND)."),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]
PluginOption = Annotated[
    Optional[List[str]],
    typer.Option(
        "--plugin",
        metavar="MODULE",
        help="Import a Python module that registers custom Keras objects "
        "(repeatable); a config alone never imports code.",
    ),
]
RunArgument = Annotated[
    Optional[str],
    typer.Argument(help="A run directory or a config (default: the latest run under ./runs)."),
]


def load_plugins(modules: Optional[List[str]], backend_cli: Optional[str]) -> None:
    """Imports the `--plugin` modules (this imports Keras, on the chosen backend)."""
    if modules:
        from kerascli.engine import plugins

        plugins.load(modules, backend_cli)


@contextlib.contextmanager
def no_pydantic_plugins():
    """Within: Pydantic builds validators without looking for its plugins.

    Pydantic finds plugins by scanning the entry points of every installed
    distribution when it builds its first validator (~10 ms with a hundred
    packages); the config spec builds its validators as it is imported and
    needs none. Typer does the same around its own parameter adapters. The
    variable is restored on exit, so later validators (and child processes)
    see the user's setting.
    """
    previous = os.environ.get("PYDANTIC_DISABLE_PLUGINS")
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["PYDANTIC_DISABLE_PLUGINS"]
        else:
            os.environ["PYDANTIC_DISABLE_PLUGINS"] = previous


def start_backend(config: Path, overrides: list[str], backend_cli: Optional[str]) -> str:
    """Starts Keras on the backend a command on `config` will use (`--backend`, KERAS_BACKEND, the config's).

    Importing `kerascli.run.train` (train, validate --deep) starts Keras, so the config's `backend:` is
    read first; a config that does not load is reported by the command itself (Keras then starts on the
    default).

    Returns:
        The backend's name.
    """
    from kerascli.config import load as load_config
    from kerascli.engine import backend as backends
    from kerascli.engine.keras_import import load_keras
    from kerascli.errors import KerasCliError

    try:
        configured = load_config(config, overrides).data.get("backend")
    except (KerasCliError, OSError):
        configured = None
    name = backends.resolve(backend_cli, configured if isinstance(configured, str) else None)
    try:
        load_keras(name)
    except KerasCliError:  # not installed, or Keras already runs on another one: the command says so in its turn
        pass
    return name


def stdout() -> "Console":
    """The console results are printed on."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def warn(problem: Problem) -> None:
    """Prints a config warning on stderr, one line, as the compiler would."""
    sys.stderr.write(problem.render() + "\n")


def fail(lines: list[str], code: int) -> None:
    """Prints one line per problem on stderr, unwrapped, and exits with `code`."""
    for text in lines:
        for line in text.split("\n"):
            sys.stderr.write(printable(line) + "\n")
    raise typer.Exit(code)


def handled(command):
    """Turns `KerasCliError` into its message and exit code; Ctrl-C into 130, SIGTERM into 143."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            with signals.command_signals():
                return command(*args, **kwargs)
        except KerasCliError as exc:
            if STATE["debug"]:
                traceback.print_exc()
            fail(exc.lines(), exc.exit_code)
        except KeyboardInterrupt as exc:
            if STATE["debug"]:
                traceback.print_exc()
            fail([f"interrupted by {signals.signal_name(signals.exit_code(exc) - 128)}"], signals.exit_code(exc))

    return wrapper


def _version(value: bool):
    if value:
        typer.echo(f"kerascli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
):
    """Train Keras models declared in YAML: one config, one command."""
    STATE["debug"] = debug
