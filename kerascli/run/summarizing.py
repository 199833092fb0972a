"""`summary`: the model of a config, built without training."""

from __future__ import annotations

from typing import Any, Callable

from kerascli.engine import backend
from kerascli.engine.keras_import import load_keras
from kerascli.errors import Problem
from kerascli.run.inputs import input_signature, load_training_data
from kerascli.run.validating import validate


def summary(
    path,
    overrides=(),
    backend_cli=None,
    on_warning: Callable[[Problem], None] | None = None,
    expand: bool = False,
) -> dict[str, Any]:
    """Builds the model of config `path` without training; returns its layers and parameter counts.

    Input shapes come from `model.inputs`, or else from the training data. The
    config's `dtype_policy` applies, so each layer's policy is the one it trains with.

    Args:
        path: the config file.
        overrides: `--set KEY=VALUE` strings.
        backend_cli: the `--backend` option.
        on_warning: called with each config warning.
        expand: list the layers inside block instances and applications too.
    """
    checked = validate(path, overrides)
    for warning in checked.warnings:
        if on_warning is not None:
            on_warning(warning)
    doc, cfg = checked.doc, checked.cfg
    keras = load_keras(backend.resolve(backend_cli, cfg.backend))
    from kerascli import data
    from kerascli.config import blocks
    from kerascli.model.adapt import check_stack
    from kerascli.model.functional import build_model
    from kerascli.model.summary import describe

    check_stack(cfg, doc, keras.backend.backend())
    shapes = dtypes = None
    if cfg.model.inputs is None:
        train_data, _ = load_training_data(doc, cfg, cfg.seed or 0, data.Labels(), data.Vocabularies())
        shapes, dtypes = input_signature(train_data)
    from kerascli.config.catalog import load_catalog
    from kerascli.model.precision import use_policy

    with use_policy(cfg.dtype_policy):
        model = build_model(cfg.model, doc, shapes, dtypes, blocks=cfg.blocks)
        block_of = blocks.instance_blocks(cfg.model.layers, cfg.model.node_names(), set(cfg.blocks))
        catalog = load_catalog()
        for node, name in zip(cfg.model.layers, cfg.model.node_names()):
            if node.type not in cfg.blocks and catalog.get("applications", node.type or "") is not None:
                block_of[name] = node.type
        info = describe(model, block_of, expand=expand)
    info["dtype_policy"] = cfg.dtype_policy or "float32"
    return info
