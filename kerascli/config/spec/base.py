"""Building blocks shared by every section of the spec."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    model_serializer,
    model_validator,
)


class StrictModel(BaseModel):
    """Base of every config section: unknown keys are errors, never ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class KerasObject(BaseModel):
    """A Keras object named by a config: a string or `{type: ClassName, **kwargs}`.

    `"adam"` and `{type: Adam, learning_rate: 0.01}` both name an optimizer;
    the kwargs are the class's constructor arguments, checked against the
    catalogue of the installed Keras (see `kerascli.config.checks`).
    """

    model_config = ConfigDict(extra="allow")

    type: str = Field(min_length=1)
    _as_string: bool = PrivateAttr(default=False)

    @model_validator(mode="wrap")
    @classmethod
    def _from_string(cls, value: Any, handler) -> KerasObject:
        if isinstance(value, str):
            obj = handler({"type": value})
            obj._as_string = True
            return obj
        return handler(value)

    @model_serializer(mode="wrap")
    def _to_string(self, handler):
        return self.type if self._as_string else handler(self)

    @property
    def is_string(self) -> bool:
        """Written as a bare string: Keras resolves it and keeps the spelling."""
        return self._as_string

    @property
    def kwargs(self) -> dict[str, Any]:
        """The constructor arguments (everything but `type`)."""
        return dict(self.model_extra or {})
