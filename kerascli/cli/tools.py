"""Commands around a config: `init` (a starter config), `import` (from a .keras model), `plot` (learning curves)."""

import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from kerascli.cli.app import BackendOption, ForceOption, PluginOption, app, handled, load_plugins, stdout


def _templates(incomplete: str) -> list[str]:
    from kerascli.run.starter import TEMPLATES

    return [t for t in TEMPLATES if t.startswith(incomplete)]


@app.command()
@handled
def plot(
    runs: Annotated[
        Optional[List[str]],
        typer.Argument(help="Run directories or configs (default: the latest run under ./runs); several are overlaid."),
    ] = None,
    output: Annotated[
        Optional[Path],
        typer.Option(
            "--output",
            "-o",
            help="The PNG to write (default: RUN/learning_curves.png; ./learning_curves.png for several runs).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --output file.")] = False,
):
    """Learning curves (loss and each metric, train vs validation) as a PNG; of several runs, overlaid."""
    from kerascli.run.outputs import check_output
    from kerascli.run.plot import PLOT_FILE, write_comparison, write_plot
    from kerascli.run.rundir import find_run

    run_dirs = [find_run(run)[0] for run in runs or [None]]
    if len(run_dirs) == 1:
        if output is not None:
            check_output(output, option="--output", suffixes=(".png",), force=force)
        path = write_plot(run_dirs[0], output=output)
    else:
        path = write_comparison(run_dirs, output or Path(PLOT_FILE), force)
    stdout().print(f"learning curves: {path}")


@app.command()
@handled
def init(
    template: Annotated[
        str,
        typer.Option(
            "--template",
            "-t",
            autocompletion=_templates,
            help="tabular-classifier, regression, image-cnn or two-branch.",
        ),
    ] = "tabular-classifier",
    output: Annotated[Path, typer.Option("--output", "-o", help="The config to write.")] = Path("kerascli.yaml"),
    data: Annotated[
        Optional[List[Path]],
        typer.Option(
            "--data",
            "-d",
            help="The training file (.csv/.parquet; .npz for image-cnn); a second --data is the test file.",
        ),
    ] = None,
    target: Annotated[
        Optional[str],
        typer.Option("--target", help="The target column (default: the last one) or labels array (default: y)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing config.")] = False,
):
    """Write a commented starter config that trains as written on your data."""
    from kerascli.run.starter import write_starter

    path = write_starter(template, data or [], output, target, force)
    stdout().print(f"wrote {path}; next: kerascli train {path} --plot")


@app.command("import")
@handled
def import_model(
    model_file: Annotated[
        Path, typer.Argument(help="A Keras model saved as .keras (loaded in safe mode; .h5 is refused).")
    ],
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="The config to write (default: print it).")
    ] = None,
    force: ForceOption = False,
    backend: BackendOption = None,
    plugin: PluginOption = None,
):
    """Write the config that rebuilds an existing Keras model (Sequential, functional, shared layers, nested models)."""
    from kerascli.engine import backend as backends
    from kerascli.model.importer import import_model as run_import
    from kerascli.run.outputs import check_output

    if output is not None:
        check_output(output, option="--output", suffixes=(".yaml", ".yml"), force=force, inputs=(model_file,))

    backends.activate(backends.resolve(backend))
    load_plugins(plugin, backend)  # custom layers the model file uses
    text = run_import(model_file, output)
    if output is None:
        sys.stdout.write(text)
        return
    stdout().print(f"config written to {output}")
