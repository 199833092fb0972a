"""Commands that check and show a config without training: `validate`, `schema`, `summary`."""

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, List, Optional

import typer

from kerascli.cli.annotations import FORMATS, github
from kerascli.cli.app import (
    BackendOption,
    ForceOption,
    JsonOption,
    PluginOption,
    SetOption,
    app,
    choice,
    fail,
    handled,
    load_plugins,
    no_pydantic_plugins,
    start_backend,
    stdout,
    warn,
)
from kerascli.errors import printable

if TYPE_CHECKING:
    from rich.table import Table


def _check(path: Path, overrides: list[str], deep: bool, backend: str | None) -> list:
    """The warnings of one config; raises its problems (with `deep`, those `train` meets before fitting)."""
    if deep:
        start_backend(path, overrides, backend)  # the config's backend, before run.deep's import starts Keras
        from kerascli.run.deep import validate_deep

        return validate_deep(path, overrides, backend)
    with no_pydantic_plugins():  # the spec builds its validators as it is imported
        from kerascli.run.validating import validate as check

    return check(path, overrides).warnings


@app.command()
@handled
def validate(
    configs: Annotated[List[Path], typer.Argument(help="Config files to check.")],
    set_: SetOption = None,
    plugin: PluginOption = None,
    as_json: JsonOption = False,
    output_format: Annotated[
        str,
        choice(
            "--format",
            FORMATS,
            help="Problem format: text (file:line:col: ...) or github (GitHub Actions annotations).",
        ),
    ] = "text",
    deep: Annotated[
        bool,
        typer.Option(
            "--deep",
            help="Also import Keras, read the first rows of each data source, build and compile the model "
            "and its callbacks: what train does before its first step (nothing is trained or written).",
        ),
    ] = False,
    backend: BackendOption = None,
):
    """Check configs without training (fast: Keras is not imported unless --plugin or --deep is given). Exit 2 on any problem."""
    from kerascli.errors import ConfigError, DataError, Problem

    load_plugins(plugin, backend)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for path in configs:
        try:
            warnings += _check(path, set_ or [], deep, backend)
        except (ConfigError, DataError) as exc:
            problems.extend(exc.problems)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "valid": not problems,
                    "problems": [p.__dict__ for p in problems],
                    "warnings": [w.__dict__ for w in warnings],
                },
                indent=2,
            )
        )
        if problems:
            raise typer.Exit(2)
        return
    for warning in warnings:
        warn(warning)
    if problems:
        if output_format == "github":
            for problem in problems:
                typer.echo(github(problem))  # the Actions runner reads workflow commands from stdout
        fail([p.render() for p in problems], 2)
    for path in configs:
        typer.echo(printable(f"{path}: ok"))


@app.command()
@handled
def schema(
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Write the schema here (default: print it).")
    ] = None,
    force: ForceOption = False,
):
    """The JSON Schema of a config, for editors (YAML language server) and CI."""
    from kerascli.config.schema import build_schema, dumps_schema, write_schema
    from kerascli.run.outputs import check_output

    with no_pydantic_plugins():  # build_schema imports the spec, which builds its validators
        if output is None:
            sys.stdout.write(dumps_schema(build_schema()))
            return
        check_output(output, option="--output", suffixes=(".json",), force=force)
        write_schema(output)
    stdout().print(f"schema written to {output}")


@app.command()
@handled
def summary(
    config: Annotated[Path, typer.Argument(help="The YAML config.")],
    set_: SetOption = None,
    backend: BackendOption = None,
    plugin: PluginOption = None,
    expand: Annotated[
        bool, typer.Option("--expand", help="Also list the layers inside block instances and applications.")
    ] = False,
    as_json: JsonOption = False,
):
    """Build the model without training; show its layers, output shapes, dtype policies and parameter counts."""
    from kerascli.run.summarizing import summary as run_summary

    load_plugins(plugin, backend)
    info = run_summary(config, set_ or [], backend, on_warning=warn, expand=expand)
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    console = stdout()
    console.print(_layer_table(info))
    console.print(
        f"total params: {info['total_params']:,}  trainable: {info['trainable_params']:,}  "
        f"non-trainable: {info['non_trainable_params']:,}"
    )


def _layer_table(info: dict) -> "Table":
    from rich.table import Table

    table = Table(title=f"model: {info['name']}", title_justify="left")
    columns = (
        ("layer", "left"),
        ("type", "left"),
        ("output shape", "left"),
        ("dtype policy", "left"),
        ("params", "right"),
    )
    for column, justify in columns:
        table.add_column(column, justify=justify)
    for row in info["layers"]:
        shape = row["output_shape"]
        shape_text = "?" if shape is None else json.dumps(shape).replace("null", "None")
        name = "  " * row["depth"] + row["name"] + (f" (x{row['calls']})" if row["calls"] > 1 else "")
        params = f"{row['params']:,}" + ("" if row["trainable"] or not row["params"] else " (frozen)")
        table.add_row(name, row["type"], shape_text, row["dtype_policy"] or "", params)
    return table
