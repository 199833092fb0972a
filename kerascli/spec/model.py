"""The `model:` section: inputs, a list of nodes, outputs.

One list of nodes covers Sequential stacks and functional graphs: a node's
`inputs` defaults to the previous node (the model input for the first), and
naming nodes and pointing `inputs` at them gives any DAG.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Union

from pydantic import ConfigDict, Field, PositiveInt, field_validator

from kerascli.spec.base import StrictModel

NodeInputs = Union[str, list[str], dict[str, str]]
"""A node name, a list of names (merge layers), or keyword call arguments."""

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"


class InputSpec(StrictModel):
    """One model input.

    Args:
        shape: the shape of one sample (no batch dimension); `null` for a
            variable-length axis.
        dtype: the Keras dtype of the input (default float32).
    """

    shape: list[PositiveInt | None]
    dtype: str = "float32"


class Node(StrictModel):
    """One layer (or block) call in the graph.

    Every key other than `type`, `name`, `inputs` and `repeat` is a constructor
    argument of the Keras class named by `type`; those are checked against the
    catalogue of the installed Keras, not here.
    """

    model_config = ConfigDict(extra="allow")

    type: str = Field(min_length=1)
    name: str | None = Field(default=None, pattern=NAME_PATTERN)
    inputs: NodeInputs | None = None
    repeat: PositiveInt = 1

    @property
    def kwargs(self) -> dict[str, Any]:
        """The constructor arguments of the layer."""
        return dict(self.model_extra or {})


def derived_name(layer_type: str, index: int) -> str:
    """The stable name of an unnamed node: `Dense` at index 3 → `dense_3`."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", layer_type).lower()
    return f"{snake}_{index}"


class ModelSpec(StrictModel):
    """The `model:` section.

    Args:
        inputs: model inputs by name; inferred from the training data if absent.
        layers: the nodes, in order.
        outputs: the node(s) whose outputs the model returns (default: the last).
            Several outputs make the model's outputs a dict keyed by name.
    """

    inputs: dict[str, InputSpec] | None = None
    layers: list[Node] = Field(min_length=1)
    outputs: Union[str, list[str], None] = None

    @field_validator("inputs")
    @classmethod
    def _input_names(cls, value):
        if value is not None:
            if not value:
                raise ValueError("expected at least one input, or leave 'inputs' out to infer it from the data")
            for name in value:
                if not re.match(NAME_PATTERN, name):
                    raise ValueError(f"input name '{name}' must start with a letter or '_' and hold only letters, digits, '_', '-' or '.'")
        return value

    def node_names(self) -> list[str]:
        """The name of every node, derived where the config gives none."""
        return [node.name or derived_name(node.type, i) for i, node in enumerate(self.layers)]

    def output_names(self) -> list[str]:
        """The names of the output nodes."""
        if self.outputs is None:
            return [self.node_names()[-1]]
        return [self.outputs] if isinstance(self.outputs, str) else list(self.outputs)
