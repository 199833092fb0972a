"""`kerascli tune`: hyperparameter search over config keys, with a live table of its trials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from kerascli.cli.app import (
    BackendOption,
    JsonOption,
    PluginOption,
    QuietOption,
    SetOption,
    app,
    choice,
    fail,
    handled,
    load_plugins,
    stdout,
)

STUDY = "Study"
STATE_STYLES = {"complete": "green", "pruned": "yellow", "failed": "red", "interrupted": "red", "running": "cyan"}

ConfigArgument = Annotated[Path, typer.Argument(help="The YAML config to tune.")]
SpaceOption = Annotated[
    Optional[Path],
    typer.Option("--space", help="A search-space file (default: the config's tune: section, which it replaces)."),
]
TrialsOption = Annotated[
    Optional[int],
    typer.Option(
        "--trials",
        "-n",
        min=1,
        help="Trials the study holds when done (default: tune.trials, else 20; grid: the grid's size).",
    ),
]
TimeoutOption = Annotated[
    Optional[float], typer.Option("--timeout", min=0, help="Seconds after which no new trial starts.")
]
JobsOption = Annotated[
    int,
    typer.Option(
        "--jobs", "-j", min=1, help="Trials at once, each in a process of its own pinned to its share of the cores."
    ),
]
SamplerOption = Annotated[
    Optional[str],
    choice("--sampler", ("tpe", "random", "grid"), help="Optuna sampler (default: tune.sampler, else tpe)."),
]
PrunerOption = Annotated[
    Optional[str], choice("--pruner", ("median", "none"), help="Optuna pruner (default: tune.pruner, else median).")
]
MetricOption = Annotated[
    Optional[str],
    typer.Option(
        "--metric",
        help="Epoch-log key trials are scored by (default: tune.metric, else the callbacks' monitor, else val_loss).",
    ),
]
DirectionOption = Annotated[
    Optional[str],
    choice(
        "--direction",
        ("minimize", "maximize"),
        help="Whether the metric should go down or up (default: from its name).",
    ),
]
StudyOption = Annotated[
    Optional[str], typer.Option("--study", help="Study name (default: the config's name).", rich_help_panel=STUDY)
]
StorageOption = Annotated[
    Optional[str],
    typer.Option(
        "--storage",
        metavar="URL",
        help="Optuna RDB storage shared by every machine of a study, e.g. postgresql://user@host/db "
        "(default: sqlite:///OUTPUT/NAME/tune.db).",
        rich_help_panel=STUDY,
    ),
]
ResumeOption = Annotated[
    bool,
    typer.Option(
        "--resume",
        help="Continue the study (or join it from another machine); starts it if it does not exist.",
        rich_help_panel=STUDY,
    ),
]
ReportOption = Annotated[
    bool,
    typer.Option(
        "--report",
        help="Run nothing: print each parameter's importance and write the optimisation history as a PNG.",
        rich_help_panel=STUDY,
    ),
]
OutputDirOption = Annotated[
    Optional[Path],
    typer.Option("--output-dir", "-o", help="Base directory for runs (default: output.dir, ./runs)."),
]


@app.command()
@handled
def tune(
    config: ConfigArgument,
    space: SpaceOption = None,
    trials: TrialsOption = None,
    timeout: TimeoutOption = None,
    jobs: JobsOption = 1,
    sampler: SamplerOption = None,
    pruner: PrunerOption = None,
    metric: MetricOption = None,
    direction: DirectionOption = None,
    study: StudyOption = None,
    storage: StorageOption = None,
    resume: ResumeOption = False,
    report: ReportOption = False,
    output_dir: OutputDirOption = None,
    set_: SetOption = None,
    backend: BackendOption = None,
    plugin: PluginOption = None,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
):
    """Search hyperparameters over any config key with Optuna; each trial is a normal run, best.yaml trains the best.

    Ctrl-C stops after the current trial(s); --resume continues the study.
    """
    from kerascli.run.tune import Request, open_report
    from kerascli.run.tune import tune as run_tune

    load_plugins(plugin, backend)
    options = {
        "metric": metric,
        "direction": direction,
        "sampler": sampler,
        "pruner": pruner,
        "trials": trials,
        "timeout": timeout,
    }
    request = Request(
        config, space, set_ or [], options, jobs, study, storage, resume, output_dir, backend, plugin or []
    )
    if report:
        _print_report(open_report(request), as_json)
        return
    display = LiveTable(enabled=not (quiet or as_json))
    with display:
        outcome = run_tune(request, refresh=display.refresh)
    if as_json:
        typer.echo(json.dumps(_summary(outcome), indent=2, default=str))
    else:
        _print_outcome(outcome)
    _fail_unless_done(outcome, request)


def _print_outcome(outcome) -> None:
    """The trials' table, where their runs are, and the best trial with its config."""
    console = stdout()
    console.print(trial_table(outcome.rows, outcome.metric, f"study '{outcome.plan.study}'"))
    console.print(f"trial runs: {outcome.plan.study_dir}")
    best = next((r for r in outcome.rows if r.best), None)
    if best is not None:
        console.print(f"best: trial {best.number}, {outcome.metric} {best.value:.6g}  ({_params(best.params)})")
        console.print(f"best config: {outcome.best_file}  (train it: kerascli train {outcome.best_file})")
    else:
        console.print("no trial completed")


def _fail_unless_done(outcome, request) -> None:
    """Exits 1 when every trial failed, 130 with the command that continues the study when interrupted."""
    rows = outcome.rows
    failures = [r for r in rows if r.state == "failed"]
    if not outcome.interrupted and failures and not any(r.state == "complete" for r in rows):
        fail([f"no trial completed; {len(failures)} failed, the last with: {failures[-1].note}"], 1)
    if outcome.interrupted:
        flags = (
            ("--study", request.study),
            ("--space", request.space_file),
            ("--storage", outcome.storage_shown if request.storage else None),
            ("--output-dir", request.output_dir),
        )
        fail(
            [
                f"interrupted: {outcome.finished} of {outcome.settings.trials} trial(s) are done; "
                f"continue with: kerascli tune {request.config} --resume"
                + "".join(f" {flag} {value}" for flag, value in flags if value)
            ],
            130,
        )


def _params(params: dict) -> str:
    return ", ".join(f"{k}={_cell(v)}" for k, v in params.items())


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def trial_table(rows, metric: str, title: str) -> Table:
    """The trials as a rich table: number, state, metric, params, epochs, time, note."""
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("state")
    table.add_column(metric, justify="right")
    names = list(dict.fromkeys(name for row in rows for name in row.params))
    for name in names:
        table.add_column(name, justify="right")
    table.add_column("epochs", justify="right")
    table.add_column("time", justify="right")
    table.add_column("note", overflow="fold")
    for row in rows:
        style = STATE_STYLES.get(row.state, "")
        value = "" if row.value is None else f"{row.value:.4g}"
        table.add_row(
            str(row.number),
            f"[{style}]{row.state}[/{style}]" if style else row.state,
            f"[bold]{value}[/bold]" if row.best else value,
            *(_cell(row.params[n]) if n in row.params else "" for n in names),
            str(row.epochs or ""),
            "" if row.seconds is None else f"{row.seconds:.1f}s",
            row.note,
        )
    return table


class LiveTable:
    """The table of trials, redrawn on stderr while the study runs (at most twice a second)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._live = None

    def __enter__(self):
        if self.enabled:
            self._live = Live(Table(), console=Console(stderr=True), refresh_per_second=2, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc):
        if self._live is not None:
            self._live.__exit__(*exc)

    def refresh(self, rows, metric: str, title: str) -> None:
        if self._live is not None:
            self._live.update(trial_table(rows, metric, title))


def _summary(outcome) -> dict:
    best = next((r for r in outcome.rows if r.best), None)
    return {
        "study": outcome.plan.study,
        "storage": outcome.storage_shown,
        "metric": outcome.metric,
        "direction": outcome.settings.direction,
        "interrupted": outcome.interrupted,
        "best": None if best is None else {"trial": best.number, "value": best.value, "params": best.params},
        "best_file": str(outcome.best_file) if outcome.best_file else None,
        "trials": [
            {
                "number": r.number,
                "state": r.state,
                "value": r.value,
                "params": r.params,
                "epochs": r.epochs,
                "seconds": r.seconds,
                "note": r.note,
            }
            for r in outcome.rows
        ],
    }


def _print_report(result, as_json: bool) -> None:
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "importances": result.importances,
                    "history_png": str(result.history_png),
                    "complete": result.complete,
                },
                indent=2,
            )
        )
        return
    table = Table(
        title=f"parameter importance (Optuna fANOVA, {result.complete} complete trials)", title_justify="left"
    )
    table.add_column("parameter")
    table.add_column("importance", justify="right")
    for name, share in result.importances.items():
        table.add_row(name, f"{share:.3f}")
    console = stdout()
    console.print(table)
    console.print(f"optimisation history: {result.history_png}")
