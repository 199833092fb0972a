"""The bad-input corpus: every file in tests/bad_inputs/ is one invalid config.

Each case states, in its leading comment lines, what kerascli must answer:

    # run: train --set fit.epochs=1   (optional; the command and its extra options, default `validate`)
    # exit: 2                         (optional; default 2)
    # expect: {config}:5:8: model.layers[0].type: unknown layer 'Dence' (did you mean 'Dense'?)

`{config}` stands for the config's path and `{dir}` for tests/bad_inputs/.
The test checks the first line on stderr exactly, the exit code, that no
traceback is printed and that no run directory is created.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kerascli.cli import app

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = sorted(CORPUS.glob("*.yaml"))


def read_case(path: Path) -> dict:
    """The `# run:`, `# exit:` and `# expect:` header of one case."""
    case = {"run": "validate", "exit": "2", "expect": None}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.startswith("# "):
            break
        key, _, value = line[2:].partition(": ")
        if key in case:
            case[key] = value
    return case


def run_cli(path: Path, command: str, workdir: Path):
    """Runs `kerascli COMMAND PATH EXTRA...` with runs going under `workdir`."""
    name, *extra = shlex.split(command)
    args = [name, str(path), *extra]
    if name == "train":
        args += ["--output-dir", str(workdir / "runs"), "--quiet"]
    return CliRunner().invoke(app, args, catch_exceptions=False)


def normalise(text: str, path: Path) -> str:
    return text.replace(str(path), "{config}").replace(str(CORPUS), "{dir}")


def test_corpus_is_large_enough():
    assert len(CASES) >= 60
    missing = [p.name for p in CASES if read_case(p)["expect"] is None]
    assert not missing, f"cases without an '# expect:' line: {missing}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_input(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    case = read_case(path)
    result = run_cli(path, case["run"], tmp_path)
    stderr = normalise(result.stderr, path)
    assert "Traceback" not in result.output + result.stderr
    assert result.exit_code == int(case["exit"]), stderr
    assert stderr.splitlines()[0] == case["expect"]
    assert not (tmp_path / "runs").exists(), "a failed command left a run directory"


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda d: d / "missing.yaml", "{config}: no such file"),
        (lambda d: (d / "dir.yaml").mkdir() or d / "dir.yaml", "{config}: is a directory, expected a YAML config file"),
        (
            lambda d: (d / "latin1.yaml", (d / "latin1.yaml").write_bytes(b"name: caf\xe9\n"))[0],
            "{config}: cannot read the config: 'utf-8' codec can't decode byte 0xe9 in position 9: invalid continuation byte",
        ),
    ],
    ids=["missing-file", "directory", "not-utf8"],
)
def test_unusable_config_file(make, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = make(tmp_path)
    for command in ("validate", "train"):
        result = run_cli(path, command, tmp_path)
        assert result.exit_code == 2
        assert normalise(result.stderr, path).splitlines()[0] == expected
    assert not (tmp_path / "runs").exists()


def test_unreadable_config_file(tmp_path, monkeypatch):
    import os

    path = tmp_path / "secret.yaml"
    path.write_text("model: {layers: [{type: Dense, units: 1}]}\n")
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads any file: make the read fail as it would for a user

        def refuse(self, *args, **kwargs):
            raise PermissionError(13, "Permission denied", str(self))

        monkeypatch.setattr(Path, "read_text", refuse)
    result = run_cli(path, "validate", tmp_path)
    assert result.exit_code == 2
    assert normalise(result.stderr, path).splitlines()[0] == "{config}: cannot read the config: Permission denied"
