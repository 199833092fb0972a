"""MLflow tracking against a real local store, read back through MLflow's own client; a dead server only warns."""

from __future__ import annotations

import importlib.util
import json
import shutil
import socket

import pytest

pytest.importorskip("mlflow", reason="MLflow tracking needs the mlflow extra: pip install 'kerascli[mlflow]'")

from mlflow.tracking import MlflowClient  # noqa: E402

RUN_FILES = ("config.yaml", "model.keras", "history.json", "metrics.json", "run.json", "labels.json")


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory):
    """An empty MLflow sqlite store, its schema migrated once (seconds) and copied for each test."""
    path = tmp_path_factory.mktemp("mlflow") / "mlruns.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def store(empty_store, workdir):
    """The tracking URI of a fresh local store in the test's working directory."""
    shutil.copy(empty_store, workdir / "mlruns.db")
    return f"sqlite:///{workdir / 'mlruns.db'}"


def _only_run(workdir, name="iris"):
    (run,) = (workdir / "runs" / name).iterdir()
    return run


@pytest.mark.slow
def test_a_run_is_logged_to_mlflow_and_reads_back(cli, iris_config, workdir, store):
    uri = store
    result = cli(
        "train",
        iris_config,
        "--quiet",
        "--set",
        "fit.epochs=2",
        "--set",
        f"tracking.mlflow.uri={uri}",
        "--set",
        "tracking.mlflow.experiment=iris-exp",
    )
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    run_dir = _only_run(workdir)
    info = json.loads((run_dir / "run.json").read_text())
    history = json.loads((run_dir / "history.json").read_text())

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("iris-exp")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_id == info["tracking"]["mlflow"]["run_id"]
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["compile.optimizer.learning_rate"] == "0.01"
    assert params["fit.epochs"] == "2"
    assert params["model.layers.0.units"] == "16"
    assert params["data.train.x.3"] == "petal_width"
    assert not any(key.startswith("tracking.") for key in params)
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        logged = client.get_metric_history(run.info.run_id, key)
        assert [m.step for m in logged] == [0, 1]
        assert [m.value for m in logged] == pytest.approx(history[key], rel=1e-6)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert set(RUN_FILES) <= artifacts
    tags = run.data.tags
    assert tags["kerascli.config_sha256"] == info["config_sha256"]
    assert tags["keras.version"] == info["versions"]["keras"] and tags["keras.backend"] == "jax"
    assert tags["kerascli.run_dir"] == str(run_dir.resolve())


@pytest.mark.slow
def test_the_git_commit_of_the_configs_repository_is_a_tag(cli, iris_config, workdir, store):
    import subprocess

    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t", "-C", str(workdir)]
    if subprocess.run([*git, "init", "-q"]).returncode != 0:
        pytest.skip("git is not available")
    subprocess.run([*git, "add", "iris.yaml"], check=True)
    subprocess.run([*git, "commit", "-qm", "config"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    uri = store
    result = cli("train", iris_config, "--quiet", "--set", "fit.epochs=1", "--set", f"tracking.mlflow.uri={uri}")
    assert result.exit_code == 0, result.output
    info = json.loads((_only_run(workdir) / "run.json").read_text())
    assert info["source"] == {"git_commit": commit, "git_dirty": False}
    run = MlflowClient(tracking_uri=uri).get_run(info["tracking"]["mlflow"]["run_id"])
    assert run.data.tags["mlflow.source.git.commit"] == commit
    assert run.data.tags["kerascli.git_dirty"] == "false"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_tracking_server_warns_and_keeps_the_run(cli, iris_config, workdir, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    uri = f"http://127.0.0.1:{_closed_port()}"
    result = cli("train", iris_config, "--quiet", "--set", "fit.epochs=1", "--set", f"tracking.mlflow.uri={uri}")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"warning: MLflow tracking at {uri}: could not start the MLflow run: ")
    assert result.stderr.rstrip().endswith("tracking stops here, the run directory is complete")
    run_dir = _only_run(workdir)
    assert all((run_dir / name).is_file() for name in RUN_FILES)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "completed" and "tracking" not in info


def test_tracking_without_mlflow_installed_is_a_config_error(cli, iris_config, workdir, monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else find_spec(name, *a))
    result = cli("train", iris_config, "--quiet", "--set", "tracking.mlflow.experiment=x")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "--set tracking.mlflow.experiment=x: tracking.mlflow: MLflow is not installed; "
        "install it with: pip install 'kerascli[mlflow]'"
    )
    assert not (workdir / "runs").exists()


@pytest.mark.slow
def test_an_interrupted_run_is_killed_in_mlflow_and_resume_continues_it(cli, iris_config, workdir, monkeypatch, store):
    import os
    import signal

    from kerascli.engine.keras_import import load_keras
    from kerascli.model import callbacks as build

    keras = load_keras()

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch == 0:
                os.kill(os.getpid(), signal.SIGINT)

    uri = store
    track = ["--quiet", "--set", "fit.epochs=2", "--set", f"tracking.mlflow.uri={uri}"]
    original = build.make_callbacks
    monkeypatch.setattr(build, "make_callbacks", lambda *a, **k: original(*a, **k) + [Interrupt()])
    assert cli("train", iris_config, *track).exit_code == 130
    monkeypatch.setattr(build, "make_callbacks", original)
    run_dir = _only_run(workdir)
    run_id = json.loads((run_dir / "run.json").read_text())["tracking"]["mlflow"]["run_id"]
    client = MlflowClient(tracking_uri=uri)
    assert client.get_run(run_id).info.status == "KILLED"
    assert [m.step for m in client.get_metric_history(run_id, "loss")] == [0]
    assert "history.json" in {a.path for a in client.list_artifacts(run_id)}

    result = cli("train", "--resume", run_dir, "--quiet")
    assert result.exit_code == 0, result.output
    info = json.loads((run_dir / "run.json").read_text())
    assert info["tracking"]["mlflow"]["run_id"] == run_id
    assert info["config_files"] == [str(iris_config.resolve())]  # where it came from, not the run's config.yaml
    assert client.get_run(run_id).info.status == "FINISHED"
    assert [m.step for m in client.get_metric_history(run_id, "loss")] == [0, 1]
    assert len(client.search_runs([client.get_experiment_by_name("iris").experiment_id])) == 1


@pytest.mark.slow
def test_a_store_that_fails_mid_run_warns_once_and_the_run_completes(cli, iris_config, workdir, monkeypatch, store):
    from mlflow.exceptions import MlflowException

    log_batch = MlflowClient.log_batch

    def fail_on_metrics(self, run_id, metrics=(), **kwargs):
        if metrics:
            raise MlflowException("the tracking server went away")
        return log_batch(self, run_id, metrics=metrics, **kwargs)

    monkeypatch.setattr(MlflowClient, "log_batch", fail_on_metrics)
    result = cli("train", iris_config, "--quiet", "--set", "fit.epochs=3", "--set", f"tracking.mlflow.uri={store}")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: MLflow tracking at {store}: could not log epoch 1: the tracking server went away; "
        "tracking stops here, the run directory is complete"
    ]
    run_dir = _only_run(workdir)
    assert all((run_dir / name).is_file() for name in RUN_FILES)
    assert len(json.loads((run_dir / "history.json").read_text())["loss"]) == 3
    run_id = json.loads((run_dir / "run.json").read_text())["tracking"]["mlflow"]["run_id"]
    client = MlflowClient(tracking_uri=store)
    assert client.get_run(run_id).info.status == "RUNNING"  # tracking stopped: the run is left as it was
    assert client.get_metric_history(run_id, "loss") == []
