"""Which layers train: the `freeze:`/`unfreeze:` selections of nodes and `fit.phases`.

A selection is a list of regular expressions, full-matched against layer
names (or paths inside nested models, `backbone/block_16_expand`), or layer
positions in a nested model's own `layers` list, as the Keras transfer-learning
guide counts them (`base_model.layers[:100]`). See `kerascli.model.freezing`.
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Discriminator, Field, NonNegativeInt, PositiveInt, Tag, model_validator

from kerascli.config.spec.base import StrictModel


class Positions(StrictModel):
    """Layers of a nested model by position: exactly one of `first`, `last`, `all_but_last`.

    Args:
        of: the node (application or block instance) whose layers are counted;
            needed in `fit.phases` (a node's own `freeze:` counts its own layers).
        first: the first N layers.
        last: the last N layers.
        all_but_last: every layer but the last N.
    """

    of: str | None = Field(default=None, min_length=1)
    first: PositiveInt | None = None
    last: PositiveInt | None = None
    all_but_last: NonNegativeInt | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Positions:
        given = [k for k in ("first", "last", "all_but_last") if getattr(self, k) is not None]
        if len(given) != 1:
            found = f", got {', '.join(given)}" if given else ""
            raise ValueError(f"give exactly one of 'first', 'last' or 'all_but_last'{found}")
        return self


def _form(value) -> str:
    """The union branch of a value: its errors alone are reported (braced like Pydantic's own segments)."""
    return "{positions}" if isinstance(value, (dict, Positions)) else "{patterns}"


Selection = Annotated[
    Union[
        Annotated[list[Annotated[str, Field(min_length=1)]], Tag("{patterns}")],
        Annotated[Positions, Tag("{positions}")],
    ],
    Discriminator(_form),
]
"""Layers to freeze or unfreeze: regular expressions over layer names, or positions."""
