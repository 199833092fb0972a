"""Commands that compare runs: `runs` (a table of the runs under a directory) and `diff` (two runs side by side).

Both read the run directories' JSON files only: Keras is never imported.
"""

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, List, Optional

import typer

from kerascli.cli.app import JsonOption, app, handled, stdout

if TYPE_CHECKING:
    from rich.table import Table

MAX_METRIC_COLUMNS = 4
WIDE = 240


@app.command()
@handled
def runs(
    directory: Annotated[Path, typer.Argument(help="The runs directory (or one run's folder).")] = Path("runs"),
    name: Annotated[
        Optional[str], typer.Option("--name", help="Only runs whose name matches this glob, e.g. 'iris*'.")
    ] = None,
    status: Annotated[
        Optional[List[str]],
        typer.Option(
            "--status", help="Only runs with this status: completed, interrupted, failed, running, died (repeatable)."
        ),
    ] = None,
    since: Annotated[
        Optional[str],
        typer.Option("--since", help="Only runs started since: 2026-12-01, 2026-12-01T10:00, or an age: 30m, 6h, 2d."),
    ] = None,
    sort: Annotated[
        Optional[str],
        typer.Option(
            "--sort", help="Sort by a metric (val_loss), a config key (fit.batch_size) or a column (started, duration)."
        ),
    ] = None,
    reverse: Annotated[bool, typer.Option("--reverse", "-r", help="Sort descending.")] = False,
    as_json: JsonOption = False,
):
    """Table of the runs under ./runs: status, epochs, duration, final metrics and the config keys that differ."""
    from kerascli.run import runs_table

    records = runs_table.select(
        runs_table.read_runs(directory), name, status, runs_table.parse_since(since) if since else None
    )
    records = runs_table.sort_runs(records, sort, reverse)
    varied = runs_table.varied_keys(records)
    if as_json:
        typer.echo(json.dumps([runs_table.to_json(r, varied) for r in records], indent=2))
        return
    console = stdout()
    if not console.is_terminal:
        console.width = WIDE  # a pipe or file gets whole rows, not columns cut to 80 characters
    if not records:
        console.print(f"no runs under {directory}" + (" match the filters" if name or status or since else ""))
        return
    console.print(_runs_table(records, varied, _metric_columns(records, sort)))


def _metric_columns(records, sort: str | None) -> list[str]:
    """The metrics shown: the sort key, the monitored ones, then the validation ones, then the rest; a few."""
    names = list(dict.fromkeys(k for r in records for k in r.metrics))
    monitored = [
        r.config.get(k) for r in records for k in r.config if k.startswith("fit.callbacks[") and k.endswith(".monitor")
    ]
    first = [k for k in [sort, *monitored, "val_loss", "loss"] if k in names]
    ordered = list(dict.fromkeys(first + sorted(names, key=lambda k: (not k.startswith("val_"), names.index(k)))))
    return ordered[:MAX_METRIC_COLUMNS]


def _runs_table(records, varied: list[str], metrics: list[str]) -> "Table":
    from rich.table import Table

    from kerascli.config.document import format_key

    table = Table(title=f"{len(records)} run{'s' if len(records) != 1 else ''}", title_justify="left")
    table.add_column("run", no_wrap=True)
    table.add_column("started", no_wrap=True)
    table.add_column("status")
    table.add_column("epochs", justify="right")
    table.add_column("time", justify="right")
    for metric in metrics:
        table.add_column(metric, justify="right")
    for key in varied:
        table.add_column(format_key(key), style="cyan")
    for r in records:
        started = r.started.astimezone().strftime("%Y-%m-%d %H:%M") if r.started else "?"
        row = [f"{r.name}/{r.run_dir.name}", started, _status(r.status), _text(r.epochs), _duration(r.duration)]
        row += [_number(r.metrics.get(m)) for m in metrics]
        row += [_value(r.setting(k)) for k in varied]
        table.add_row(*row)
    return table


def _status(status: str) -> str:
    colour = {"completed": "green", "interrupted": "yellow", "failed": "red", "died": "red", "running": "blue"}
    return f"[{colour.get(status, 'white')}]{status}[/]"


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def _number(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _value(value: Any, width: int = 40) -> str:
    """A config value in a table cell: numbers short, lists of mappings as their values, paths by their end."""
    if value is None:
        return "-"
    if isinstance(value, list):
        text = " | ".join(" ".join(map(str, v.values())) if isinstance(v, dict) else str(v) for v in value)
        return text if len(text) <= width else text[: width - 1] + "…"
    text = _number(value) if isinstance(value, float) else json.dumps(value) if isinstance(value, dict) else str(value)
    return text if len(text) <= width else "…" + text[-(width - 1) :]


@app.command()
@handled
def diff(
    run_a: Annotated[str, typer.Argument(help="A run directory (or runs/NAME for its latest run).")],
    run_b: Annotated[str, typer.Argument(help="The run to compare it with.")],
    as_json: JsonOption = False,
):
    """What differs between two runs: resolved config, versions, data file contents, final metrics."""
    from kerascli.run.diff import diff_runs, open_run

    result = diff_runs(open_run(run_a), open_run(run_b))
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
        return
    console = stdout()
    console.print(f"a: {result.a.run_dir}\nb: {result.b.run_dir}")
    _section(console, "config", [(k, f"{_value(a, 60)} → {_value(b, 60)}") for k, a, b in result.config])
    _section(console, "versions", [(k, f"{a} → {b}") for k, a, b in result.versions])
    _section(console, "data", [(k, _data_change(a, b)) for k, a, b in result.data])
    console.print(_metrics_table(result.metrics))


def _section(console, title: str, rows: list[tuple[str, str]]) -> None:
    if not rows:
        console.print(f"[bold]{title}[/]: same")
        return
    console.print(f"[bold]{title}[/]:")
    for key, change in rows:
        console.print(f"  {key}: {change}", markup=False)


def _data_change(a: dict | None, b: dict | None) -> str:
    def describe(fingerprint: dict | None) -> str:
        if not fingerprint:
            return "(not used)"
        if fingerprint.get("missing"):
            return f"{fingerprint['path']} (missing)"
        return f"{fingerprint['path']} sha256:{fingerprint['sha256'][:12]} {fingerprint.get('size', '?')} bytes"

    return f"{describe(a)} → {describe(b)}"


def _metrics_table(rows) -> "Table":
    from rich.table import Table

    table = Table(title="final metrics", title_justify="left")
    for column in ("metric", "a", "b", "b - a"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for key, a, b, delta in rows:
        sign = "" if delta is None or math.isnan(delta) else "+" if delta > 0 else ""
        table.add_row(key, _number(a), _number(b), "-" if delta is None else f"{sign}{delta:.4g}")
    return table
