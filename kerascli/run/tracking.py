"""`tracking: {mlflow: ...}`: log a run to MLflow through MLflow's own client.

The run directory stays the record: MLflow gets a copy. What it gets:

- **params**: the resolved config, flattened to dotted keys
  (`compile.optimizer.learning_rate`, `model.layers.0.units`; MLflow keys
  allow no brackets), the `tracking` section itself left out;
- **metrics**: every value Keras logs at the end of an epoch, with the epoch
  (0-based, as in `history.json`) as its step;
- **artifacts**: `config.yaml`, `run.json`, `history.json`, `metrics.json`,
  `labels.json` and `model.keras`, at the end (also of a failed or
  interrupted run: whatever it has);
- **tags**: the config's SHA-256, the kerascli, Keras and backend versions,
  the config files, the run directory, and the git commit of the config's
  repository (`mlflow.source.git.commit`) when it is in one.

A tracking failure (server down, store locked, disk full) never costs the
local run: it prints one warning and tracking stops for the rest of the run.
MLflow retries an unreachable server for minutes by default; unless the user
set them, kerascli lowers that to 2 retries and a 20 s timeout per request.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable

from kerascli.config.document import Document
from kerascli.config.spec.tracking import MlflowSpec
from kerascli.engine.keras_import import load_keras
from kerascli.errors import ConfigError

keras = load_keras()

DEFAULT_URI = "sqlite:///mlruns.db"
INSTALL = "pip install 'kerascli[mlflow]'"
ARTIFACTS = ("config.yaml", "run.json", "history.json", "metrics.json", "labels.json", "model.keras")
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}
_BAD_KEY_CHARS = re.compile(r"[^\w./\- ]")


def check_installed(spec: MlflowSpec | None, doc: Document) -> None:
    """Raises a `ConfigError` at `tracking.mlflow` when MLflow is asked for and not installed."""
    if spec is not None and importlib.util.find_spec("mlflow") is None:
        raise ConfigError([doc.problem(("tracking", "mlflow"), f"MLflow is not installed; install it with: {INSTALL}")])


class MlflowTracker(keras.callbacks.Callback):
    """Logs a run to MLflow: call `start` before `fit`, pass it as a callback, call `finish` after.

    Args:
        spec: the `tracking.mlflow` section.
        name: the run's name (the experiment's, unless the spec names one).
    """

    def __init__(self, spec: MlflowSpec, name: str):
        super().__init__()
        self.uri = spec.uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI
        self.experiment = spec.experiment or name
        self.client = None
        self.run_id: str | None = None
        # How many epochs the run has completed (the checkpointer knows): an epoch that Ctrl-C
        # cut short still reaches `on_epoch_end`, with partial logs that must not be logged.
        self.completed_epochs: Callable[[], int] | None = None

    def start(self, run_dir: Path, resolved: dict, run_info: dict, previous: dict | None = None) -> dict | None:
        """Creates the MLflow run (or reopens it, on `--resume`) and logs params and tags.

        Args:
            run_dir: the run directory (its name ends the MLflow run name).
            resolved: the resolved config (logged as params).
            run_info: the run's `run.json` so far (versions, config hash, files).
            previous: what `run.json` recorded under `tracking.mlflow` before a
                `--resume`; its MLflow run is continued when it is in the same store.

        Returns:
            What `run.json` records under `tracking.mlflow` (uri, experiment,
            run id), or None when MLflow failed (after a warning).
        """
        try:
            from mlflow.tracking import MlflowClient

            for variable, value in HTTP_DEFAULTS.items():
                os.environ.setdefault(variable, value)
            for logger in ("mlflow", "alembic"):  # schema migrations of a new store log at INFO
                logging.getLogger(logger).setLevel(logging.WARNING)
            self.client = MlflowClient(tracking_uri=self.uri)
            if previous and previous.get("uri") == self.uri and previous.get("run_id"):
                self.client.update_run(previous["run_id"], status="RUNNING")
                self.run_id = previous["run_id"]
                return dict(previous)
            experiment = self.client.get_experiment_by_name(self.experiment)
            experiment_id = experiment.experiment_id if experiment else self.client.create_experiment(self.experiment)
            run_name = f"{resolved['name']}-{run_dir.name}"
            self.run_id = self.client.create_run(
                experiment_id, run_name=run_name, tags=tags(run_dir, run_info)
            ).info.run_id
            self._log_params(resolved)
        except Exception as exc:  # noqa: BLE001 - any failure of the tracker must leave the run alone
            self._give_up("could not start the MLflow run", exc)
            return None
        return {"uri": self.uri, "experiment": self.experiment, "experiment_id": experiment_id, "run_id": self.run_id}

    def _log_params(self, resolved: dict) -> None:
        from mlflow.entities import Param
        from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH, MAX_PARAMS_TAGS_PER_BATCH

        items = [Param(key, text[:MAX_PARAM_VAL_LENGTH]) for key, text in params(resolved).items()]
        for i in range(0, len(items), MAX_PARAMS_TAGS_PER_BATCH):
            self.client.log_batch(self.run_id, params=items[i : i + MAX_PARAMS_TAGS_PER_BATCH])

    def on_epoch_end(self, epoch, logs=None):
        """Logs the epoch's metrics with the epoch as their step."""
        if self.run_id is None or not logs:
            return
        if self.completed_epochs is not None and self.completed_epochs() < epoch + 1:
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(_key(k), float(v), now, int(epoch)) for k, v in logs.items() if _number(v)]
        try:
            self.client.log_batch(self.run_id, metrics=metrics)
        except Exception as exc:  # noqa: BLE001
            self._give_up(f"could not log epoch {epoch + 1}", exc)

    def finish(self, run_dir: Path, status: str) -> None:
        """Uploads the run's files and ends the MLflow run.

        Args:
            run_dir: the run directory.
            status: the run's `run.json` status (`completed`, `failed`, `interrupted`).
        """
        if self.run_id is None:
            return
        try:
            for name in ARTIFACTS:
                if (run_dir / name).is_file():
                    self.client.log_artifact(self.run_id, str(run_dir / name))
            state = {"completed": "FINISHED", "interrupted": "KILLED"}.get(status, "FAILED")
            self.client.set_terminated(self.run_id, state)
        except Exception as exc:  # noqa: BLE001
            self._give_up("could not upload the run's files", exc)

    def _give_up(self, what: str, exc: Exception) -> None:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if len(reason) > 240:
            reason = reason[:240] + "..."
        sys.stderr.write(
            f"warning: MLflow tracking at {self.uri}: {what}: {reason}; "
            "tracking stops here, the run directory is complete\n"
        )
        self.run_id = None


def params(resolved: dict) -> dict[str, str]:
    """The resolved config as MLflow params: dotted keys, string values; `tracking` left out."""
    out: dict[str, str] = {}

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict) and value:
            for name, item in value.items():
                walk(item, f"{key}.{name}" if key else str(name))
        elif isinstance(value, list) and value:
            for i, item in enumerate(value):
                walk(item, f"{key}.{i}")
        else:
            out[_key(key)] = "null" if value is None else str(value)

    walk({k: v for k, v in resolved.items() if k != "tracking"}, "")
    return out


def tags(run_dir: Path, run_info: dict) -> dict[str, str]:
    """The MLflow tags of a run: where it came from and what it ran on."""
    from mlflow.utils.mlflow_tags import MLFLOW_GIT_COMMIT, MLFLOW_SOURCE_NAME

    versions = run_info.get("versions") or {}
    out = {
        "kerascli.config_sha256": run_info.get("config_sha256", ""),
        "kerascli.version": versions.get("kerascli", ""),
        "keras.version": versions.get("keras", ""),
        "keras.backend": versions.get("backend", ""),
        "kerascli.run_dir": str(run_dir.resolve()),
        "kerascli.config_files": " ".join(run_info.get("config_files") or []),
        MLFLOW_SOURCE_NAME: str(run_info.get("config_file", "")),
    }
    source = run_info.get("source") or {}
    if source.get("git_commit"):
        out[MLFLOW_GIT_COMMIT] = source["git_commit"]
        if source.get("git_dirty") is not None:
            out["kerascli.git_dirty"] = str(source["git_dirty"]).lower()
    return out


def _key(name: str) -> str:
    return _BAD_KEY_CHARS.sub("_", name)


def _number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
