"""Which layers train: `trainable: false`, `freeze:` and the phases' `freeze`/`unfreeze`.

Keras keeps one `trainable` flag per layer, and setting it on a model sets it
on every layer inside (`Layer.trainable`'s setter recurses), while a model
whose flag is False reports no trainable weights whatever its layers say. So
kerascli decides per *leaf* layer (a layer that is not a model) and then sets
the flags top-down: a model is trainable when any layer inside it is, and
each leaf gets its own flag after its parents.

A selection names leaf layers, or models (meaning every layer inside), by:

- regular expressions, full-matched against a layer's path (the names of the
  models it sits in and its own, joined by `/`: `backbone/block_16_expand`)
  or against its name alone (`block_16_expand`);
- `{first: N}`, `{last: N}` or `{all_but_last: N}`: positions in the list of
  a nested model's own layers (`model.layers`, as the Keras transfer-learning
  guide counts them), the model being the node the selection is written on,
  or the node named by `of:` in a phase (without `of`, the whole model's).

Changing `trainable` takes effect at the next `compile()`; the phases
recompile (`kerascli.run.phases`).
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from kerascli.engine.keras_import import load_keras

keras = load_keras()


def is_container(layer) -> bool:
    """Whether `layer` is a model (Functional, Sequential) holding layers."""
    return isinstance(layer, keras.Model)


def walk(model, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every layer inside `model`, depth first, with its path.

    Args:
        model: a Keras model.
        prefix: the path of `model` itself ("" for the top).

    Yields:
        `(path, layer)` for every layer (models and leaves), input layers
        excluded; a layer shared between calls appears once.
    """
    seen: set[int] = set()
    yield from _walk(model, prefix, seen)


def _walk(model, prefix: str, seen: set[int]):
    for layer in model.layers:
        if id(layer) in seen or isinstance(layer, keras.layers.InputLayer):
            continue
        seen.add(id(layer))
        path = f"{prefix}/{layer.name}" if prefix else layer.name
        yield path, layer
        if is_container(layer):
            yield from _walk(layer, path, seen)


def leaves(model) -> dict[str, Any]:
    """The leaf layers of `model` (layers that are not models), by path."""
    return {path: layer for path, layer in walk(model) if not is_container(layer)}


class SelectionError(ValueError):
    """A selection that names no layer, or a node that is not a nested model."""


def select(model, selection, within: str | None = None) -> set[str]:
    """The paths of the leaf layers a selection names.

    Args:
        model: the whole Keras model.
        selection: a list of regular expressions, or a mapping with one of
            `first`, `last`, `all_but_last` (and optionally `of`).
        within: the path of the nested model the selection is written on
            (a node's `freeze:`); None for a phase (then positions need `of`).

    Returns:
        Paths of leaf layers.

    Raises:
        SelectionError: a pattern that matches nothing, a position selection
            without a nested model, or an invalid regular expression.
    """
    all_leaves = leaves(model)
    if isinstance(selection, dict) or hasattr(selection, "model_dump"):
        return _by_position(
            model,
            dict(selection if isinstance(selection, dict) else selection.model_dump(exclude_none=True)),
            within,
            all_leaves,
        )
    chosen: set[str] = set()
    scope = f"{within}/" if within else ""
    paths = [p for p, _ in walk(model) if p.startswith(scope)]
    for pattern in selection:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise SelectionError(f"'{pattern}' is not a regular expression: {exc}") from None
        matched = [
            p
            for p in paths
            if regex.fullmatch(p) or regex.fullmatch(p[len(scope) :]) or regex.fullmatch(p.rsplit("/", 1)[-1])
        ]
        if not matched:
            where = f"inside '{within}'" if within else "in the model"
            raise SelectionError(
                f"'{pattern}' matches no layer {where} (layer names look like {_examples(paths, scope)})"
            )
        for path in matched:
            chosen.update(_leaves_under(path, all_leaves))
    return chosen


def _by_position(model, selection: dict, within: str | None, all_leaves: dict) -> set[str]:
    target = selection.pop("of", None) or within
    container = model if target is None else dict(walk(model)).get(target)  # no `of`: the model's own layers
    if container is None or not is_container(container):
        raise SelectionError(f"'{target}' is not a nested model (an application or a block instance)")
    layers = [layer for layer in container.layers if not isinstance(layer, keras.layers.InputLayer)]
    if "first" in selection:
        picked = layers[: selection["first"]]
    elif "last" in selection:
        picked = layers[-selection["last"] :] if selection["last"] else []
    else:
        n = selection["all_but_last"]
        picked = layers[: len(layers) - n] if n else layers
    chosen: set[str] = set()
    for layer in picked:
        chosen.update(_leaves_under(f"{target}/{layer.name}" if target else layer.name, all_leaves))
    return chosen


def _leaves_under(path: str, all_leaves: dict) -> list[str]:
    return [p for p in all_leaves if p == path or p.startswith(path + "/")]


def _examples(paths: list[str], scope: str) -> str:
    names = [p[len(scope) :] for p in paths[:3]]
    return ", ".join(f"'{n}'" for n in names) or "nothing: it has no layers"


def freeze_node(layers: list, trainable: bool | None, selection) -> None:
    """Applies a node's `trainable: false` and `freeze:` to the layers (or models) it made.

    A `freeze:` freezes the selected layers and the model's BatchNormalization
    layers (see `batch_norm_paths`).

    Raises:
        SelectionError: `freeze:` on a layer, or a selection that names nothing.
    """
    if selection is not None:
        if not is_container(layers[0]):
            raise SelectionError(
                "'freeze' selects layers inside an application or block instance; use 'trainable: false' for a layer"
            )
        for model in layers:
            apply(model, frozen_paths(model) | select(model, selection) | batch_norm_paths(model))
    if trainable is False:
        for layer in layers:
            layer.trainable = False


def batch_norm_paths(model, within: str = "") -> set[str]:
    """The BatchNormalization leaves of `model` (under the nested model at path `within`).

    A frozen backbone's BatchNormalization must stay in inference mode when
    later phases unfreeze its other layers (the Keras transfer-learning
    guide). The guide passes `training=False` to the backbone's call, but in
    a Keras 3 functional model the outer `fit()`'s `training=True` overrides
    a nested call's own `training=False` (`keras.src.models.functional.
    operation_fn` injects the outer value), so kerascli keeps those layers
    frozen instead: Keras' BatchNormalization runs in inference mode while
    `trainable` is False.
    """
    prefix = f"{within}/" if within else ""
    return {
        path
        for path, layer in leaves(model).items()
        if path.startswith(prefix) and isinstance(layer, keras.layers.BatchNormalization)
    }


def apply(model, frozen: set[str]) -> None:
    """Sets every layer's `trainable` so that exactly the leaves in `frozen` are frozen.

    Args:
        model: the whole Keras model.
        frozen: paths of leaf layers (see `leaves`) not to train.
    """
    all_leaves = leaves(model)
    for path, layer in walk(model):
        if is_container(layer):
            layer.trainable = any(p not in frozen for p in _leaves_under(path, all_leaves))
    for path, layer in all_leaves.items():
        layer.trainable = path not in frozen


def frozen_paths(model) -> set[str]:
    """The paths of the leaf layers that do not train now (the inverse of `apply`)."""
    out = set()
    containers = {p for p, layer in walk(model) if is_container(layer) and not layer.trainable}
    for path, layer in leaves(model).items():
        if not layer.trainable or any(path.startswith(c + "/") for c in containers):
            out.add(path)
    return out


def count_trainable(model) -> int:
    """The number of trainable parameters, as Keras counts them."""
    import numpy as np

    return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
