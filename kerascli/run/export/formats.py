"""The export formats: what each needs, which backend writes it, what its artifact is called.

Keras writes every format itself (`model.export(path, format=...)`); what a
format needs beyond Keras is a backend that can trace the model and a
runtime that runs the artifact (kerascli verifies every export with it).
Where the writing backend is not the run's, the `.keras` file is reloaded on
that backend in a subprocess (a Keras process runs one backend).

ONNX is written on torch, also for a JAX run: `torch.onnx` (TorchScript
tracing, dynamic batch axis) needs nothing beyond torch and onnx, takes about
a second, and its artifacts matched Keras to ~1e-7 on every model in
configs/. Keras' JAX path goes through `jax2onnx`, which installs some 30
packages (flax, orbax, tensorstore, huggingface-hub, ...), took 20-30 s per
export, and wrote a MaxPool that onnxruntime refuses ("Unsupported pooling
size") for configs/resnet.yaml.
"""

from __future__ import annotations

import dataclasses
import importlib.util

from kerascli.errors import KerasCliError, UsageError


@dataclasses.dataclass(frozen=True)
class Format:
    """One export format.

    Args:
        name: the `--format` value (Keras' own format name).
        artifact: the artifact's file (or directory) name inside the export directory.
        backend: the Keras backend that writes it.
        modules: the importable modules it needs (writer and runtime).
        extra: the kerascli extra that installs them.
        runtime: the module whose version the verification reports.
    """

    name: str
    artifact: str
    backend: str
    modules: tuple[str, ...]
    extra: str
    runtime: str


FORMATS = {
    "onnx": Format("onnx", "model.onnx", "torch", ("torch", "onnx", "onnxruntime"), "onnx", "onnxruntime"),
    "openvino": Format("openvino", "model.xml", "torch", ("torch", "openvino"), "openvino", "openvino"),
    "tf_saved_model": Format(
        "tf_saved_model", "saved_model", "tensorflow", ("tensorflow",), "tensorflow", "tensorflow"
    ),
    "litert": Format(
        "litert", "model.tflite", "tensorflow", ("tensorflow", "ai_edge_litert"), "litert", "ai_edge_litert"
    ),
}


def get(name: str) -> Format:
    """The format called `name`, its dependencies checked to be installed.

    Raises:
        UsageError: an unknown format name.
        KerasCliError: a dependency of the format is not installed (the
            message names the pip command).
    """
    if name not in FORMATS:
        raise UsageError(f"--format: unknown export format '{name}', expected one of: {', '.join(FORMATS)}")
    fmt = FORMATS[name]
    missing = [module for module in fmt.modules if importlib.util.find_spec(module) is None]
    if missing:
        raise KerasCliError(
            f"export --format {name} needs {', '.join(missing)}, which is not installed: "
            f"pip install 'kerascli[{fmt.extra}]'"
        )
    return fmt
