"""The `kerascli` command line: parses options, calls `kerascli.run`, renders results.

No logic lives here. Each module registers its commands on the one Typer
`app` (`kerascli.cli.app`); a new command family is a new module imported below.
"""

# Importing a module registers its commands; `--help` lists them in this order.
from kerascli.cli import (
    checking,  # noqa: E402, F401, I001
    export,  # noqa: E402, F401, I001
    runs,  # noqa: E402, F401, I001
    serve,  # noqa: E402, F401, I001
    tools,  # noqa: E402, F401, I001
    training,  # noqa: E402, F401, I001
    tune,  # noqa: E402, F401, I001
)
from kerascli.cli.app import app
from kerascli.run import signals


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    finally:  # a signal while Python and JAX shut down ends the process quietly
        signals.exit_at_once_on_signals()


__all__ = ["app", "main"]
