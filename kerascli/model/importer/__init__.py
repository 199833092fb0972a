"""`kerascli import`: the config that rebuilds an existing Keras model.

A `.keras` file is loaded with `safe_mode=True` and its architecture read from
`model.get_config()` (Keras' own serialization: layers, their configs and the
tensors each call consumed). Every layer call becomes a node:

- a Sequential model becomes a plain list (each node reads the previous one);
- a functional model names its nodes after its layers and sets `inputs`
  wherever a node does not simply read the node before it;
- a layer called more than once (shared weights) becomes one node with the
  layer's arguments plus `{share: <node>, inputs: ...}` nodes for the other calls;
- a `keras.applications` model used as a layer becomes its one-line node
  (`{type: MobileNetV2, alpha: 0.35, ...}`, see `importer.applications`);
- any other model used as a layer (nested model) becomes a block under
  `blocks:` (its Keras name made a valid, unique block name) and a node of that type.

Only constructor arguments that differ from Keras' defaults (read from the
shipped catalogue) are written, so the config reads like hand-written Keras.
Weights are not carried over: the config describes the architecture.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kerascli.config.catalog import Catalog, load_catalog
from kerascli.errors import KerasCliError
from kerascli.model.importer.converter import MODEL_CLASSES, Converter
from kerascli.model.importer.loading import load_model
from kerascli.model.importer.writing import write_config

__all__ = ["import_model", "load_model", "model_to_config", "write_config"]


def model_to_config(model, catalog: Catalog | None = None) -> dict:
    """The config mapping (`model:` and, for nested models, `blocks:`) of a model.

    Args:
        model: a built `keras.Model` (Sequential or functional).
        catalog: the Keras catalogue; the shipped one by default.

    Returns:
        `{"name": ..., "blocks": {...}?, "model": {"inputs", "layers", "outputs"?}}`.

    Raises:
        KerasCliError: the model uses something a config cannot express
            (a layer output other than the first, call arguments that are not
            tensors, a subclassed model).
    """
    converter = Converter(catalog or load_catalog())
    serialized = {"class_name": model.__class__.__name__, "config": model.get_config()}
    if serialized["class_name"] not in MODEL_CLASSES and not isinstance(serialized["config"].get("layers"), list):
        raise KerasCliError(
            f"model '{model.name}' is a subclassed {serialized['class_name']}; only Sequential and functional models can be imported"
        )
    graph = converter.graph(serialized, top=True)
    out: dict[str, Any] = {"name": _safe_run_name(model.name)}
    if converter.blocks:
        out["blocks"] = converter.blocks
    out["model"] = graph
    return out


def _safe_run_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", name).lstrip(".-") or "imported"


def import_model(path: Path, output: Path | None = None) -> str:
    """Reads a `.keras` file and returns (and optionally writes) its config.

    Args:
        path: the `.keras` model file.
        output: the YAML file to write atomically; nothing is written if None.

    Returns:
        The YAML text.
    """
    model = load_model(Path(path))
    text = write_config(model_to_config(model), Path(path))
    if output is not None:
        from kerascli.atomic import write_text

        write_text(output, text)
    return text
