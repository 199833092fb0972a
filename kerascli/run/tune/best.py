"""`best.yaml`: the best trial's resolved config, ready for `kerascli train`."""

from __future__ import annotations

from pathlib import Path

import optuna

from kerascli.atomic import write_text

BEST_FILE = "best.yaml"


def best_trial(study) -> optuna.trial.FrozenTrial | None:
    """The best complete trial, or None when no trial has completed."""
    try:
        return study.best_trial
    except ValueError:
        return None


def write_best(study, study_dir: Path, metric: str) -> Path | None:
    """Writes the best trial's config to `<study_dir>/best.yaml` (atomically); returns its path.

    The file is the config the trial trained (defaults filled, data paths
    absolute, seed fixed), headed by comments saying where it came from.
    """
    trial = best_trial(study)
    if trial is None or "config" not in trial.user_attrs:
        return None
    params = ", ".join(f"{k}={v}" for k, v in trial.params.items())
    header = (
        f"# The best trial of study '{study.study_name}': trial {trial.number}, {metric} = {trial.value:.6g}\n"
        f"# params: {params}\n"
        f"# trained in: {trial.user_attrs.get('run_dir', '?')}\n"
        f"# train it again with: kerascli train {study_dir / BEST_FILE}\n"
    )
    target = study_dir / BEST_FILE
    write_text(target, header + trial.user_attrs["config"])
    return target
