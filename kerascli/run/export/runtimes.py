"""Running an exported artifact with its own runtime (what a consumer would do), for verification.

Each runner takes the artifact's path and the inputs by name (in the model's
input order) and returns the outputs in the model's output order. None of them
imports Keras.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def run_onnx(path: Path, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """onnxruntime on the CPU, inputs fed by name."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return [np.asarray(v) for v in session.run(None, {i.name: inputs[i.name] for i in session.get_inputs()})]


def run_openvino(path: Path, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """OpenVINO on the CPU in float32 (its default on CPUs with bf16 units is bfloat16, ~1e-3 off)."""
    import openvino

    compiled = openvino.Core().compile_model(str(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    results = compiled([inputs[port.get_any_name()] for port in compiled.inputs])
    return [np.asarray(results[port]) for port in compiled.outputs]


def run_saved_model(path: Path, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """TensorFlow's `saved_model.load`, through the `serving_default` signature Keras writes."""
    import tensorflow as tf

    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    return _by_index(serve(**{name: tf.constant(value) for name, value in inputs.items()}))


def run_litert(path: Path, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The LiteRT interpreter's `serving_default` signature, one row at a time (a LiteRT model's batch is 1)."""
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(path)).get_signature_runner("serving_default")
    rows = len(next(iter(inputs.values())))
    results = [
        _by_index(runner(**{name: value[row : row + 1] for name, value in inputs.items()})) for row in range(rows)
    ]
    return [np.concatenate(parts) for parts in zip(*results)]


def _by_index(outputs: dict) -> list[np.ndarray]:
    """Signature outputs (`output_0`, `output_1`, ...) in their order."""
    return [np.asarray(outputs[key]) for key in sorted(outputs, key=lambda k: int(k.rsplit("_", 1)[-1]))]


RUNNERS = {"onnx": run_onnx, "openvino": run_openvino, "tf_saved_model": run_saved_model, "litert": run_litert}
