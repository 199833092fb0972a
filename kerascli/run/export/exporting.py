"""`kerascli export`: write a run's model in another format, verify it, describe it.

    RUN/export/<format>/            (or -o DIR)
        model.onnx                  the artifact (model.xml + model.bin, saved_model/, model.tflite)
        signature.json              inputs, outputs, classes, preprocessing, verification

The steps: check the format's dependencies (a missing one is one line naming
the extra), load the run, take a sample of its validation rows and Keras'
predictions on them, write the artifact in a subprocess on the format's
backend (`worker`), run it there with the format's own runtime, compare, and
only then put the directory in place. Nothing is written when any step fails,
and an existing export is replaced only with `--force`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from kerascli.atomic import replace_dir, staging_dir, write_json
from kerascli.errors import KerasCliError, UsageError
from kerascli.run.export import formats, signature, verify
from kerascli.run.rundir import open_run


@dataclasses.dataclass
class ExportResult:
    """What `export` wrote.

    Args:
        directory: the export directory.
        artifact: the artifact inside it.
        rows: how many rows the verification ran on.
        source: where they came from (`validation` or `train`).
        max_abs_diff: the largest difference from Keras' predictions, per output.
        runtime: the runtime that ran the artifact, with its version.
    """

    directory: Path
    artifact: Path
    rows: int
    source: str
    max_abs_diff: dict[str, float]
    runtime: str


def export(
    target=None, fmt_name: str = "onnx", output=None, force: bool = False, overrides=(), backend_cli=None, plugins=()
):
    """Exports a run as `fmt_name`, verified against Keras' predictions.

    Args:
        target: the run directory or config (None: the latest run under ./runs).
        fmt_name: a name of `formats.FORMATS`.
        output: the export directory (default: `RUN/export/<format>`).
        force: replace an existing export directory.
        overrides: `--set` overrides of the run's config.
        backend_cli: `--backend`, the backend the reference predictions run on.
        plugins: `--plugin` modules registering the custom objects the model
            uses; imported here and in the export subprocess.

    Returns:
        An `ExportResult`.

    Raises:
        UsageError: an unknown format, or an existing output without `force`.
        KerasCliError: a missing dependency, a failed export, or an artifact
            whose outputs differ from Keras' by more than `verify.TOLERANCE`.
    """
    fmt = formats.get(fmt_name)
    if plugins:
        from kerascli.engine import plugins as plugin_modules

        plugin_modules.load(list(plugins), backend_cli)
    ctx = open_run(target, overrides, backend_cli)
    directory = Path(output) if output is not None else ctx.run_dir / "export" / fmt.name
    if directory.exists() and not force:
        raise UsageError(f"{directory} already exists; pass --force to replace it")
    inputs, source = verify.sample(ctx)
    staging = staging_dir(directory)
    try:
        diffs, runtime = _write_verified(fmt, ctx, inputs, source, staging, plugins)
        replace_dir(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    rows = len(next(iter(inputs.values())))
    return ExportResult(directory, directory / fmt.artifact, rows, source, diffs, runtime)


def _write_verified(fmt, ctx, inputs: dict, source: str, staging: Path, plugins) -> tuple[dict, str]:
    """Writes the artifact and `signature.json` into `staging` once its outputs match Keras' on `inputs`.

    Returns:
        The max abs difference per output, and the runtime that ran the artifact.
    """
    expected = verify.reference(ctx.model, inputs)
    described = signature.signature(ctx)
    with tempfile.TemporaryDirectory(prefix="kerascli-export-") as work:
        actual, runtime = _write_and_run(
            fmt, ctx.run_dir / "model.keras", staging / fmt.artifact, inputs, Path(work), plugins
        )
    diffs = verify.compare(expected, actual)
    rows = len(next(iter(inputs.values())))
    worst = max(diffs.values())
    if not worst <= verify.TOLERANCE:
        raise KerasCliError(
            f"export --format {fmt.name}: the artifact's outputs differ from Keras' predict by up to {worst:.3g} "
            f"on {rows} {source} rows (at most {verify.TOLERANCE:g} is accepted); nothing was written"
        )
    described["artifact"] = {"format": fmt.name, "file": fmt.artifact, "exported_on_backend": fmt.backend}
    described["verification"] = {
        "rows": rows,
        "source": source,
        "runtime": runtime,
        "tolerance": verify.TOLERANCE,
        "max_abs_diff": diffs,
    }
    write_json(staging / "signature.json", described)
    return diffs, runtime


def _write_and_run(fmt, model_file: Path, artifact: Path, inputs: dict, work: Path, plugins=()) -> tuple[dict, str]:
    """Runs the worker; returns the artifact's outputs on `inputs` by output name, and the runtime."""
    sample, result = work / "sample.npz", work / "result.json"
    np.savez(sample, **{f"x/{name}": values for name, values in inputs.items()})
    env = dict(os.environ, KERAS_BACKEND=fmt.backend, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"))
    command = [
        sys.executable,
        "-m",
        "kerascli.run.export.worker",
        fmt.name,
        str(model_file),
        str(artifact),
        str(sample),
        str(result),
        *plugins,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise KerasCliError(
            f"export --format {fmt.name} failed on the {fmt.backend} backend: {_last_error(done.stderr)}"
        )
    report = json.loads(result.read_text())
    with np.load(result.with_suffix(".npz"), allow_pickle=False) as outputs:
        actual = {name: outputs[f"y/{name}"] for name in report["outputs"]}
    return actual, report["runtime"]


def _last_error(stderr: str) -> str:
    """The exception line of a traceback on stderr (or its last line)."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.split(":")[0].endswith(("Error", "Exception"))]
    return (errors or lines or ["no output"])[-1]
