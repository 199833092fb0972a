"""`kerascli export RUN --format FORMAT [-o DIR]`: the run's model in another format, verified."""

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from kerascli.cli.app import (
    BackendOption,
    JsonOption,
    PluginOption,
    RunArgument,
    SetOption,
    app,
    choice,
    handled,
    stdout,
)
from kerascli.run.export.formats import FORMATS


@app.command()
@handled
def export(
    run: RunArgument = None,
    format_: Annotated[str, choice("--format", tuple(FORMATS), help="The export format (Keras' own).")] = "onnx",
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="The export directory (default: RUN/export/FORMAT).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing export directory.")] = False,
    set_: SetOption = None,
    backend: BackendOption = None,
    plugin: PluginOption = None,
    as_json: JsonOption = False,
):
    """Export a trained run (ONNX, OpenVINO, TF SavedModel, LiteRT), verified against Keras' predictions.

    The artifact is run by its own runtime on validation rows and compared with
    Keras' predict (max abs diff <= 1e-4); signature.json beside it holds the
    inputs, outputs, classes and preprocessing a consumer needs.
    """
    from kerascli.run.export.exporting import export as run_export

    result = run_export(run, format_, output, force, set_ or [], backend, plugin or [])
    worst = max(result.max_abs_diff.values())
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "export": str(result.directory),
                    "artifact": str(result.artifact),
                    "rows": result.rows,
                    "source": result.source,
                    "runtime": result.runtime,
                    "max_abs_diff": result.max_abs_diff,
                }
            )
        )
        return
    stdout().print(f"exported {format_}: {result.artifact}")
    stdout().print(f"verified with {result.runtime} on {result.rows} {result.source} rows: max abs diff {worst:.3g}")
