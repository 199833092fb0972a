"""The JSON type of a constructor argument, from its name, its default and its docstring."""

from __future__ import annotations

import math
from typing import Any

from kerascli.config.tables import IDENTIFIER_KINDS
from kerascli.introspection.docstrings import doc_type

# Types by argument name, for arguments without a default (required) or
# whose default is None, where nothing else gives the type. "integer|array"
# names also override an int or list default (strides=1 takes (2, 2) too).
# Unlisted names fall back to the first words of their docstring ("Positive
# integer, ..."), else stay None (unknown).
_KNOWN_TYPES = {
    # Sizes and counts.
    "units": "integer",
    "filters": "integer",
    "num_heads": "integer",
    "num_query_heads": "integer",
    "num_key_value_heads": "integer",
    "key_dim": "integer",
    "value_dim": "integer",
    "head_dim": "integer",
    "input_dim": "integer",
    "output_dim": "integer",
    "num_tokens": "integer",
    "max_tokens": "integer",
    "max_number": "integer",
    "num_bins": "integer",
    "num_classes": "integer",
    "num_labels": "integer",
    "n": "integer",
    "height": "integer",
    "width": "integer",
    "seed": "integer",
    "decay_steps": "integer",
    "first_decay_steps": "integer",
    "class_id": "integer",
    "ignore_class": "integer",
    "top_k": "integer",
    "sequence_length": "integer",
    "output_sequence_length": "integer",
    "fft_length": "integer",
    "frame_step": "integer",
    "lora_rank": "integer",
    "sliding_window": "integer",
    "ema_overwrite_frequency": "integer",
    "gradient_accumulation_steps": "integer",
    # Ints or tuples of ints.
    "kernel_size": "integer|array",
    "pool_size": "integer|array",
    "strides": "integer|array",
    "dilation_rate": "integer|array",
    "output_padding": "integer|array",
    "cropping": "integer|array",
    "padding": "integer|array",  # Only for int/list defaults; "valid" stays a string.
    "size": "integer|array",
    "output_size": "integer|array",
    "output_shape": "integer|array",
    "axis": "integer|array",
    "axes": "integer|array",
    "attention_axes": "integer|array",
    "ngrams": "integer|array",
    # Numbers.
    "rate": "number",
    "stddev": "number",
    "scale": "number",
    "threshold": "number",
    "recall": "number",
    "precision": "number",
    "sensitivity": "number",
    "specificity": "number",
    "factor": "number",
    "learning_rate": "number",
    "initial_learning_rate": "number",
    "warmup_target": "number",
    "decay_rate": "number",
    "max_value": "number",
    "baseline": "number",
    "initial_value_threshold": "number",
    "weight_decay": "number",
    "clipnorm": "number",
    "clipvalue": "number",
    "global_clipnorm": "number",
    "loss_scale_factor": "number",
    "lora_alpha": "number",
    "logit_soft_cap": "number",
    # Booleans.
    "flash_attention": "boolean",
    # Arrays.
    "target_shape": "array",
    "dims": "array",
    "boundaries": "array",
    "values": "array",
    "thresholds": "array",
    "target_class_ids": "array",
    "vocabulary": "array",
    "idf_weights": "array",
    "bin_boundaries": "array",
    "noise_shape": "array",
    "shared_axes": "array",
    "exclude_layers": "array",
    "layers": "array",  # Pipeline: a list of layer configs.
    "cells": "array",  # StackedRNNCells: a list of cell configs.
    # Nested Keras objects, given as {"class_name": ..., "config": ...}.
    "layer": "object",
    "backward_layer": "object",
    "cell": "object",
    "headers": "object",
    "embeddings_metadata": "object",
    "renorm_clipping": "object",
    # Strings. A dtype may also be a serialized DTypePolicy dict.
    "activation": "string",
    "recurrent_activation": "string",
    "dtype": "string|object",
    "name": "string",
    "monitor": "string",
    "filepath": "string",
    "filename": "string",
    "directory": "string",
    "backup_dir": "string",
    "data_format": "string",
    "equation": "string",
    "bias_axes": "string",
    "average": "string",
}

# Arguments whose default is an int but which take any number (a
# default-derived "integer" would reject valid floats). An int default whose
# docstring starts with "Float" is treated the same way.
_NUMBER_WITH_INT_DEFAULT = {
    "min_delta",
    "min_lr",
    "l1",
    "l2",
    "max_value",
    "min_value",
    "rate",
    "factor",
    "threshold",
    "alpha",
    "beta",
    "gamma",
    "delta",
    "label_smoothing",
    "negative_slope",
    "momentum",
    "epsilon",
    "value",
    "mean",
    "stddev",
    "scale",
    "minval",
    "maxval",
    "offset",
}

# Arguments that name Keras objects: a string identifier or a
# {"class_name": ..., "config": ...} dict, whatever the default.
_IDENTIFIER_SUFFIXES = tuple(f"_{suffix}" for suffix, _ in IDENTIFIER_KINDS)


def to_json(value: Any) -> tuple[bool, Any]:
    # (ok, JSON-able copy); tuples become lists.
    if value is None or isinstance(value, (bool, str)):
        return True, value
    if isinstance(value, int):
        return True, int(value)
    if isinstance(value, float):
        return (True, float(value)) if math.isfinite(value) else (False, None)
    if isinstance(value, (list, tuple)):
        items = [to_json(v) for v in value]
        if all(ok for ok, _ in items):
            return True, [v for _, v in items]
        return False, None
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return False, None
        items = {k: to_json(v) for k, v in value.items()}
        if all(ok for ok, _ in items.values()):
            return True, {k: v for k, (_, v) in items.items()}
        return False, None
    return False, None


def type_of(name: str, required: bool, jsonable: bool, default: Any, description: str) -> str | None:
    """Picks the type string of an argument.

    Order: identifier names (`*_initializer`, ...), then `_KNOWN_TYPES`
    for "integer|array" names and for required/None-default arguments,
    then the default's own type, then the docstring's first words.

    Args:
        name: Argument name.
        required: Whether it has no default.
        jsonable: Whether the default could be written as JSON.
        default: The (JSON-able) default.
        description: The argument's docstring description.

    Returns:
        A type string or `None`.
    """
    if name.endswith(_IDENTIFIER_SUFFIXES):
        return "string|object"
    if not (required or jsonable):
        return None  # Object or callable default: anything goes.
    known = _KNOWN_TYPES.get(name)
    if required or default is None:
        return known or doc_type(description)
    if isinstance(default, bool):
        return "boolean"
    if isinstance(default, int):
        if known == "integer|array":
            return known
        if name in _NUMBER_WITH_INT_DEFAULT or doc_type(description) == "number":
            return "number"
        return "integer"
    if isinstance(default, float):
        return "number"
    if isinstance(default, str):
        return "string"
    if isinstance(default, list):
        return "integer|array" if known == "integer|array" else "array"
    if isinstance(default, dict):
        return "object"
    return None
