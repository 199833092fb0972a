"""Preprocessing layers that learn their state from data: adapted on the training rows, before `fit`.

Every layer of the built model that has Keras' `adapt()` and was given no
state in the config (`Normalization` without `mean`/`variance`,
`Discretization` without `bin_boundaries`, `StringLookup`/`IntegerLookup`/
`TextVectorization` without `vocabulary`) is adapted on the training rows
only, never validation or test rows, and on the exact tensor that reaches it
in the graph: a sub-model from the model inputs to the layer's input
computes it, so upstream layers (a custom standardisation, another adapted
layer) are applied first. Layers are adapted in graph order. Data that is in
memory and reaches the layer unchanged goes to `layer.adapt()` whole, as a
Keras user would call it; anything else is fed in chunks of rows, so the set
is never held twice: `update_state()` per chunk for the layers that have it,
and for `Normalization` (which has none) per-chunk moments merged with the
formula Keras' own `adapt()` uses on a dataset (each chunk a backend tensor,
reduced by Keras on the backend). `adapt: false` on a node
turns it off. The state lands in the layer's variables and config, so it is
inside `model.keras`.

Raw strings (a model input declared `dtype: string`, TensorFlow backend)
are handed to Keras as string tensors, so `TextVectorization` after a custom
standardisation is adapted on the standardised strings.

`check_stack` fails a config early when it names a layer the installed
stack cannot run (Keras' string layers need TensorFlow, and the TensorFlow
backend to run inside a model), or a string model input on another backend
(the default install's data layer encodes strings to ids instead:
`data.text`, `data.categories`).
"""

from __future__ import annotations

import importlib.util
import math
import time

import numpy as np

from kerascli.config.catalog import load_catalog
from kerascli.config.document import Document
from kerascli.config.spec import Config
from kerascli.engine.strings import is_strings, to_keras
from kerascli.errors import ConfigError

STATE_ARGUMENTS = {
    "Normalization": ("mean", "variance"),
    "Discretization": ("bin_boundaries",),
    "StringLookup": ("vocabulary",),
    "IntegerLookup": ("vocabulary",),
    "TextVectorization": ("vocabulary",),
}
"""Adaptable Keras layers and the constructor arguments that give their state instead."""

TF_ONLY_HINT = {
    "StringLookup": "data.categories: {COLUMN: {}}",
    "IntegerLookup": "data.categories: {COLUMN: {}}",
    "TextVectorization": "data.text: {COLUMN: {max_tokens: 20000, output_sequence_length: 200}}",
    "Hashing": "data.categories: {COLUMN: {}}",
}
CHUNK_BYTES = 64 * 2**20


def check_stack(cfg: Config, doc: Document, backend_name: str) -> None:
    """Fails when a node names a layer the installed packages or the backend cannot run.

    Raises:
        ConfigError: one problem per such node, with the pip command and the
            default install's alternative.
    """
    catalog = load_catalog()
    problems = [
        doc.problem(
            ("model", "inputs", name, "dtype"),
            f"string inputs reach the graph on the TensorFlow backend only, not {backend_name}: set backend: "
            "tensorflow (pip install 'kerascli[tensorflow]'); on the default install, encode the column in the data "
            "instead (data.text or data.categories) and leave the dtype out: the input receives its ids",
        )
        for name, spec in (cfg.model.inputs or {}).items()
        if spec.dtype == "string" and backend_name != "tensorflow"
    ]
    places = [(("model", "layers", i), node) for i, node in enumerate(cfg.model.layers)]
    for name, block in (cfg.blocks or {}).items():
        places += [(("blocks", name, "layers", i), node) for i, node in enumerate(block.layers)]
    for key, node in places:
        entry = catalog.get("layers", node.type) if node.type else None
        if entry is None or not entry.requires:
            continue
        missing = [p for p in entry.requires if importlib.util.find_spec(p.replace("-", "_")) is None]
        alternative = TF_ONLY_HINT.get(node.type)
        instead = (
            f"; on the default install, encode the column in the data instead: {alternative}" if alternative else ""
        )
        if missing:
            install = (
                "pip install 'kerascli[tensorflow]'"
                if missing == ["tensorflow"]
                else f"pip install {' '.join(missing)}"
            )
            problems.append(
                doc.problem(
                    key,
                    f"{node.type} needs {', '.join(missing)}, which is not installed: {install}, "
                    f"and set backend: tensorflow{instead}",
                )
            )
        elif "tensorflow" in entry.requires and backend_name != "tensorflow":
            problems.append(
                doc.problem(
                    key,
                    f"{node.type} runs on TensorFlow ops, which Keras cannot compile into a "
                    f"{backend_name} model: set backend: tensorflow{instead}",
                )
            )
    if problems:
        raise ConfigError(problems)


def adapt_model(model, cfg: Config, doc: Document, train, *, batch_size: int | None = None, log=None) -> list[dict]:
    """Adapts every preprocessing layer of `model` that has no state, on the training data `train`.

    Args:
        model: the built (uncompiled) Keras model.
        cfg: the config (for `adapt: false` and error locations).
        doc: the config document.
        train: the training `kerascli.data.Arrays` (after any validation split),
            read whole or through its `input_blocks`.
        batch_size: rows per `predict` batch for the sub-models.
        log: called with one line per adapted layer.

    Returns:
        One record per adapted layer: `layer`, `class`, `rows`, `seconds`,
        and `input` (the model input it read, or the node before it).
    """
    keras = _keras()
    off = _switched_off(cfg)
    records = []
    for layer, chain in _adaptable(model):
        if layer.name in off:
            continue
        start = time.perf_counter()
        source = _adapt_one(keras, model, layer, chain, train, batch_size or 1024, doc, cfg)
        record = {
            "layer": layer.name,
            "class": type(layer).__name__,
            "rows": len(train),
            "seconds": round(time.perf_counter() - start, 4),
            "input": source,
        }
        records.append(record)
        if log is not None:
            log(
                f"adapted {record['layer']} ({record['class']}) on {record['rows']} training rows "
                f"of {source} in {record['seconds']:.2f} s"
            )
    return records


def _keras():
    from kerascli.engine.keras_import import load_keras

    return load_keras()


def _switched_off(cfg: Config) -> set[str]:
    """Layer names of nodes with `adapt: false` (a repeated node's copies included; block nodes by their name)."""
    names = set()
    nodes = list(zip(cfg.model.node_names(), cfg.model.layers))
    for block in (cfg.blocks or {}).values():
        nodes += list(zip(block.node_names(), block.layers))
    for name, node in nodes:
        if not node.adapt:
            names.add(name)
            names.update(f"{name}_{r + 1}" for r in range(node.repeat if isinstance(node.repeat, int) else 0))
    return names


def needs_state(layer) -> bool:
    """Whether `layer` is an adaptable Keras layer that was given none of its state."""
    arguments = next((STATE_ARGUMENTS[c.__name__] for c in type(layer).__mro__ if c.__name__ in STATE_ARGUMENTS), None)
    if arguments is None or not hasattr(layer, "adapt"):
        return False
    config = layer.get_config()
    return all(config.get(a) is None for a in arguments)


def _adaptable(model, chain=()):
    """`(layer, chain)` for each layer to adapt in graph order; `chain` lists the nested models it sits in."""
    for layer in model.layers:
        if needs_state(layer):
            yield layer, chain
        elif hasattr(layer, "layers") and hasattr(layer, "inputs") and layer.inputs:
            yield from _adaptable(layer, chain + (layer,))


def _adapt_one(keras, model, layer, chain, train, batch_size: int, doc: Document, cfg: Config) -> str:
    """Feeds `layer` the tensor that reaches it, computed from the training rows; returns where it came from."""
    steps = []  # sub-models applied in turn: outer inputs → nested model input → ... → the layer's input
    container = model
    for nested in (*chain, layer):
        try:
            # What the call in the enclosing graph received (a nested model's own `input` is its inner Input).
            target = keras.Operation.input.fget(nested)
        except Exception as exc:  # noqa: BLE001 - Keras raises for a layer called several times
            raise ConfigError(
                [
                    doc.problem(
                        _node_key(cfg, (chain[0] if chain else layer).name),
                        f"cannot adapt '{layer.name}': {exc}; give its state in the config "
                        f"({', '.join(STATE_ARGUMENTS.get(type(layer).__name__, ()))}) or set adapt: false",
                    )
                ]
            ) from None
        direct = _input_name(container, target)
        steps.append(direct if direct is not None else keras.Model(container.inputs, target))
        container = nested
    first = steps[0]
    if len(steps) == 1 and isinstance(first, str):
        values = _input_values(train, first)
        if isinstance(values, np.ndarray) and not isinstance(values, np.memmap):
            layer.adapt(values)  # in memory and unchanged: what a Keras user would call
            return f"input '{first}'"
    chunks = _chunks(train, steps, batch_size)
    if hasattr(layer, "update_state"):
        for chunk in chunks:
            layer.update_state(chunk)
        layer.finalize_state()
    else:
        _adapt_moments(layer, chunks)
    inbound = steps[-1]
    return f"input '{inbound}'" if isinstance(inbound, str) else "the graph before it"


def _node_key(cfg: Config, name: str):
    """The config key of the top-level node whose layer is `name` (the model section if none is)."""
    names = cfg.model.node_names()
    return ("model", "layers", names.index(name)) if name in names else ("model",)


def _input_name(container, tensor) -> str | None:
    """The name of `container`'s input that `tensor` is, or None when it is computed."""
    for inp in container.inputs:
        if inp is tensor:
            return inp.name.split(":")[0]
    return None


def _input_values(train, name: str):
    x = train.x
    return x[name] if name in x else next(iter(x.values()))


def _chunks(train, steps: list, batch_size: int):
    """The tensor reaching the layer, chunk by chunk of training rows (as numpy; strings as object arrays)."""
    for block in train.input_blocks(_block_bytes(train), batch_size):
        value = None
        for step in steps:
            if isinstance(step, str):
                value = block[step] if step in block else next(iter(block.values()))
            else:
                feed = value if value is not None else (block if len(block) > 1 else next(iter(block.values())))
                value = step.predict(to_keras(feed), batch_size=batch_size, verbose=0)
        yield np.asarray(value)


def _block_bytes(train) -> int:
    """`CHUNK_BYTES` as `input_blocks` counts it, so that a block of string rows holds about that many bytes.

    `input_blocks` counts a string as its 8-byte reference; the strings themselves are measured on a sample.
    """
    counted = real = 0
    for values in train.x.values():
        width = int(np.prod(values.shape[1:], dtype=np.int64))
        item = np.dtype(values.dtype).itemsize if values.dtype != np.float64 else 4
        counted += width * item
        if is_strings(values) and len(values):
            sample = np.asarray(values[: min(len(values), 1000)]).ravel()
            real += width * max(8, int(np.mean([len(v) for v in sample])) + 50)  # + a Python str's overhead
        else:
            real += width * item
    return max(1, CHUNK_BYTES * max(counted, 1) // max(real, 1))


def _reduced_axes(layer, ndim: int) -> list[int]:
    """The axes `Normalization` averages over: all but its `axis` (all of them for `axis=None`)."""
    kept = {a % ndim for a in (layer.axis or ())}
    return [d for d in range(ndim) if d not in kept]


def _adapt_moments(layer, chunks) -> None:
    """`Normalization` adapted chunk by chunk: each chunk's mean/variance by Keras, merged as Keras merges batches."""
    total_mean = total_var = None
    total_count = 0
    keras = _keras()
    for chunk in chunks:
        # A backend tensor, not a NumPy array: Keras' adapt then reduces it on the backend (one conversion,
        # compiled mean and variance) instead of with np.mean/np.var.
        layer.adapt(keras.ops.convert_to_tensor(chunk, dtype=layer.compute_dtype))
        mean = np.asarray(layer.adapt_mean, dtype=np.float64)
        var = np.asarray(layer.adapt_variance, dtype=np.float64)
        count = math.prod(chunk.shape[d] for d in _reduced_axes(layer, chunk.ndim))
        if total_mean is None:
            total_mean, total_var, total_count = mean, var, count
            continue
        total_count += count
        weight = count / total_count
        new_mean = total_mean * (1 - weight) + mean * weight
        total_var = (total_var + (total_mean - new_mean) ** 2) * (1 - weight) + (var + (mean - new_mean) ** 2) * weight
        total_mean = new_mean
    layer.adapt_mean.assign(total_mean.astype(np.float32))
    layer.adapt_variance.assign(total_var.astype(np.float32))
    layer.finalize_state()
