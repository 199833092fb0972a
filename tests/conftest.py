"""Shared fixtures: an isolated Keras home, a temp working dir, the CLI runner."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="kerascli-keras-home-"))
# kerascli's XLA compilation cache (kerascli.engine.speed): one per test session.
os.environ.setdefault("KERASCLI_CACHE_DIR", tempfile.mkdtemp(prefix="kerascli-xla-cache-"))

import pytest  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from kerascli.cli import app  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs"


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A temp working directory (runs land under ./runs here)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def cli(workdir):
    """Runs `kerascli ARGS...` in-process; returns the click Result."""
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture
def iris_config(workdir) -> Path:
    """A copy of configs/iris.yaml and its data inside the temp dir."""
    shutil.copytree(CONFIGS / "data", workdir / "data")
    target = workdir / "iris.yaml"
    shutil.copy(CONFIGS / "iris.yaml", target)
    return target


def write_config(directory: Path, text: str, name: str = "config.yaml") -> Path:
    """Writes a config beside a copy of the shipped data; returns its path."""
    if not (directory / "data").exists():
        shutil.copytree(CONFIGS / "data", directory / "data")
    path = directory / name
    path.write_text(text)
    return path
