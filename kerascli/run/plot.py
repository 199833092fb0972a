"""Learning curves of a run, or of several overlaid: a PNG for people, a sparkline for terminals.

`plot_history` draws one panel per quantity Keras recorded (the loss, each
metric, and for several outputs each output's loss and metrics), with the
training curve and, where there is one, the validation curve (`val_<key>`).
`plot_histories` overlays several runs, one colour per run, to compare them.
matplotlib is imported lazily, with the non-interactive Agg canvas, so
training on a server without a display works and commands that do not plot
never pay for the import.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from kerascli.atomic import atomic_path
from kerascli.config.tables import PLOT_FILE
from kerascli.errors import KerasCliError, UsageError

_SPARK = "▁▂▃▄▅▆▇█"


def panels(history: dict[str, list]) -> list[str]:
    """The quantities to plot, one panel each: the loss, then the others as recorded.

    Args:
        history: `History.history` (as in `history.json`).

    Returns:
        Keys without the `val_` prefix: `["loss", "accuracy"]`, or
        `["loss", "digit_loss", "size_loss", "digit_accuracy", ...]` for a
        model with outputs `digit` and `size`.
    """
    keys: list[str] = []
    for key in history:
        if key == "phase":  # the phase number of each epoch (fit.phases), not a curve
            continue
        base = key[4:] if key.startswith("val_") else key
        if base not in keys and _numeric(history.get(base) or history.get(f"val_{base}")):
            keys.append(base)
    return sorted(keys, key=lambda k: k != "loss")  # the total loss first, then as recorded


def _numeric(values) -> bool:
    return isinstance(values, list) and any(isinstance(v, (int, float)) for v in values)


def plot_history(history: dict[str, list], title: str = ""):
    """Draws the learning curves of one run.

    Args:
        history: `History.history`: one list per key, one value per epoch.
        title: the figure title (e.g. the run name).

    Returns:
        A `matplotlib.figure.Figure` with one `Axes` per entry of `panels()`.

    Raises:
        KerasCliError: the history holds no numbers to plot.
    """
    return plot_histories({"": history}, title)


def plot_histories(histories: dict[str, dict[str, list]], title: str = ""):
    """Draws the learning curves of several runs, overlaid: one colour per run.

    Args:
        histories: `{run label: History.history}`; with one run, its label
            may be empty (the curves are then just "train" and "validation").
        title: the figure title.

    Returns:
        A `matplotlib.figure.Figure` with one `Axes` per quantity any run
        recorded (`panels()` of each, in first-seen order); a training curve
        is solid, a validation curve dashed, in its run's colour.

    Raises:
        KerasCliError: no history holds numbers to plot.
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    from matplotlib.figure import (
        Figure,  # a Figure made directly uses the Agg canvas, no pyplot state
    )

    keys = list(dict.fromkeys(k for history in histories.values() for k in panels(history)))
    if not keys:
        raise KerasCliError("the run's history has no loss or metric values to plot")
    keys.sort(key=lambda k: k != "loss")
    cols = min(3, len(keys))
    rows = math.ceil(len(keys) / cols)
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows), layout="constrained")
    colours = [f"C{i % 10}" for i in range(len(histories))]
    for i, key in enumerate(keys):
        ax = fig.add_subplot(rows, cols, i + 1)
        for (label, history), colour in zip(histories.items(), colours):
            _plot_run(ax, history, key, label, colour)
        ax.set_title(key)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def _plot_run(ax, history: dict[str, list], key: str, label: str, colour: str) -> None:
    """The training (solid) and validation (dashed) curves of `key` in one run."""
    for name, part, style in ((key, "train", "-"), (f"val_{key}", "validation", "--")):
        values = history.get(name)
        if _numeric(values):
            epochs = range(1, len(values) + 1)
            ax.plot(
                epochs,
                [v if isinstance(v, (int, float)) else float("nan") for v in values],
                style,
                color=colour,
                marker="o" if len(values) < 15 else None,
                markersize=3,
                label=f"{label} {part}" if label else part,
            )


def read_history(run_dir: Path) -> dict[str, list]:
    """The `history.json` of a run directory.

    Raises:
        UsageError: the directory has no history (not a finished run).
    """
    path = Path(run_dir) / "history.json"
    if not path.is_file():
        raise UsageError(f"{run_dir} has no history.json; is it a finished run directory?")
    try:
        history = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KerasCliError(f"cannot read {path}: {exc}") from None
    if not isinstance(history, dict):
        raise KerasCliError(f"{path}: holds no JSON object (one list per metric); the run directory is damaged")
    return history


def write_plot(run_dir: Path, history: dict[str, list] | None = None, output: Path | None = None) -> Path:
    """Writes the learning curves of a run as a PNG (atomically).

    Args:
        run_dir: the run directory.
        history: the history to plot; read from `run_dir` when absent.
        output: where to write; default `run_dir/learning_curves.png`.

    Returns:
        The path of the PNG.
    """
    run_dir = Path(run_dir)
    history = read_history(run_dir) if history is None else history
    fig = plot_history(history, title=f"{run_dir.parent.name} / {run_dir.name}")
    target = Path(output) if output else run_dir / PLOT_FILE
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return target


def write_comparison(run_dirs: list[Path], output: Path, force: bool = False) -> Path:
    """Writes the learning curves of several runs, overlaid, as one PNG (atomically).

    Args:
        run_dirs: the run directories, in legend order.
        output: the PNG to write.
        force: overwrite `output` when it exists.

    Returns:
        The path of the PNG.

    Raises:
        UsageError: `output` exists and `force` is not set, or a run has no history.
    """
    output = Path(output)
    if output.exists() and not force:
        raise UsageError(f"{output} exists; pass --force to overwrite it, or --output another file")
    histories = {}
    for label, run_dir in zip(run_labels(run_dirs), run_dirs):
        histories[label] = read_history(run_dir)
    title = " vs ".join(histories) if len(histories) <= 3 else f"{len(histories)} runs"
    fig = plot_histories(histories, title=title)
    with atomic_path(output) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return output


def run_labels(run_dirs: list[Path]) -> list[str]:
    """Legend labels: `name/timestamp`, or just the timestamp when every run has the same name."""
    run_dirs = [Path(r).resolve() for r in run_dirs]
    if len({r.parent.name for r in run_dirs}) == 1:
        labels = [r.name for r in run_dirs]
    else:
        labels = [f"{r.parent.name}/{r.name}" for r in run_dirs]
    if len(set(labels)) < len(labels):  # the same run twice, or equal stamps in different folders
        labels = [str(r) for r in run_dirs]
    return labels


def sparkline(values: list, width: int = 40) -> str:
    """A one-line chart of `values` (`▇▅▃▂▁`), resampled to at most `width` marks.

    Non-finite values show as spaces.
    """
    finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    if not finite:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [values[int(i * step)] for i in range(width - 1)] + [values[-1]]
    low, high = min(finite), max(finite)
    span = high - low
    marks = []
    for v in values:
        if not (isinstance(v, (int, float)) and math.isfinite(v)):
            marks.append(" ")
        elif span == 0:
            marks.append(_SPARK[len(_SPARK) // 2])
        else:
            marks.append(_SPARK[min(len(_SPARK) - 1, int((v - low) / span * (len(_SPARK) - 1) + 0.5))])
    return "".join(marks)
