"""Start-up: what `validate` and `--help` import, and the command table that makes them lazy.

Each check runs the real entry point (`kerascli.cli.main`) in a fresh
interpreter and asserts on `sys.modules` afterwards: what a command imports is
what it pays for at every start, whatever the machine's load.
"""

import importlib
import json
import pkgutil
import subprocess
import sys

import pytest
import typer.main
from conftest import CONFIGS, REPO
from typer.testing import CliRunner

import kerascli.cli
from kerascli.cli import app
from kerascli.cli.registry import COMMANDS

# Modules of the commands validate does not run, and the libraries only they (or help) need.
NOT_FOR_VALIDATE = (
    "kerascli.cli.export",
    "kerascli.cli.runs",
    "kerascli.cli.serve",
    "kerascli.cli.tools",
    "kerascli.cli.training",
    "kerascli.cli.tune",
    "kerascli.run.export",
    "rich",
    "typer.rich_utils",
    "keras",
    "jax",
    "numpy",
)
# --help lists commands; it parses no config and coerces no option value.
NOT_FOR_HELP = ("kerascli.config", "kerascli.run.validating", "pydantic", "yaml", "keras", "jax", "numpy")


def modules_after(args: list[str]) -> tuple[int, list[str], str]:
    """Runs `kerascli ARGS` through `main()` in a fresh interpreter; returns (exit code, sys.modules, stdout)."""
    code = (
        "import io, json, sys, contextlib\n"
        f"sys.argv = ['kerascli', *{args!r}]\n"
        "out = io.StringIO()\n"
        "from kerascli.cli import main\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as exc:\n"
        "        code = exc.code or 0\n"
        "print(json.dumps([code, sorted(sys.modules), out.getvalue()]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    return tuple(json.loads(result.stdout.splitlines()[-1]))


def imported(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in names)]


def test_validate_imports_only_its_own_command():
    code, modules, out = modules_after(["validate", str(CONFIGS / "iris.yaml")])
    assert code == 0 and out.endswith("iris.yaml: ok\n"), out
    assert imported(modules, NOT_FOR_VALIDATE) == []
    assert "kerascli.cli.checking" in modules and "kerascli.config.spec" in modules


def test_help_lists_every_command_without_importing_the_spec():
    code, modules, out = modules_after(["--help"])
    assert code == 0
    assert imported(modules, NOT_FOR_HELP) == []
    panel = out.split("─ Commands ─", 1)[1].splitlines()
    listed = [line.split()[1] for line in panel if line.startswith("│ ") and line[2] != " "]
    assert listed == list(COMMANDS)


def test_command_table_names_each_command_and_its_module():
    for module in pkgutil.iter_modules(kerascli.cli.__path__, "kerascli.cli."):
        importlib.import_module(module.name)
    registered = {
        info.name or typer.main.get_command_name(info.callback.__name__): info.callback.__module__
        for info in app.registered_commands
    }
    assert registered == COMMANDS


@pytest.mark.parametrize("command", list(COMMANDS))
def test_each_command_help_lists_its_options(command):
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    click_command = typer.main.get_command(app).commands[command]
    for param in click_command.params:
        if param.param_type_name == "option" and not getattr(param, "hidden", False):
            assert param.opts[0] in result.output, f"{command} --help does not list {param.opts[0]}"


def test_misspelt_command_is_one_error_with_a_suggestion():
    result = CliRunner().invoke(app, ["validat"])
    assert result.exit_code == 2
    assert "No such command 'validat'. Did you mean 'validate'" in result.output
