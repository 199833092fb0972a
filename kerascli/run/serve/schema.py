"""The request model of `POST /predict`, generated from the run's inputs.

Each input column becomes a field of `Row`: a strict JSON number (a string,
a boolean, NaN or infinity is refused), an integer for an integer input. An
input that is an array rather than table columns (an image from `.npz`, say)
becomes one field, named after the input, holding a nested list of exactly its
shape. Unknown fields are refused. FastAPI turns these models into the
OpenAPI document, so `/docs` lists the run's own columns.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, create_model


def scalar_type(dtype: str) -> Any:
    """The strict JSON scalar type for values of `dtype`."""
    if np.dtype(dtype).kind in "iub":
        return StrictInt
    return Annotated[StrictFloat, Field(allow_inf_nan=False)]  # strict: an int is a number, a string is not


def nested_type(shape: list[int | None], dtype: str) -> Any:
    """A nested list type of exactly `shape` (a None dimension takes any length)."""
    kind = scalar_type(dtype)
    for size in reversed(shape):
        kind = Annotated[list[kind], Field(min_length=size, max_length=size)] if size else list[kind]
    return kind


def field_names(inputs: list[dict]) -> dict[str, tuple[str, ...]]:
    """Each input's fields in a row: its columns, or its own name for an array input."""
    return {spec["name"]: tuple(spec["columns"]) if spec.get("columns") else (spec["name"],) for spec in inputs}


def row_model(inputs: list[dict]) -> type[BaseModel]:
    """The model of one row: a field per column (or per array input), each required.

    Args:
        inputs: the run's inputs, as in `signature.json`: `name`, `shape`
            (batch first), `dtype`, `columns` (None for an array input).

    Returns:
        A pydantic model; its fields are stored under `f<i>` and spelled as
        the columns in JSON (aliases), so any column name is allowed.
    """
    fields, index = {}, 0
    for spec in inputs:
        if spec.get("columns"):
            for column in spec["columns"]:
                fields[f"f{index}"] = (scalar_type(spec["dtype"]), Field(alias=column))
                index += 1
        else:
            fields[f"f{index}"] = (nested_type(spec["shape"][1:], spec["dtype"]), Field(alias=spec["name"]))
            index += 1
    return create_model("Row", __config__=ConfigDict(extra="forbid"), **fields)


def request_model(row: type[BaseModel], max_rows: int) -> type[BaseModel]:
    """`{"rows": [Row, ...]}` with 1 to `max_rows` rows."""
    return create_model("PredictRequest", rows=(list[row], Field(min_length=1, max_length=max_rows)))


def to_arrays(rows: list[BaseModel], inputs: list[dict]) -> dict[str, np.ndarray]:
    """The validated rows as one array per input, columns in the run's order, in the input's dtype."""
    attribute = {field.alias: name for name, field in type(rows[0]).model_fields.items()}
    arrays = {}
    for spec in inputs:
        if spec.get("columns"):
            keys = [attribute[column] for column in spec["columns"]]
            values = [[getattr(row, key) for key in keys] for row in rows]
        else:
            key = attribute[spec["name"]]
            values = [getattr(row, key) for row in rows]
        with np.errstate(over="ignore"):  # an overflow becomes inf, which the app refuses with its place
            arrays[spec["name"]] = np.asarray(values, dtype=spec["dtype"])
    return arrays
