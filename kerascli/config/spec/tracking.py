"""`tracking:`: where a run is logged besides its run directory."""

from __future__ import annotations

from typing import Optional

from pydantic import Field

from kerascli.config.spec.base import StrictModel


class MlflowSpec(StrictModel):
    """Log the run to MLflow: params, per-epoch metrics, artifacts and tags.

    Args:
        uri: the tracking URI: a local store (`sqlite:///mlruns.db`, relative
            to the working directory) or a server (`http://host:5000`).
            Defaults to `$MLFLOW_TRACKING_URI`, else `sqlite:///mlruns.db`.
        experiment: the MLflow experiment, created when missing. Defaults to
            the run's name.
    """

    uri: Optional[str] = Field(default=None, min_length=1)
    experiment: Optional[str] = Field(default=None, min_length=1)


class TrackingSpec(StrictModel):
    """Experiment trackers a run logs to; a tracker that fails only warns (the run directory is kept).

    Args:
        mlflow: log to MLflow (needs `pip install 'kerascli[mlflow]'`).
    """

    mlflow: Optional[MlflowSpec] = None
