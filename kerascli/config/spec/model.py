"""The `model:` section: inputs, a list of nodes, outputs.

One list of nodes covers Sequential stacks and functional graphs: a node's
`inputs` defaults to the previous node (the model input for the first), and
naming nodes and pointing `inputs` at them gives any DAG.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Union

from pydantic import (
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kerascli.config.spec.base import StrictModel
from kerascli.config.spec.freezing import Selection

NodeInputs = Union[str, list[str], dict[str, Union[str, list[str]]]]
"""A node name, a list of names (merge layers), or keyword call arguments.

`name/i` picks output i of a layer with several (`LSTM(return_state=True)`).
"""

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"
PARAM_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
MAX_REPEAT = 1000  # layers one node may stack: past it a config is a mistake (or an attack), not a model
ParamRef = Annotated[str, Field(pattern=r"^\$[A-Za-z_][A-Za-z0-9_]*$")]
"""A block parameter used as a value: `$filters`."""


class InputSpec(StrictModel):
    """One model input.

    Args:
        dtype: the Keras dtype of the input (default float32). `string`
            feeds a text or category column as raw strings (backend:
            tensorflow), for `TextVectorization`/`StringLookup` in the graph.
        shape: the shape of one sample (no batch dimension); `null` for a
            variable-length axis. Required, except for a `string` input,
            whose default is `[1]` (one string per row).
    """

    dtype: str = "float32"
    shape: list[PositiveInt | None] | None = Field(default=None, validate_default=True)

    @field_validator("shape")
    @classmethod
    def _shape_given(cls, shape, info):
        if shape is None:
            if info.data.get("dtype") == "string":
                return [1]
            raise PydanticCustomError("missing", "Field required")
        return shape


class Node(StrictModel):
    """One layer (or block) call in the graph.

    Every key other than those in `RESERVED_NODE_KEYS` is a constructor
    argument of the Keras class or application named by `type` (or a
    parameter of the block named by `type`); those are checked against the
    catalogue of the installed Keras and the config's blocks, not here.

    Args:
        type: a Keras layer class, a `keras.applications` model (`MobileNetV2`)
            or a block name.
        name: the node's name (derived from type and index when absent).
        inputs: the node(s) it reads: a name, a list, or keyword call
            arguments `{query: a, value: b}`; default the previous node.
        repeat: stacks the node N times, named `<name>_1..N`.
        share: calls the layer (or block instance) of another node again
            instead of making a new one: shared weights, counted once.
        call: keyword arguments of the layer call that are not tensors,
            e.g. `{use_causal_mask: true}` for `MultiHeadAttention`.
        adapt: `false` leaves a preprocessing layer without state un-adapted
            (by default `Normalization`, `Discretization`, ... are adapted on
            the training rows; see `kerascli.model.adapt`).
        trainable: `false` freezes the node's layer(s), block instance or
            application; its BatchNormalization layers then stay in inference
            mode (frozen) in every phase.
        freeze: layers to freeze inside a nested node (application or block
            instance): regular expressions over their names, or
            `{first|last|all_but_last: N}` positions.
        preprocess_input: applications only: apply the application's own
            `keras.applications.<module>.preprocess_input` to the input first.
    """

    model_config = ConfigDict(extra="allow")

    type: str | None = Field(default=None, min_length=1)
    name: str | None = Field(default=None, pattern=NAME_PATTERN)
    inputs: NodeInputs | None = None
    repeat: Union[PositiveInt, ParamRef] = 1
    share: str | None = Field(default=None, min_length=1)
    call: dict[str, Any] | None = None
    adapt: bool = True
    trainable: bool | None = None
    freeze: Selection | None = None
    preprocess_input: bool = False

    @field_validator("repeat", mode="wrap")
    @classmethod
    def _repeat(cls, value, handler):
        try:
            repeat = handler(value)
        except ValidationError:
            raise ValueError(f"expected a positive integer or a block parameter ($name), got {value!r}") from None
        if isinstance(repeat, int) and repeat > MAX_REPEAT:
            raise ValueError(f"expected at most {MAX_REPEAT} (the layers this node stacks), got {repeat}")
        return repeat

    @property
    def kwargs(self) -> dict[str, Any]:
        """The constructor arguments of the layer (or parameters of the block)."""
        return dict(self.model_extra or {})

    @property
    def kind(self) -> str:
        """The type, or `share` for a node that reuses another node's layer."""
        return self.type or "share"

    @model_validator(mode="after")
    def _type_or_share(self) -> Node:
        if self.share is not None:
            if self.type is not None:
                raise ValueError("give either 'type' (a new layer) or 'share' (reuse another node's layer), not both")
            if self.kwargs:
                raise ValueError(
                    f"a node that shares the layer of '{self.share}' takes no constructor arguments "
                    f"(got {', '.join(self.kwargs)}); they come from '{self.share}'"
                )
            if self.repeat != 1:
                raise ValueError("'repeat' cannot be used with 'share'")
        elif self.type is None:
            raise ValueError("missing required key 'type' (a Keras layer or block name), or 'share' to reuse a layer")
        return self


def derived_name(layer_type: str, index: int) -> str:
    """The stable name of an unnamed node: `Dense` at index 3 → `dense_3`.

    `Conv2DTranspose` at 0 → `conv2d_transpose_0`, as Keras spells it.
    """
    snake = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z0-9])(?=[A-Z][a-z])", "_", layer_type).lower()
    return f"{snake}_{index}"


class ModelSpec(StrictModel):
    """The `model:` section.

    Args:
        inputs: model inputs by name; inferred from the training data if absent.
        layers: the nodes, in order.
        outputs: the node(s) whose outputs the model returns (default: the last).
            Several outputs make the model's outputs a dict keyed by name.
        weights_from: a run directory, `.keras` or `.weights.h5` file (relative
            to the config) to start from: layers load by name, see
            `kerascli.model.warm_start`.
    """

    inputs: dict[str, InputSpec] | None = None
    layers: list[Node] = Field(min_length=1)
    outputs: Union[str, list[str], None] = None
    weights_from: str | None = Field(default=None, min_length=1)

    @field_validator("inputs")
    @classmethod
    def _input_names(cls, value):
        if value is not None:
            if not value:
                raise ValueError("expected at least one input, or leave 'inputs' out to infer it from the data")
            for name in value:
                if not re.match(NAME_PATTERN, name):
                    raise ValueError(
                        f"input name '{name}' must start with a letter or '_' and hold only letters, digits, '_', '-' or '.'"
                    )
        return value

    def node_names(self) -> list[str]:
        """The name of every node, derived where the config gives none."""
        return [node.name or derived_name(node.kind, i) for i, node in enumerate(self.layers)]

    def output_names(self) -> list[str]:
        """The names of the output nodes."""
        if self.outputs is None:
            return [self.node_names()[-1]]
        return [self.outputs] if isinstance(self.outputs, str) else list(self.outputs)


class BlockSpec(StrictModel):
    """One entry of `blocks:`: a parameterised sub-graph used like a layer.

    Each use (`{type: <block>, <param>: value}`) builds its own nested Keras
    functional model named after the node, so `summary()` shows it as one
    layer. Inside the block, `$param` stands for a parameter's value.

    Args:
        inputs: the names the block's nodes use for what the block receives
            (default: one input called `in`).
        params: the parameters and their defaults.
        layers: the block's nodes; same form as `model.layers`.
        outputs: the node whose result the block returns (default: the last).
    """

    inputs: list[str] = Field(default_factory=lambda: ["in"], min_length=1)
    params: dict[str, Any] = {}
    layers: list[Node] = Field(min_length=1)
    outputs: str | None = None

    @field_validator("inputs")
    @classmethod
    def _input_names(cls, value):
        for name in value:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(
                    f"input name '{name}' must start with a letter or '_' and hold only letters, digits, '_', '-' or '.'"
                )
        if len(set(value)) != len(value):
            raise ValueError("input names must be unique")
        return value

    @field_validator("params")
    @classmethod
    def _param_names(cls, value):
        for name in value:
            if not re.match(PARAM_NAME_PATTERN, str(name)):
                raise ValueError(f"parameter name '{name}' must be an identifier (letters, digits, '_')")
            if name in RESERVED_NODE_KEYS:
                raise ValueError(f"'{name}' cannot be a parameter name: it is a node key")
        return value

    def node_names(self) -> list[str]:
        """The name of every node, derived where the block gives none."""
        return [node.name or derived_name(node.kind, i) for i, node in enumerate(self.layers)]

    def output_name(self) -> str:
        """The node whose result the block returns."""
        return self.outputs or self.node_names()[-1]


RESERVED_NODE_KEYS = (
    "type",
    "name",
    "inputs",
    "repeat",
    "share",
    "call",
    "adapt",
    "trainable",
    "freeze",
    "preprocess_input",
)
