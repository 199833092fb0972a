"""`validate --format github` and the pre-commit hook manifest."""

import re
import shutil

import yaml
from conftest import CONFIGS, REPO, write_config

from kerascli.cli.annotations import github
from kerascli.errors import Problem


def test_github_annotation_escapes_and_locates():
    line = github(Problem("cfg, a.yaml", 14, 7, "model.layers[1]", "Dense got 'unit'\n100%"))
    assert (
        line
        == "::error file=cfg%2C a.yaml,line=14,col=7,title=kerascli validate::model.layers[1]: Dense got 'unit'%0A100%25"
    )


def test_validate_format_github_prints_annotations_for_every_file(cli, workdir):
    good = write_config(workdir, (CONFIGS / "iris.yaml").read_text(), "good.yaml")
    bad = write_config(workdir, "model:\n  layers:\n    - {type: Dense, unit: 3}\nfit: {epoch: 2}\n", "bad.yaml")
    result = cli("validate", "--format", "github", good.name, bad.name)
    assert result.exit_code == 2
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert (
        "::error file=bad.yaml,line=3,col=21,title=kerascli validate::model.layers[0].unit: Dense got an unexpected argument 'unit' (did you mean 'units'?)"
        in annotations
    )
    assert any(a.startswith("::error file=bad.yaml,line=4,col=7,") and "unknown key 'epoch'" in a for a in annotations)
    assert len(annotations) == 2


def test_validate_rejects_an_unknown_format(cli, iris_config):
    result = cli("validate", "--format", "gitlab", iris_config)
    assert result.exit_code == 2
    assert "--format: expected one of text, github, got 'gitlab'" in result.output


def test_pre_commit_manifest_runs_validate_on_configs(cli, workdir):
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(hooks, list) and len(hooks) == 1
    hook = hooks[0]
    # the keys pre-commit requires, with values its manifest schema accepts
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["id"] == "kerascli-validate" and hook["language"] == "python"
    assert set(hook) <= {
        "id",
        "name",
        "entry",
        "language",
        "files",
        "exclude",
        "types",
        "types_or",
        "exclude_types",
        "args",
        "description",
        "require_serial",
        "pass_filenames",
        "minimum_pre_commit_version",
        "always_run",
        "stages",
        "verbose",
        "language_version",
    }
    pattern = re.compile(hook["files"])
    assert pattern.search("configs/iris.yaml") and pattern.search("ml/configs/net.yml")
    assert not pattern.search(".github/workflows/ci.yaml")
    # pre-commit appends the matched files to `entry`
    command, *args = hook["entry"].split()
    assert command == "kerascli"
    shutil.copytree(CONFIGS, workdir / "configs")
    result = cli(*args, "configs/iris.yaml", "configs/keras_note_objects.yaml")
    assert result.exit_code == 0, result.output
