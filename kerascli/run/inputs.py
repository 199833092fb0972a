"""The training data of a config, and its checks against the built model."""

from __future__ import annotations

from kerascli.config import spec
from kerascli.errors import ConfigError


def load_arguments(cfg: spec.Config, labels, vocabularies, *, input_names=None, string_inputs=None, head=None) -> dict:
    """The keyword arguments `data.load` takes for any source of the config (train, validation, test).

    Args:
        cfg: the config.
        labels: the run's label vocabularies (fitted on train).
        vocabularies: the encoded input columns' `Vocabularies`.
        input_names: the model's input names (default: the config's `model.inputs`, or None for one input).
        string_inputs: the sample shape of each string input (default: those `model.inputs` declares).
        head: read only the first `head` rows of each file (`validate --deep`).
    """
    from kerascli.data.strings import string_inputs as declared_strings

    if input_names is None and cfg.model.inputs:
        input_names = list(cfg.model.inputs)
    return {
        "input_names": input_names,
        "output_names": cfg.model.output_names(),
        "labels": labels,
        "encodings": cfg.data.encoded(),
        "vocabularies": vocabularies,
        "head": head,
        "string_inputs": declared_strings(cfg.model.inputs) if string_inputs is None else string_inputs,
    }


def load_training_data(doc, cfg: spec.Config, seed: int, labels, vocabularies=None, head: int | None = None):
    """Training and validation `Arrays` as the config describes them (encoded columns' vocabularies fitted on
    train; the first `head` rows of each file when given)."""
    from kerascli import data

    if cfg.data.train is None:
        raise ConfigError([doc.problem(("data",), "missing required key 'train': the training data source")])
    arguments = load_arguments(cfg, labels, vocabularies, head=head)
    train = data.load(cfg.data.train, doc, ("data", "train"), fit_labels=True, **arguments)
    validation = None
    if isinstance(cfg.data.validation, spec.Split):
        key = ("data", "validation", "split")
        train, validation = data.split(train, cfg.data.validation.split, seed, doc, key, cfg.data.validation.shuffle)
    elif cfg.data.validation is not None:
        source = cfg.data.validation.like(cfg.data.train)
        validation = data.load(source, doc, ("data", "validation"), **arguments)
    return train, validation


def recorded_columns(doc, cfg: spec.Config) -> dict:
    """The training input columns by model input, as `run.json` records them (see `data.columns`)."""
    from kerascli.data.columns import recorded_inputs

    input_names = list(cfg.model.inputs) if cfg.model.inputs else None
    return recorded_inputs(cfg.data.train, doc, ("data", "train"), input_names)


def input_signature(arrays) -> tuple[dict[str, tuple], dict[str, str]]:
    """Per-input sample shapes and dtypes of the data (floats train as float32)."""
    from kerascli.data.dtypes import keras_dtype

    shapes = {k: v.shape[1:] for k, v in arrays.x.items()}
    dtypes = {k: keras_dtype(v.dtype) for k, v in arrays.x.items()}
    return shapes, dtypes


def check_inputs(model, arrays, doc) -> None:
    """Checks the data's sample shapes against the model inputs (given in the config)."""
    from kerascli.data import check_inputs as check

    declared = ("model", "inputs") if doc.data.get("model", {}).get("inputs") else None
    check(model, arrays.x, doc, ("data", "train", "x"), declared)


def check_targets(model, cfg, doc, arrays) -> None:
    """Targets that cannot match their output are an error, not a silent broadcast."""
    from kerascli.model.targets import check_targets as check

    outputs = model.output if isinstance(model.output, dict) else {cfg.model.output_names()[0]: model.output}
    check(doc, cfg.compile.loss, {k: tuple(t.shape[1:]) for k, t in outputs.items()}, arrays.y)


def class_weight(weights, labels, doc):
    """`fit.class_weight` with string labels mapped to their encoded integers."""
    if not weights:
        return None
    vocab = next(iter(labels.values()), None) if labels else None
    out, problems = {}, []
    for key, weight in weights.items():
        if isinstance(key, str) and not key.isdigit():
            if not vocab or key not in vocab:
                known = f"; the labels are: {', '.join(vocab)}" if vocab else "; the targets are not string labels"
                problems.append(
                    doc.problem(
                        ("fit", "class_weight", key), f"'{key}' is not a class label of the training data{known}"
                    )
                )
                continue
            out[vocab.index(key)] = weight
        else:
            out[int(key)] = weight
    if problems:
        raise ConfigError(problems)
    return out
