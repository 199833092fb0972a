"""`kerascli serve`: a real server in a subprocess on a free loopback port, called with httpx."""

import concurrent.futures
import csv
import importlib.util
import shutil
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from conftest import CONFIGS, REPO
from typer.testing import CliRunner

from kerascli.cli import app
from kerascli.errors import KerasCliError
from kerascli.run.serve import serving

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
MAX_ROWS = 50
MAX_BODY = 4000


def kerascli(*args):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("iris")
    shutil.copytree(CONFIGS / "data", directory / "data")
    shutil.copy(CONFIGS / "iris.yaml", directory / "iris.yaml")
    result = kerascli("train", directory / "iris.yaml", "-o", directory / "runs", "--quiet", "--set", "fit.epochs=2")
    assert result.exit_code == 0, result.output
    return next((directory / "runs").glob("*/*"))


@pytest.fixture(scope="module")
def server(iris_run):
    """`kerascli serve` in a subprocess; stopped with SIGTERM at the end (if a test has not)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "kerascli",
        "serve",
        str(iris_run),
        "--port",
        str(port),
        "--max-batch",
        "8",
        "--max-rows",
        str(MAX_ROWS),
        "--max-body",
        str(MAX_BODY),
    ]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        assert process.poll() is None, process.stdout.read()
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.2)
    process.url = url
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def new_rows():
    return [{c: float(row[c]) for c in COLUMNS} for row in read_csv(CONFIGS / "data" / "iris-new.csv")]


@pytest.mark.slow
def test_predictions_equal_kerascli_predict_on_the_same_rows(server, iris_run, tmp_path):
    rows = new_rows()
    response = httpx.post(f"{server.url}/predict", json={"rows": rows[:MAX_ROWS]})
    assert response.status_code == 200, response.text
    served = response.json()["predictions"]
    result = kerascli("predict", iris_run, "--input", CONFIGS / "data" / "iris-new.csv", "-o", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output
    expected = read_csv(tmp_path / "p.csv")[:MAX_ROWS]
    assert len(served) == len(expected) == min(len(rows), MAX_ROWS)
    for got, want in zip(served, expected):
        assert list(got) == list(want)  # the same columns, in the same order: label, p_setosa, ...
        assert got["label"] == want["label"]
        for column in list(want)[1:]:
            assert got[column] == pytest.approx(float(want[column]), abs=1e-6)


@pytest.mark.slow
def test_concurrent_requests_each_get_their_own_rows(server):
    rows = new_rows()
    alone = [httpx.post(f"{server.url}/predict", json={"rows": [row]}).json()["predictions"][0] for row in rows[:12]]
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        together = list(pool.map(lambda row: httpx.post(f"{server.url}/predict", json={"rows": [row]}), rows[:12]))
    for response, expected in zip(together, alone):
        assert response.status_code == 200
        got = response.json()["predictions"][0]
        assert got["label"] == expected["label"]
        assert got["p_setosa"] == pytest.approx(expected["p_setosa"], abs=1e-6)


@pytest.mark.slow
def test_metadata_and_openapi_describe_the_run(server):
    metadata = httpx.get(f"{server.url}/metadata").json()
    assert metadata["inputs"] == [{"name": "input", "shape": [None, 4], "dtype": "float32", "columns": COLUMNS}]
    assert metadata["outputs"][0]["classes"] == ["setosa", "versicolor", "virginica"]
    assert metadata["versions"]["backend"] == "jax"
    schema = httpx.get(f"{server.url}/openapi.json").json()["components"]["schemas"]["Row"]
    assert list(schema["properties"]) == COLUMNS
    assert schema["required"] == COLUMNS and schema["additionalProperties"] is False


ROW = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"rows": [{k: v for k, v in ROW.items() if k != "petal_width"}]}, "rows[0].petal_width: missing"),
        ({"rows": [{**ROW, "sepal_widht": 1.0}]}, "rows[0].sepal_widht: unknown column (did you mean 'sepal_width'?)"),
        (
            {"rows": [ROW, {**ROW, "sepal_width": "wide"}]},
            'rows[1].sepal_width: input should be a valid number, got "wide"',
        ),
        ({"rows": [{**ROW, "petal_length": [1.0, 2.0]}]}, "rows[0].petal_length: input should be a valid number"),
        ({"rows": [{**ROW, "petal_length": 1e300}]}, "rows[0].petal_length: the value does not fit in float32"),
        ({"rows": []}, "rows: 0 items, expected at least 1"),
        ({"rows": [ROW] * (MAX_ROWS + 1)}, f"rows: {MAX_ROWS + 1} items, expected at most {MAX_ROWS} (--max-rows)"),
        ({"rows": [ROW] * 200}, "bytes is too large, at most 4000 are accepted (--max-body)"),
        ({"row": [ROW]}, "rows: missing"),
        (b'{"rows": [', "body: invalid JSON"),
    ],
    ids=[
        "missing",
        "unknown",
        "string",
        "shape",
        "overflow",
        "empty",
        "too-many-rows",
        "too-large",
        "no-rows-key",
        "not-json",
    ],
)
def test_bad_input_is_a_422_with_a_one_line_reason(server, body, reason):
    if isinstance(body, bytes):
        response = httpx.post(f"{server.url}/predict", content=body, headers={"content-type": "application/json"})
    else:
        response = httpx.post(f"{server.url}/predict", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert reason in detail
    assert "\n" not in detail


@pytest.mark.slow
def test_sigterm_stops_the_server_with_exit_0(server):
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0
    assert "Traceback" not in server.stdout.read()


def test_a_missing_extra_is_one_line_naming_it(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else object())
    with pytest.raises(KerasCliError) as caught:
        serving.require_extra()
    assert caught.value.lines() == ["serve needs uvicorn, which is not installed: pip install 'kerascli[serve]'"]
