"""The config as Pydantic models: a small, strict, Keras-free spec.

`from_document` validates a parsed `Document` and turns every Pydantic error
into a `Problem` with the file, line and column of the offending key.
"""

from __future__ import annotations

import difflib
from typing import Any, Literal, Optional

from pydantic import Field, ValidationError

from kerascli.config.document import Document, Key
from kerascli.config.spec.base import KerasObject, StrictModel
from kerascli.config.spec.data import DataSpec, Source, Split
from kerascli.config.spec.distribution import (
    DataParallelSpec,
    DistributionSpec,
    ModelParallelSpec,
)
from kerascli.config.spec.model import (
    BlockSpec,
    InputSpec,
    ModelSpec,
    Node,
    derived_name,
)
from kerascli.config.spec.tracking import MlflowSpec, TrackingSpec
from kerascli.config.spec.training import (
    CompileSpec,
    EvaluateSpec,
    FitSpec,
    OutputSpec,
    PredictSpec,
)
from kerascli.errors import ConfigError, Problem

Backend = Literal["jax", "tensorflow", "torch"]
DtypePolicy = Literal["float32", "float16", "bfloat16", "float64", "mixed_float16", "mixed_bfloat16"]
"""The Keras dtype policies a whole model can train under (`keras.DTypePolicy` names)."""

__all__ = [
    "Config",
    "BlockSpec",
    "DataSpec",
    "Source",
    "Split",
    "ModelSpec",
    "Node",
    "InputSpec",
    "CompileSpec",
    "FitSpec",
    "EvaluateSpec",
    "PredictSpec",
    "OutputSpec",
    "KerasObject",
    "derived_name",
    "from_document",
    "pydantic_problems",
    "DistributionSpec",
    "DataParallelSpec",
    "ModelParallelSpec",
    "TrackingSpec",
    "MlflowSpec",
]


class Config(StrictModel):
    """A whole config file: one run.

    Args:
        name: the run name (default: the config file's stem).
        seed: seeds Keras (`keras.utils.set_random_seed`) and the validation
            split; a random seed is drawn and recorded when absent.
        backend: the Keras backend; `--backend` and `KERAS_BACKEND` override it.
        dtype_policy: the Keras dtype policy of every layer, as
            `keras.config.set_dtype_policy` sets it (`mixed_bfloat16`,
            `mixed_float16`, ...); the model's outputs stay float32, and
            `mixed_float16` trains with Keras' loss scaling.
        distribution: spreads training over devices (JAX only); see
            `kerascli.config.spec.distribution`.
        blocks: reusable, parameterised sub-graphs by name (see `BlockSpec`).
        extends: config files this one builds on, merged under it (see
            `kerascli.config.compose`); gone from the merged config.
        tracking: experiment trackers the run is logged to (see `TrackingSpec`).
        tune: the search space of `kerascli tune` (see `kerascli.config.space`);
            `train` ignores it, and it is not part of a run's resolved config.
    """

    extends: str | list[str] | None = Field(
        default=None,
        description="A config file (or a list, applied in order) this config builds on: mappings "
        "merge, lists and scalars replace, null deletes; paths are relative to the file that writes them.",
    )

    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
    seed: int | None = Field(default=None, ge=0, lt=2**32)
    backend: Backend | None = None
    dtype_policy: DtypePolicy | None = None
    data: DataSpec = DataSpec()
    blocks: dict[str, BlockSpec] = {}
    model: ModelSpec
    compile: CompileSpec = CompileSpec()
    fit: FitSpec = FitSpec()
    evaluate: EvaluateSpec = EvaluateSpec()
    predict: PredictSpec = PredictSpec()
    output: OutputSpec = OutputSpec()
    distribution: Optional[DistributionSpec] = None
    tracking: Optional[TrackingSpec] = None
    tune: Optional[dict[str, Any]] = Field(
        default=None,
        exclude=True,
        description="The search space of `kerascli tune`: {space: {<dotted config key>: {loguniform|uniform|int|"
        "choice: ...}}, metric, direction, sampler, pruner, trials, timeout}; checked by `validate`, ignored by `train`.",
    )


def from_document(doc: Document) -> Config:
    """Validates `doc` against the spec.

    Raises:
        ConfigError: with one `Problem` per Pydantic error.
    """
    try:
        return Config.model_validate(doc.data)
    except ValidationError as exc:
        raise ConfigError(pydantic_problems(exc, doc)) from None


def pydantic_problems(exc: ValidationError, doc: Document, prefix: Key = ()) -> list[Problem]:
    """Turns Pydantic errors into located problems, one per error."""
    problems = []
    seen = set()
    errors = exc.errors(include_url=False)
    keys = []
    for error in errors:
        key = prefix + _data_key(doc.data, prefix, error["loc"])
        if error["type"] == "union_tag_invalid":  # point at the `type:` that names no choice
            key += (error["ctx"]["discriminator"].strip("'"),)
        keys.append(key)
    # A misspelt key gives two errors: 'unknown key shap' and 'missing shape'.
    # The first says it all (did you mean 'shape'?), so the second is dropped.
    suggested = set()
    for error, key in zip(errors, keys):
        if error["type"] == "extra_forbidden" and key:
            hint = difflib.get_close_matches(str(key[-1]), _allowed_fields(key[:-1]), n=1, cutoff=0.6)
            suggested.update((key[:-1], h) for h in hint)
    for error, key in zip(errors, keys):
        if error["type"] == "missing" and key and (key[:-1], key[-1]) in suggested:
            continue
        message = _message(error, doc, key)
        if (key, message) in seen:
            continue
        seen.add((key, message))
        problems.append(doc.problem(key, message))
    return problems


def _data_key(data, prefix: Key, loc: tuple) -> Key:
    """Drops Pydantic's union/tag segments so the key follows the user's data."""
    node = data
    for part in prefix:
        node = node[part] if isinstance(node, (dict, list)) else None
    key: list = []
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict) and part in node:
            key.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            key.append(part)
            node = node[part]
        elif last and isinstance(node, dict) and isinstance(part, str) and not part.startswith("{"):
            key.append(part)  # a missing required field
        # anything else is a union/tag segment of Pydantic's own
    return tuple(key)


def _message(error: dict, doc: Document, key: Key) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        field = key[-1] if key else "?"
        allowed = _allowed_fields(key[:-1])
        hint = difflib.get_close_matches(str(field), allowed, n=1, cutoff=0.6)
        text = f"unknown key '{field}'"
        if hint:
            return f"{text} (did you mean '{hint[0]}'?)"
        return f"{text}; expected one of: {', '.join(allowed)}" if allowed else text
    if kind == "union_tag_not_found":
        return f"missing required key '{error['ctx']['discriminator'].strip(chr(39))}'"
    if kind == "union_tag_invalid":
        choices = [t.strip(" '") for t in str(error["ctx"]["expected_tags"]).split(",")]
        hint = difflib.get_close_matches(str(error["ctx"]["tag"]), choices, n=1, cutoff=0.6)
        text = f"unknown {key[-2] if len(key) > 1 else 'type'} type '{error['ctx']['tag']}'"
        return f"{text} (did you mean '{hint[0]}'?)" if hint else f"{text}; expected one of: {', '.join(choices)}"
    if kind == "missing":
        return f"missing required key '{key[-1]}'" if key else "missing required key"
    message = error["msg"]
    if message.startswith("Value error, "):
        return message[len("Value error, ") :]
    ctx = error.get("ctx") or {}
    expected = {
        "int_parsing": "an integer",
        "int_type": "an integer",
        "int_from_float": "an integer",
        "float_parsing": "a number",
        "float_type": "a number",
        "bool_parsing": "true or false",
        "bool_type": "true or false",
        "string_type": "a string",
        "list_type": "a list",
        "dict_type": "a mapping",
        "model_type": "a mapping",
        "model_attributes_type": "a mapping",
        "greater_than": f"a value greater than {ctx.get('gt')}",
        "greater_than_equal": f"a value of at least {ctx.get('ge')}",
        "less_than": f"a value less than {ctx.get('lt')}",
        "less_than_equal": f"a value of at most {ctx.get('le')}",
        "too_short": f"at least {ctx.get('min_length')} item(s)",
        "string_too_short": "a non-empty string",
        "literal_error": f"one of {ctx.get('expected')}",
        "string_pattern_mismatch": "a name of letters, digits, '_', '-' or '.' (no slashes)",
    }.get(kind)
    if expected is None:
        return message.replace("Input should be", "expected")
    return f"expected {expected}, got {_show(value)}"


def _allowed_fields(key: Key) -> list[str]:
    """The field names of the spec model at `key` (for did-you-mean)."""
    from typing import get_args, get_origin

    model, keyed = Config, False
    for part in key:
        if isinstance(part, int):
            continue
        if keyed:  # a user's key in a mapping of sections, e.g. model.inputs.<name>
            keyed = False
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        args = (field.annotation, *get_args(field.annotation))
        keyed = any(get_origin(a) is dict for a in args)
        model = _model_of(field.annotation)
        if model is None:
            return []
    return list(model.model_fields)


def _model_of(annotation):
    """The StrictModel inside an annotation such as `DataSpec | None`."""
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, StrictModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _show(value) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if value is None:
        return "null"
    return repr(value)
