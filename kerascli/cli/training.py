"""Commands that train and use a model: `train`, `evaluate`, `predict`."""

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from kerascli.cli.app import (
    BackendOption,
    ForceOption,
    JsonOption,
    PluginOption,
    QuietOption,
    RunArgument,
    SetOption,
    app,
    handled,
    load_plugins,
    start_backend,
    stdout,
    warn,
)

if TYPE_CHECKING:
    from rich.table import Table

MULTI_PROCESS = "Multi-process"
BatchSizeOption = Annotated[
    Optional[int], typer.Option("--batch-size", min=1, help="Batch size (default: the config's).")
]


OutputDirOption = Annotated[
    Optional[Path], typer.Option("--output-dir", "-o", help="Base directory for runs (default: output.dir, ./runs).")
]
ResumeOption = Annotated[
    Optional[Path],
    typer.Option("--resume", help="Continue an interrupted run directory from its last completed epoch."),
]
PlotOption = Annotated[
    bool, typer.Option("--plot", help="Also write the learning curves (learning_curves.png) into the run.")
]
ProfileOption = Annotated[
    bool, typer.Option("--profile", help="Print where the time went (phases, compile, throughput) on stderr.")
]
CoordinatorOption = Annotated[
    Optional[str],
    typer.Option(
        "--coordinator",
        envvar="KERAS_DISTRIBUTION_JOB_ADDRESSES",
        metavar="HOST:PORT",
        help="Multi-process training: address of process 0.",
        rich_help_panel=MULTI_PROCESS,
    ),
]
NumProcessesOption = Annotated[
    Optional[int],
    typer.Option(
        "--num-processes",
        envvar="KERAS_DISTRIBUTION_NUM_PROCESSES",
        help="Multi-process training: how many processes.",
        rich_help_panel=MULTI_PROCESS,
    ),
]
ProcessIdOption = Annotated[
    Optional[int],
    typer.Option(
        "--process-id",
        envvar="KERAS_DISTRIBUTION_PROCESS_ID",
        help="Multi-process training: this process, 0..N-1 (0 writes the run).",
        rich_help_panel=MULTI_PROCESS,
    ),
]


@app.command()
@handled
def train(
    config: Annotated[Optional[Path], typer.Argument(help="The YAML config (not with --resume).")] = None,
    set_: SetOption = None,
    backend: BackendOption = None,
    output_dir: OutputDirOption = None,
    resume: ResumeOption = None,
    plugin: PluginOption = None,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    plot: PlotOption = False,
    coordinator: CoordinatorOption = None,
    num_processes: NumProcessesOption = None,
    process_id: ProcessIdOption = None,
    profile: ProfileOption = False,
):
    """Build, compile and fit the model; write a new run directory. Ctrl-C stops after the current batch."""
    from rich.console import Console

    from kerascli.errors import UsageError

    if (config is None) == (resume is None):
        raise UsageError("give either a CONFIG to train or --resume RUN_DIR to continue a run")
    load_plugins(plugin, start_backend(config or Path(resume) / "config.yaml", set_ or [], backend))
    from kerascli.engine.distribution import cluster_from
    from kerascli.run.train import train as run_train

    cluster = cluster_from(coordinator, num_processes, process_id)
    result = run_train(
        config,
        set_ or [],
        backend,
        output_dir,
        Console(stderr=True),
        quiet or as_json,
        cluster,
        resume=resume,
        on_warning=warn,
    )
    plot_path = None
    if plot and result.run_dir:
        from kerascli.run.plot import write_plot

        plot_path = write_plot(result.run_dir, result.history)
    if profile:
        from kerascli.run.profiling import render

        for line in render(result.timings, result.profile, result.profile.get("settings", {})):
            sys.stderr.write(line + "\n")
    _show_training(result, plot_path, quiet, as_json, cluster)


def _show_training(result, plot_path, quiet: bool, as_json: bool, cluster) -> None:
    """The final metrics, the loss curve and where the run is (or the same as JSON)."""
    run_dir = str(result.run_dir) if result.run_dir else None  # None on processes other than 0
    if as_json:
        extra = {"plot": str(plot_path)} if plot_path else {}
        data = {"run_dir": run_dir, "metrics": result.metrics, "timings": result.timings, **extra}
        typer.echo(json.dumps(data, indent=2))
        return
    console = stdout()
    if not quiet:
        console.print(final_metrics_table(result.history, result.metrics, result.metrics_source))
        console.print(_loss_summary(result.history))
    if plot_path:
        console.print(f"learning curves: {plot_path}")
    console.print(
        f"run: {run_dir}" if run_dir else f"process {cluster.process_id} done; process 0 wrote the run directory"
    )


def _load_run_plugins(plugin, run, overrides: list[str], backend) -> None:
    """Imports the `--plugin` modules of a command on a finished run, with Keras on the run's backend.

    The plugins are imported before the run is opened (its model needs them),
    so the run's `backend:` is read first: a TensorFlow run is not loaded on JAX.
    """
    if not plugin:
        return
    from kerascli.run.rundir import latest_run

    target = Path(run) if run else latest_run("runs")
    config = target / "config.yaml" if target is not None and target.is_dir() else target
    load_plugins(plugin, start_backend(config, overrides, backend) if config is not None else backend)


@app.command()
@handled
def evaluate(
    run: RunArgument = None,
    batch_size: BatchSizeOption = None,
    set_: SetOption = None,
    backend: BackendOption = None,
    plugin: PluginOption = None,
    as_json: JsonOption = False,
):
    """Loss and metrics of a run on its test data (default: its validation data)."""
    from kerascli.run.inference import evaluate as run_evaluate

    _load_run_plugins(plugin, run, set_ or [], backend)
    run_dir, metrics = run_evaluate(run, set_ or [], backend, batch_size)
    if as_json:
        typer.echo(json.dumps({"run_dir": str(run_dir), "metrics": metrics}, indent=2))
        return
    console = stdout()
    console.print(metrics_table(metrics, "evaluation"))
    console.print(f"run: {run_dir}")


@app.command()
@handled
def predict(
    run: RunArgument = None,
    batch_size: BatchSizeOption = None,
    input_path: Annotated[
        Optional[Path], typer.Option("--input", "-i", help="Data to predict on (default: data.predict).")
    ] = None,
    output: Annotated[
        Optional[Path],
        typer.Option(
            "--output",
            "-o",
            help="Predictions file, .csv, .parquet or .npy, written chunk by chunk (default: RUN/predictions.csv).",
        ),
    ] = None,
    force: ForceOption = False,
    set_: SetOption = None,
    backend: BackendOption = None,
    plugin: PluginOption = None,
    as_json: JsonOption = False,
):
    """Predictions of a run, streamed to a CSV or Parquet (labels decoded) or .npy file."""
    from kerascli.run.inference import predict as run_predict

    _load_run_plugins(plugin, run, set_ or [], backend)
    path, rows = run_predict(run, set_ or [], backend, batch_size, input_path, output, force)
    if as_json:
        typer.echo(json.dumps({"predictions": str(path), "rows": rows}))
        return
    stdout().print(f"{rows} predictions written to {path}")


def metrics_table(metrics: dict, title: str) -> "Table":
    """A two-column table of metric names and values."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        table.add_row(name, f"{float(value):.4f}")
    return table


def final_metrics_table(history: dict, metrics: dict, source: str) -> "Table":
    """The last epoch's training figures beside the final validation figures, each column labelled.

    Args:
        history: the run's history (`loss`, `val_loss`, ... per epoch).
        metrics: the final metrics (`metrics.json`): of the validation data, or
            of the training data when the run has none (`source` says which).
        source: "validation" or "train".
    """
    from rich.table import Table

    train = {k: v[-1] for k, v in history.items() if not k.startswith("val_") and v}
    names = list(dict.fromkeys([*train, *metrics]))
    table = Table(title="final metrics", title_justify="left")
    table.add_column("metric")
    table.add_column("train (last epoch)", justify="right")
    if source == "validation":
        table.add_column("validation", justify="right")
    for name in names:
        row = [name, _number(train.get(name) if source == "validation" else metrics.get(name, train.get(name)))]
        if source == "validation":
            row.append(_number(metrics.get(name)))
        table.add_row(*row)
    return table


def _number(value) -> str:
    return "-" if value is None else f"{float(value):.4f}"


def _loss_summary(history: dict) -> str:
    """`loss 1.0986 ▇▅▃▂▁ 0.1230` for the training (and validation) loss."""
    from kerascli.run.plot import sparkline

    lines = []
    for key in ("loss", "val_loss"):
        values = history.get(key) or []
        if values:
            lines.append(f"{key:<9} {float(values[0]):.4f} {sparkline(values)} {float(values[-1]):.4f}")
    return "\n".join(lines)
