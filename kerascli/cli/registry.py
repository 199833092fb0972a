"""Which module defines each command, and the command group that imports a module only when its command runs.

`kerascli validate` needs the validate command alone: importing the modules
of train, serve, tune and export, and building their options, would be most
of its start-up. The root group knows every command by name (for `--help`,
shell completion and did-you-mean) and imports a module on first use of one
of its commands; `--help` lists them all, so it imports them all.
"""

import importlib
from collections.abc import Callable, Iterator, MutableMapping

import typer
import typer.core
import typer.main

# Every command, in `--help` order, and the module whose import registers it on `app`.
COMMANDS = {
    "validate": "kerascli.cli.checking",
    "schema": "kerascli.cli.checking",
    "summary": "kerascli.cli.checking",
    "export": "kerascli.cli.export",
    "runs": "kerascli.cli.runs",
    "diff": "kerascli.cli.runs",
    "serve": "kerascli.cli.serve",
    "plot": "kerascli.cli.tools",
    "init": "kerascli.cli.tools",
    "import": "kerascli.cli.tools",
    "train": "kerascli.cli.training",
    "evaluate": "kerascli.cli.training",
    "predict": "kerascli.cli.training",
    "tune": "kerascli.cli.tune",
}


class LazyCommands(MutableMapping):
    """The group's commands by name; a command is imported and built when first looked up.

    Args:
        built: the commands already built (those registered before the group was made).
        source: returns the Typer app the command modules register on.
        rich_markup_mode: the group's markup mode, which typer gives each command it builds.
    """

    def __init__(self, built: dict, source: Callable[[], typer.Typer], rich_markup_mode=None) -> None:
        self.built = dict(built)
        self.source = source
        self.rich_markup_mode = rich_markup_mode

    def __getitem__(self, name: str):
        if name not in self.built:
            if name not in COMMANDS:
                raise KeyError(name)
            self.built[name] = self._build(name)
        return self.built[name]

    def _build(self, name: str):
        importlib.import_module(COMMANDS[name])
        app = self.source()
        for info in app.registered_commands:
            if (info.name or typer.main.get_command_name(info.callback.__name__)) == name:
                return typer.main.get_command_from_info(
                    info,
                    pretty_exceptions_short=app.pretty_exceptions_short,
                    rich_markup_mode=self.rich_markup_mode,
                )
        raise RuntimeError(f"COMMANDS names {name!r}, which {COMMANDS[name]} does not register")

    def __setitem__(self, name: str, command) -> None:
        self.built[name] = command

    def __delitem__(self, name: str) -> None:
        del self.built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMANDS, *self.built]))

    def __len__(self) -> int:
        return len(dict.fromkeys([*COMMANDS, *self.built]))

    def __contains__(self, name) -> bool:
        return name in COMMANDS or name in self.built


def lazy_group(source: Callable[[], typer.Typer]) -> type[typer.core.TyperGroup]:
    """The group class of the root app: its commands are a `LazyCommands` over `source()`'s registrations.

    Args:
        source: returns the Typer app (called when a command is first built,
            after its module registered it).

    Returns:
        A `TyperGroup` subclass for `typer.Typer(cls=...)`.
    """

    class LazyGroup(typer.core.TyperGroup):
        def __init__(self, *, commands=None, **kwargs) -> None:
            super().__init__(commands=LazyCommands(commands or {}, source), **kwargs)
            self.commands.rich_markup_mode = self.rich_markup_mode

    return LazyGroup
