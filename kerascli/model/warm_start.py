"""`model.weights_from`: start training from another model's weights, layer by layer.

`weights_from` names a run directory (its `model.keras`), a `.keras` file, or
a `.weights.h5` file, relative to the config.

- From a `.keras` model (a run's included) weights are copied **by layer
  name**: every layer of the new model whose path (the names of the nested
  models it sits in, then its own, joined by `/`) exists in the other model
  takes that layer's weights; the others keep their initial values. Keras 3's
  `load_weights` has no `by_name` for `.keras` files, so kerascli opens the
  other model (safe mode, not compiled) and assigns variables itself. A layer
  whose weights have other shapes is an error naming the layer and both
  shapes: a silent partial load would be a wrong answer.
- A `.weights.h5` file holds no layer names (its groups are named after layer
  classes and positions), so it is loaded with Keras' own `load_weights`: the
  architectures must match exactly.

The report (layers loaded and not loaded) is printed and recorded in
`run.json` under `warm_start`.
"""

from __future__ import annotations

from pathlib import Path

from kerascli.config.document import Document
from kerascli.engine.keras_import import load_keras
from kerascli.errors import ConfigError, KerasCliError
from kerascli.model.freezing import leaves

keras = load_keras()

KEY = ("model", "weights_from")


def resolve(value: str, doc: Document) -> Path:
    """The model or weights file `weights_from` names (a run directory → its `model.keras`).

    Raises:
        ConfigError: a path that does not exist or is not a model/weights file.
    """
    path = doc.resolve_path(KEY, value)
    if path.is_dir():
        if not (path / "model.keras").is_file():
            raise ConfigError([doc.problem(KEY, f"{path} is not a finished run directory (it has no model.keras)")])
        return path / "model.keras"
    if not path.is_file():
        raise ConfigError([doc.problem(KEY, f"no such run directory or file: {path}")])
    if not (path.name.endswith(".keras") or path.name.endswith(".weights.h5")):
        raise ConfigError(
            [doc.problem(KEY, f"expected a run directory, a .keras or a .weights.h5 file, got '{value}'")]
        )
    return path


def warm_start(model, value: str, doc: Document) -> dict:
    """Loads the weights `weights_from` names into `model`.

    Args:
        model: the freshly built model.
        value: the `weights_from` value.
        doc: the config (relative paths, error locations).

    Returns:
        `{"source", "loaded": [layer paths], "not_loaded": [layer paths]}`.

    Raises:
        ConfigError: a bad path, or a layer whose weights have other shapes.
        KerasCliError: the file cannot be read.
    """
    source = resolve(value, doc)
    if source.name.endswith(".weights.h5"):
        try:
            model.load_weights(source)
        except Exception as exc:  # noqa: BLE001 - Keras raises ValueError for mismatches
            from kerascli.model.objects import clean

            raise ConfigError(
                [
                    doc.problem(
                        KEY,
                        f"cannot load {source} into this model (a .weights.h5 file loads by "
                        f"structure; use a .keras file or run to load by layer name): {clean(exc)}",
                    )
                ]
            ) from None
        named = [p for p, layer in leaves(model).items() if layer.weights]
        return {"source": str(source), "loaded": named, "not_loaded": []}
    from kerascli.model.importer import load_model

    other = load_model(source)
    return copy_by_name(model, other, doc, str(source))


def copy_by_name(model, other, doc: Document | None = None, source: str = "") -> dict:
    """Assigns the weights of every layer of `other` whose path `model` also has.

    Args:
        model: the model to fill.
        other: the model to read.
        doc: the config, for the error location (None raises `KerasCliError`).
        source: what `other` was read from, for the report.

    Returns:
        `{"source", "loaded", "not_loaded"}` (layer paths of `model` with weights).
    """
    theirs = {p: layer for p, layer in leaves(other).items() if layer.weights}
    loaded, not_loaded, pairs = [], [], []
    for path, layer in leaves(model).items():
        if not layer.weights:
            continue
        match = theirs.get(path)
        if match is None or len(match.weights) != len(layer.weights):
            not_loaded.append(path)
            continue
        for mine, saved in zip(layer.weights, match.weights):
            if tuple(mine.shape) != tuple(saved.shape):
                message = (
                    f"layer '{path}': weight '{mine.name}' has shape {list(mine.shape)} here and "
                    f"{list(saved.shape)} in {source or 'the other model'}; rename the layer to start it fresh"
                )
                if doc is not None:
                    raise ConfigError([doc.problem(KEY, message)])
                raise KerasCliError(message)
            pairs.append((mine, saved))
        loaded.append(path)
    for mine, saved in pairs:  # all shapes checked first: nothing is half-loaded
        mine.assign(keras.ops.convert_to_numpy(saved.value))
    return {"source": source, "loaded": loaded, "not_loaded": not_loaded}


def describe(report: dict, limit: int = 8) -> str:
    """The report as one line: how many layers loaded from where, and which did not."""

    def names(paths: list[str]) -> str:
        shown = ", ".join(paths[:limit])
        return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")

    text = f"loaded the weights of {len(report['loaded'])} layer(s) from {report['source']}"
    if report["not_loaded"]:
        text += f"; not loaded (no layer of that name, they start fresh): {names(report['not_loaded'])}"
    return text
