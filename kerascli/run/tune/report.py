"""`kerascli tune --report`: how much each parameter mattered, and the optimisation history as a PNG.

Both are Optuna's own: `optuna.importance.get_param_importances` (fANOVA,
which needs scikit-learn, part of the `kerascli[tune]` extra) and
`optuna.visualization.matplotlib.plot_optimization_history`.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import optuna

from kerascli.atomic import atomic_path
from kerascli.errors import UsageError

HISTORY_FILE = "history.png"


@dataclasses.dataclass
class Report:
    """What `--report` found.

    Args:
        importances: parameter → its share of the variance of the metric (summing to 1).
        history_png: the optimisation-history plot.
        complete: the number of complete trials it is based on.
    """

    importances: dict[str, float]
    history_png: Path
    complete: int


def report(study, study_dir: Path, metric: str) -> Report:
    """Parameter importances and the history plot of `study` (written to `<study_dir>/history.png`).

    Raises:
        UsageError: fewer than two complete trials.
    """
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 2:
        raise UsageError(
            f"study '{study.study_name}' has {len(complete)} complete trial(s); "
            "a report needs at least 2 (run more with --resume)"
        )
    try:
        importances = optuna.importance.get_param_importances(study)
    except ImportError as exc:
        raise UsageError(f"parameter importances need scikit-learn: pip install 'kerascli[tune]' ({exc})") from None
    except (RuntimeError, ValueError) as exc:
        raise UsageError(f"cannot compute parameter importances: {exc}") from None
    return Report(dict(importances), write_history(study, Path(study_dir) / HISTORY_FILE, metric), len(complete))


def write_history(study, target: Path, metric: str) -> Path:
    """Saves Optuna's optimisation-history plot of `study` as a PNG (atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        axes = optuna.visualization.matplotlib.plot_optimization_history(study)
    axes.set_ylabel(metric)
    axes.set_title(f"study '{study.study_name}': {metric} by trial")
    figure = axes.figure
    figure.set_size_inches(8, 5)
    figure.tight_layout()
    with atomic_path(target) as tmp:
        figure.savefig(tmp, dpi=100)
    plt.close(figure)
    return target
