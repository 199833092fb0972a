"""The `distribution:` section: how training is spread over devices.

Two forms, both mapped onto `keras.distribution` (JAX backend only):

    distribution: {type: data_parallel}                  # every device, replicated weights
    distribution: {type: data_parallel, devices: [gpu:0, gpu:1]}
    distribution:
      type: model_parallel
      mesh: {shape: [2, 4], axis_names: [batch, model]}
      layout:                                            # variable-path regex -> one axis (or null) per dimension
        "dense.*kernel": [null, model]
        "dense.*bias": [model]
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Optional, Union

from pydantic import (
    AfterValidator,
    Field,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from kerascli.config.spec.base import StrictModel


def _device_name(name: str) -> str:
    if not re.fullmatch(r"(cpu|gpu|tpu):[0-9]+", name):
        raise ValueError(
            f"expected a device name such as gpu:0 or cpu:1 (as keras.distribution.list_devices() prints), got '{name}'"
        )
    return name


Device = Annotated[str, AfterValidator(_device_name)]


class DataParallelSpec(StrictModel):
    """Replicated weights; each batch split across devices (`keras.distribution.DataParallel`).

    Args:
        type: `data_parallel`.
        devices: device names such as `gpu:0` (default: every device, across
            all processes when training runs on several).
    """

    type: Literal["data_parallel"]
    devices: Optional[list[Device]] = Field(default=None, min_length=1)


class MeshSpec(StrictModel):
    """A `keras.distribution.DeviceMesh`.

    Args:
        shape: devices along each axis; their product is the number of devices used.
        axis_names: one name per axis; the first is the batch (data) axis
            unless `batch_dim_name` says otherwise.
        devices: device names (default: every device).
    """

    shape: list[PositiveInt] = Field(min_length=1)
    axis_names: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    devices: Optional[list[Device]] = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _same_rank(self) -> MeshSpec:
        if len(self.shape) != len(self.axis_names):
            raise ValueError(
                f"mesh.shape has {len(self.shape)} axes but axis_names has {len(self.axis_names)}; give one name per axis"
            )
        if len(set(self.axis_names)) != len(self.axis_names):
            raise ValueError(f"mesh.axis_names must be distinct, got {self.axis_names}")
        return self


class ModelParallelSpec(StrictModel):
    """Sharded weights (`keras.distribution.ModelParallel` with a `LayoutMap`).

    Args:
        type: `model_parallel`.
        mesh: the device mesh.
        layout: variable-path regex (full match, as Keras' `LayoutMap`) to one
            mesh axis name or `null` per dimension of the variable. Every
            regex must match at least one variable of the model.
        batch_dim_name: the mesh axis the batch is split along (default: the first).
    """

    type: Literal["model_parallel"]
    mesh: MeshSpec
    layout: dict[str, list[Optional[str]]] = Field(min_length=1)
    batch_dim_name: Optional[str] = None

    # Field validators (not a model validator) so that errors point at the field.
    @field_validator("layout")
    @classmethod
    def _layout(cls, layout: dict, info: ValidationInfo) -> dict:
        mesh = info.data.get("mesh")
        for pattern, axes in layout.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"layout key '{pattern}' is not a valid regular expression: {exc}") from None
            unknown = [a for a in axes if a is not None and mesh is not None and a not in mesh.axis_names]
            if unknown:
                raise ValueError(
                    f"layout '{pattern}' names axis '{unknown[0]}', which is not a mesh axis; "
                    f"expected one of {mesh.axis_names} or null"
                )
        return layout

    @field_validator("batch_dim_name")
    @classmethod
    def _batch_axis(cls, name: str | None, info: ValidationInfo) -> str | None:
        mesh = info.data.get("mesh")
        if name is not None and mesh is not None and name not in mesh.axis_names:
            raise ValueError(f"batch_dim_name '{name}' is not a mesh axis; expected one of {mesh.axis_names}")
        return name


DistributionSpec = Annotated[Union[DataParallelSpec, ModelParallelSpec], Field(discriminator="type")]
