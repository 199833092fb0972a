"""The `kerascli` command line: parses options, calls `kerascli.run`, renders results.

No logic lives here. Each module registers its commands on the one Typer
`app` (`kerascli.cli.app`); `kerascli.cli.registry.COMMANDS` names the module of
every command, which is imported when the command is first used. A new command
is a function in a module and a line in that table.
"""

from kerascli.cli.app import app
from kerascli.run import signals


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    finally:  # a signal while Python and JAX shut down ends the process quietly
        signals.exit_at_once_on_signals()


__all__ = ["app", "main"]
