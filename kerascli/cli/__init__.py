"""The `kerascli` command line: parses options, calls the runner, renders results.

No logic lives here. Keras is never imported at module level: `--help` and
`validate` stay fast, and the backend is chosen before Keras loads.
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from kerascli import __version__
from kerascli.errors import KerasCliError

app = typer.Typer(
    name="kerascli",
    help="Train Keras models declared in YAML.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

STATE = {"debug": False}

SetOption = typer.Option(None, "--set", "-s", metavar="KEY=VALUE", help="Override a config value, e.g. --set fit.epochs=3 (repeatable).")
BackendOption = typer.Option(None, "--backend", help="Keras backend: jax, tensorflow or torch (overrides the config and KERAS_BACKEND).")
JsonOption = typer.Option(False, "--json", help="Print the result as JSON on stdout.")
QuietOption = typer.Option(False, "--quiet", "-q", help="No progress display.")
PluginOption = typer.Option(None, "--plugin", metavar="MODULE", help="Import a Python module that registers custom Keras objects (repeatable); a config alone never imports code.")


def _load_plugins(modules: Optional[List[str]], backend_cli: Optional[str]) -> None:
    if modules:
        from kerascli.engine import plugins

        plugins.load(modules, backend_cli)


def stdout() -> Console:
    return Console(highlight=False, soft_wrap=True)


def fail(lines: list[str], code: int) -> None:
    """Prints one line per problem on stderr, unwrapped, and exits with `code`."""
    for line in lines:
        sys.stderr.write(line + "\n")
    raise typer.Exit(code)


def handled(command):
    """Turns `KerasCliError` into its message and exit code; Ctrl-C into 130."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except KerasCliError as exc:
            if STATE["debug"]:
                traceback.print_exc()
            fail(exc.lines(), exc.exit_code)
        except KeyboardInterrupt:
            if STATE["debug"]:
                traceback.print_exc()
            fail(["interrupted"], 130)

    return wrapper


def _version(value: bool):
    if value:
        typer.echo(f"kerascli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
):
    """Train Keras models declared in YAML: one config, one command."""
    STATE["debug"] = debug


@app.command()
@handled
def validate(
    configs: List[Path] = typer.Argument(..., help="Config files to check."),
    set_: Optional[List[str]] = SetOption,
    plugin: Optional[List[str]] = PluginOption,
    as_json: bool = JsonOption,
    output_format: str = typer.Option("text", "--format", autocompletion=lambda incomplete: _complete("cli.annotations", "FORMATS", incomplete), help="Problem format: text (file:line:col: ...) or github (GitHub Actions annotations)."),
):
    """Check configs without training (fast: Keras is not imported unless --plugin is given). Exit 2 on any problem."""
    from kerascli.cli.annotations import FORMATS, github
    from kerascli.errors import ConfigError, Problem, UsageError
    from kerascli.run.train import validate as check

    if output_format not in FORMATS:
        raise UsageError(f"--format: expected one of {', '.join(FORMATS)}, got '{output_format}'")
    _load_plugins(plugin, None)

    problems: list[Problem] = []
    for path in configs:
        try:
            check(path, set_ or [])
        except ConfigError as exc:
            problems.extend(exc.problems)
    if as_json:
        typer.echo(json.dumps({"valid": not problems, "problems": [p.__dict__ for p in problems]}, indent=2))
        if problems:
            raise typer.Exit(2)
        return
    if problems:
        if output_format == "github":
            for problem in problems:
                typer.echo(github(problem))  # the Actions runner reads workflow commands from stdout
        fail([p.render() for p in problems], 2)
    for path in configs:
        typer.echo(f"{path}: ok")


@app.command()
@handled
def train(
    config: Optional[Path] = typer.Argument(None, help="The YAML config (not with --resume)."),
    set_: Optional[List[str]] = SetOption,
    backend: Optional[str] = BackendOption,
    output_dir: Optional[Path] = typer.Option(None, "--output-dir", "-o", help="Base directory for runs (default: output.dir, ./runs)."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue an interrupted run directory from its last completed epoch."),
    plugin: Optional[List[str]] = PluginOption,
    quiet: bool = QuietOption,
    as_json: bool = JsonOption,
    plot: bool = typer.Option(False, "--plot", help="Also write the learning curves (learning_curves.png) into the run."),
    coordinator: Optional[str] = typer.Option(None, "--coordinator", envvar="KERAS_DISTRIBUTION_JOB_ADDRESSES", metavar="HOST:PORT",
                                              help="Multi-process training: address of process 0.", rich_help_panel="Multi-process"),
    num_processes: Optional[int] = typer.Option(None, "--num-processes", envvar="KERAS_DISTRIBUTION_NUM_PROCESSES",
                                                help="Multi-process training: how many processes.", rich_help_panel="Multi-process"),
    process_id: Optional[int] = typer.Option(None, "--process-id", envvar="KERAS_DISTRIBUTION_PROCESS_ID",
                                             help="Multi-process training: this process, 0..N-1 (0 writes the run).", rich_help_panel="Multi-process"),
    profile: bool = typer.Option(False, "--profile", help="Print where the time went (phases, compile, throughput) on stderr."),
):
    """Build, compile and fit the model; write a new run directory. Ctrl-C stops after the current batch."""
    from kerascli.engine.distribution import cluster_from
    from kerascli.errors import UsageError
    from kerascli.run.train import train as run_train

    if (config is None) == (resume is None):
        raise UsageError("give either a CONFIG to train or --resume RUN_DIR to continue a run")
    _load_plugins(plugin, backend)
    cluster = cluster_from(coordinator, num_processes, process_id)
    result = run_train(config, set_ or [], backend, output_dir, Console(stderr=True), quiet or as_json, cluster, resume=resume)
    run_dir = str(result.run_dir) if result.run_dir else None  # None on processes other than 0
    plot_path = None
    if plot and run_dir:
        from kerascli.run.plot import write_plot

        plot_path = write_plot(result.run_dir, result.history)
    if profile:
        from kerascli.run.profiling import render

        for line in render(result.timings, result.profile, result.profile.get("settings", {})):
            sys.stderr.write(line + "\n")
    if as_json:
        extra = {"plot": str(plot_path)} if plot_path else {}
        typer.echo(json.dumps({"run_dir": run_dir, "metrics": result.metrics, "timings": result.timings, **extra}, indent=2))
        return
    console = stdout()
    if not quiet:
        console.print(_metrics_table(result.metrics, "final metrics"))
        console.print(_loss_summary(result.history))
    if plot_path:
        console.print(f"learning curves: {plot_path}")
    console.print(f"run: {run_dir}" if run_dir else f"process {cluster.process_id} done; process 0 wrote the run directory")


@app.command()
@handled
def evaluate(
    run: Optional[str] = typer.Argument(None, help="A run directory or a config (default: the latest run under ./runs)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="Batch size (default: evaluate.batch_size)."),
    set_: Optional[List[str]] = SetOption,
    backend: Optional[str] = BackendOption,
    plugin: Optional[List[str]] = PluginOption,
    as_json: bool = JsonOption,
):
    """Loss and metrics of a run on its test data (default: its validation data)."""
    from kerascli.run.train import evaluate as run_evaluate

    _load_plugins(plugin, backend)

    run_dir, metrics = run_evaluate(run, set_ or [], backend, batch_size)
    if as_json:
        typer.echo(json.dumps({"run_dir": str(run_dir), "metrics": metrics}, indent=2))
        return
    console = stdout()
    console.print(_metrics_table(metrics, "evaluation"))
    console.print(f"run: {run_dir}")


@app.command()
@handled
def predict(
    run: Optional[str] = typer.Argument(None, help="A run directory or a config (default: the latest run under ./runs)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="Batch size (default: predict.batch_size)."),
    input_path: Optional[Path] = typer.Option(None, "--input", "-i", help="Data to predict on (default: data.predict)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Predictions file, .csv, .parquet or .npy, written chunk by chunk (default: RUN/predictions.csv)."),
    set_: Optional[List[str]] = SetOption,
    backend: Optional[str] = BackendOption,
    plugin: Optional[List[str]] = PluginOption,
    as_json: bool = JsonOption,
):
    """Predictions of a run, streamed to a CSV or Parquet (labels decoded) or .npy file."""
    from kerascli.run.train import predict as run_predict

    _load_plugins(plugin, backend)

    path, rows = run_predict(run, set_ or [], backend, batch_size, input_path, output)
    if as_json:
        typer.echo(json.dumps({"predictions": str(path), "rows": rows}))
        return
    stdout().print(f"{rows} predictions written to {path}")


@app.command()
@handled
def plot(
    run: Optional[str] = typer.Argument(None, help="A run directory or a config (default: the latest run under ./runs)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="The PNG to write (default: RUN/learning_curves.png)."),
):
    """Learning curves of a run (loss and each metric, train vs validation) as a PNG."""
    from kerascli.run.plot import write_plot
    from kerascli.run.train import find_run

    run_dir, _, _ = find_run(run)
    stdout().print(f"learning curves: {write_plot(run_dir, output=output)}")


@app.command()
@handled
def schema(
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the schema here (default: print it)."),
):
    """The JSON Schema of a config, for editors (YAML language server) and CI."""
    from kerascli.config.schema import build_schema, dumps_schema, write_schema

    if output is None:
        sys.stdout.write(dumps_schema(build_schema()))
        return
    write_schema(output)
    stdout().print(f"schema written to {output}")


@app.command()
@handled
def init(
    template: str = typer.Option("tabular-classifier", "--template", "-t", autocompletion=lambda incomplete: _complete("run.starter", "TEMPLATES", incomplete),
                                 help="tabular-classifier, regression, image-cnn or two-branch."),
    output: Path = typer.Option(Path("kerascli.yaml"), "--output", "-o", help="The config to write."),
    data: Optional[List[Path]] = typer.Option(None, "--data", "-d", help="The training file (.csv/.parquet; .npz for image-cnn); a second --data is the test file."),
    target: Optional[str] = typer.Option(None, "--target", help="The target column (default: the last one) or labels array (default: y)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing config."),
):
    """Write a commented starter config that trains as written on your data."""
    from kerascli.run.starter import write_starter

    path = write_starter(template, data or [], output, target, force)
    stdout().print(f"wrote {path}; next: kerascli train {path} --plot")


@app.command("import")
@handled
def import_model(
    model_file: Path = typer.Argument(..., help="A Keras model saved as .keras (loaded in safe mode; .h5 is refused)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="The config to write (default: print it)."),
    backend: Optional[str] = BackendOption,
):
    """Write the config that rebuilds an existing Keras model (Sequential, functional, shared layers, nested models)."""
    from kerascli.engine import backend as backends
    from kerascli.model.importer import import_model as run_import

    backends.activate(backends.resolve(backend))
    text = run_import(model_file, output)
    if output is None:
        sys.stdout.write(text)
        return
    stdout().print(f"config written to {output}")


def _complete(module: str, attribute: str, incomplete: str) -> list[str]:
    """Shell completion of an option's values, read from the module that defines them."""
    import importlib

    values = getattr(importlib.import_module(f"kerascli.{module}"), attribute)
    return [v for v in values if v.startswith(incomplete)]


def _loss_summary(history: dict) -> str:
    """`loss 1.0986 ▇▅▃▂▁ 0.1230` for the training (and validation) loss."""
    from kerascli.run.plot import sparkline

    lines = []
    for key in ("loss", "val_loss"):
        values = history.get(key) or []
        if values:
            lines.append(f"{key:<9} {float(values[0]):.4f} {sparkline(values)} {float(values[-1]):.4f}")
    return "\n".join(lines)


@app.command()
@handled
def summary(
    config: Path = typer.Argument(..., help="The YAML config."),
    set_: Optional[List[str]] = SetOption,
    backend: Optional[str] = BackendOption,
    as_json: bool = JsonOption,
):
    """Build the model without training; show its layers, output shapes and parameter counts."""
    from kerascli.run.train import summary as run_summary

    info = run_summary(config, set_ or [], backend)
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    table = Table(title=f"model: {info['name']}", title_justify="left")
    for column, justify in (("layer", "left"), ("type", "left"), ("output shape", "left"), ("params", "right")):
        table.add_column(column, justify=justify)
    for row in info["layers"]:
        shape = row["output_shape"]
        shape_text = "?" if shape is None else json.dumps(shape).replace("null", "None")
        name = row["name"] + (f" (x{row['calls']})" if row["calls"] > 1 else "")
        table.add_row(name, row["type"], shape_text, f"{row['params']:,}")
    console = stdout()
    console.print(table)
    console.print(f"total params: {info['total_params']:,}  trainable: {info['trainable_params']:,}  "
                  f"non-trainable: {info['non_trainable_params']:,}")


def _metrics_table(metrics: dict, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        table.add_row(name, f"{float(value):.4f}")
    return table


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
