"""What `run.json` and `config.yaml` record about a run: versions, the resolved config, timings."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import socket
import sys
import time
from pathlib import Path

import yaml

from kerascli import __version__
from kerascli.config import document, spec
from kerascli.config.tables import FILE_SUFFIXES
from kerascli.run import fingerprint


class Timer:
    """Collects wall-clock seconds per phase, for `run.json`."""

    def __init__(self):
        self.timings: dict[str, float] = {}
        self._start = time.perf_counter()

    def phase(self, name: str):
        """A context manager adding the seconds spent inside it to `timings[name]`."""
        timer = self

        class _Phase:
            def __enter__(self):
                self.t = time.perf_counter()

            def __exit__(self, *exc):
                timer.timings[name] = round(timer.timings.get(name, 0.0) + time.perf_counter() - self.t, 4)

        return _Phase()

    def total(self) -> float:
        """Seconds since the timer was made."""
        return round(time.perf_counter() - self._start, 4)

    def report(self) -> dict[str, float]:
        """The phase timings and the total, as `run.json` records them."""
        return {**self.timings, "total": self.total()}


def resolved_config(doc: document.Document, cfg: spec.Config, seed: int) -> dict:
    """The config with defaults filled, the seed fixed and data paths absolute."""
    data = cfg.model_dump(mode="json", exclude_none=True, warnings=False)
    data["name"] = cfg.name or doc.path.stem
    data["seed"] = seed
    for role, source in (data.get("data") or {}).items():
        if not isinstance(source, dict):
            continue
        if "path" in source:
            source["path"] = str(doc.resolve_path(("data", role, "path"), source["path"]).resolve())
        for axis in ("x", "y"):
            value = source.get(axis)
            if isinstance(value, str) and ("path" not in source or value.lower().endswith(FILE_SUFFIXES)):
                source[axis] = str(doc.resolve_path(("data", role, axis), value).resolve())
    _model_paths(data, doc)
    fit = data.get("fit") or {}
    if fit.get("phases"):  # each phase has its own epochs (and a resumed config must validate)
        fit.pop("epochs", None)
        fit.pop("initial_epoch", None)
    return data


def _model_paths(data: dict, doc: document.Document) -> None:
    """Makes `model.weights_from` and nodes' `weights: FILE` absolute, like data paths."""
    model = data.get("model") or {}
    if isinstance(model.get("weights_from"), str):
        model["weights_from"] = str(doc.resolve_path(("model", "weights_from"), model["weights_from"]).resolve())
    lists = [(("model", "layers"), model.get("layers") or [])]
    lists += [(("blocks", name, "layers"), b.get("layers") or []) for name, b in (data.get("blocks") or {}).items()]
    for key, nodes in lists:
        for i, node in enumerate(nodes):
            weights = node.get("weights") if isinstance(node, dict) else None
            if isinstance(weights, str) and weights.endswith(".weights.h5"):
                node["weights"] = str(doc.resolve_path((*key, i, "weights"), weights).resolve())


def config_text(resolved: dict) -> str:
    """The resolved config as the run's `config.yaml` holds it."""
    return yaml.safe_dump(resolved, sort_keys=False)


def versions(keras) -> dict[str, str]:
    """The versions a run depends on."""
    import numpy as np

    return {
        "kerascli": __version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def started(keras, doc: document.Document, seed: int, text: str) -> dict:
    """The `run.json` of a run that has just started."""
    return {
        "status": "running",
        "versions": versions(keras),
        "seed": seed,
        "config_file": str(doc.path),
        "config_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "command": sys.argv,
    }


def provenance(doc: document.Document, resolved: dict) -> dict:
    """What `run.json` records of where a run came from, for `kerascli runs` and `kerascli diff`.

    Returns:
        The start time (UTC), the training process (so `runs` can tell a
        run that died from one still running), the config files (the config
        and those it `extends`), the git commit of the config's repository,
        a content fingerprint of each data file (see `kerascli.run.fingerprint`)
        and the resolved config itself (JSON reads ten times faster than YAML).
    """
    files = doc.files or [doc.path]
    info = {
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "process": {"pid": os.getpid(), "host": socket.gethostname()},
        "config_files": [str(f) for f in files],
        "data_files": fingerprint.data_files(doc, resolved),
        "config": resolved,
    }
    source = fingerprint.git_source(files)
    if source is not None:
        info["source"] = source
    return info


def read(run_dir) -> dict:
    """A run directory's `run.json`, or `{}` when it has none (or it is unreadable)."""
    try:
        return json.loads((Path(run_dir) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
