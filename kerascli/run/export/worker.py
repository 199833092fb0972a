"""The export subprocess: reload the `.keras` on the format's backend, export, run the artifact.

    python -m kerascli.run.export.worker FORMAT MODEL_FILE ARTIFACT SAMPLE_NPZ RESULT_JSON [PLUGIN...]

A Keras process runs one backend, so a format written by another backend than
the run's (ONNX on torch for a JAX run) is written here, in a process of its
own. The `--plugin` modules of the command are imported first, so custom
layers resolve as they did in the parent. The model is loaded in safe mode without its optimizer; several outputs
are exported as a tuple in the run's output order (tracers refuse dicts).
The sample file holds the verification inputs (`x/<input>`); the artifact's
outputs on them are written back beside the result (`RESULT_JSON` names the
outputs file and the runtime's version).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import sys
from pathlib import Path

import numpy as np

from kerascli.run.export.formats import FORMATS
from kerascli.run.export.runtimes import RUNNERS


def export(fmt_name: str, model_file: Path, artifact: Path, plugins: list[str] = ()) -> list[str]:
    """Writes the artifact; returns the output names in the artifact's order."""
    from kerascli.engine.keras_import import load_keras

    fmt = FORMATS[fmt_name]
    keras = load_keras(fmt.backend)
    if plugins:
        from kerascli.engine import plugins as plugin_modules

        plugin_modules.load(list(plugins), fmt.backend)
    model = keras.saving.load_model(model_file, compile=False, safe_mode=True)
    model, names = _flat_outputs(keras, model)
    model(_zeros(model, 2))  # Keras exports only a model that has been called
    if keras.backend.backend() == "torch":
        for variable in model.variables:  # traced weights must be constants, not parameters needing grad
            variable.value.requires_grad_(False)
    model.export(str(artifact), format=fmt.name, verbose=False)
    if fmt.name == "onnx":
        rename_onnx_outputs(artifact, names)
    return names


def _flat_outputs(keras, model):
    """The model with a list of inputs and a tuple of outputs (tracers and exporters refuse dicts)."""
    names = list(model.output_names)
    structure = model.output
    if isinstance(structure, dict):
        structure = tuple(structure[name] for name in names)
    outputs = tuple(structure) if isinstance(structure, list) else structure
    inputs = model.inputs[0] if len(model.inputs) == 1 else list(model.inputs)
    return keras.Model(inputs, outputs, name=model.name), names


def _zeros(model, rows: int):
    arrays = [np.zeros((rows, *tensor.shape[1:]), dtype=tensor.dtype) for tensor in model.inputs]
    return arrays[0] if len(arrays) == 1 else arrays


def rename_onnx_outputs(path: Path, names: list[str]) -> None:
    """Names the ONNX graph's outputs after the model's outputs (torch numbers them)."""
    import onnx

    model = onnx.load(str(path))
    mapping = {out.name: name for out, name in zip(model.graph.output, names)}
    for node in model.graph.node:
        node.output[:] = [mapping.get(n, n) for n in node.output]
        node.input[:] = [mapping.get(n, n) for n in node.input]
    for out in model.graph.output:
        out.name = mapping[out.name]
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def main(argv: list[str]) -> int:
    fmt_name, model_file, artifact, sample, result, *plugins = argv
    names = export(fmt_name, Path(model_file), Path(artifact), plugins)
    with np.load(sample, allow_pickle=False) as data:
        inputs = {key[2:]: data[key] for key in data.files if key.startswith("x/")}
    outputs = RUNNERS[fmt_name](Path(artifact), inputs)
    runtime = FORMATS[fmt_name].runtime
    np.savez(Path(result).with_suffix(".npz"), **{f"y/{name}": value for name, value in zip(names, outputs)})
    Path(result).write_text(json.dumps({"outputs": names, "runtime": f"{runtime} {_version(runtime)}"}))
    return 0


def _version(module: str) -> str:
    """The runtime's version (its `__version__`, else its distribution's: tensorflow-cpu, ai-edge-litert)."""
    version = getattr(importlib.import_module(module), "__version__", None)
    if version:
        return str(version)
    try:
        return importlib.metadata.version(module.replace("_", "-"))
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
