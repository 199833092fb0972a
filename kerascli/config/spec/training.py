"""The `compile:`, `fit:`, `evaluate:` and `predict:` sections."""

from __future__ import annotations

from typing import Literal, Union

from pydantic import Field, NonNegativeInt, PositiveInt

from kerascli.config.spec.base import KerasObject, StrictModel

Metrics = Union[list[KerasObject], dict[str, Union[KerasObject, list[KerasObject]]]]


class CompileSpec(StrictModel):
    """Arguments of `Model.compile()`.

    Args:
        optimizer: a name (`adam`) or `{type: Adam, learning_rate: ...}`;
            `learning_rate` may itself be a schedule `{type: ExponentialDecay, ...}`.
        loss: a loss, or a mapping of output name to loss.
        metrics: a list of metrics, or a mapping of output name to metrics.
        loss_weights: a list, or a mapping of output name to weight.
        jit_compile: Keras' `jit_compile` (`auto` lets Keras decide).
        steps_per_execution: batches run per call of the train function
            (Keras 3 takes it in `compile()`, so it lives here); batch
            callbacks run once per call. `auto` (the default) lets kerascli
            choose, see `kerascli.engine.speed`.
        fast_pool: JAX only: compute non-overlapping max pools (pool size ==
            strides) as reshape + max, whose gradient is several times
            faster on CPU than Keras' `reduce_window`; exact, see
            `kerascli.engine.jax_pool`. `KERASCLI_FAST_POOL=0` also turns it off.
    """

    optimizer: KerasObject = Field(default_factory=lambda: KerasObject.model_validate("rmsprop"))
    loss: Union[KerasObject, dict[str, KerasObject], None] = None
    metrics: Metrics | None = None
    loss_weights: Union[list[float], dict[str, float], None] = None
    jit_compile: Union[bool, str] = "auto"
    steps_per_execution: Union[PositiveInt, Literal["auto"]] = "auto"
    fast_pool: bool = True


class FitSpec(StrictModel):
    """Arguments of `Model.fit()` that make sense in a file."""

    epochs: PositiveInt = 1
    batch_size: PositiveInt = 32
    shuffle: bool = True
    class_weight: dict[Union[int, str], float] | None = None
    callbacks: list[KerasObject] = []
    initial_epoch: NonNegativeInt = 0
    steps_per_epoch: PositiveInt | None = None
    validation_steps: PositiveInt | None = None
    validation_batch_size: PositiveInt | None = None
    validation_freq: PositiveInt = 1


class EvaluateSpec(StrictModel):
    """Arguments of `Model.evaluate()` used by `kerascli evaluate`."""

    batch_size: PositiveInt = 32


class PredictSpec(StrictModel):
    """Arguments of `Model.predict()` used by `kerascli predict`."""

    batch_size: PositiveInt = 32


class OutputSpec(StrictModel):
    """Where runs are written: `<dir>/<name>/<timestamp>/`.

    `dir` is relative to the working directory (like `--output-dir`), so that
    `kerascli evaluate` with no argument finds the latest run under `./runs`;
    data paths, which are inputs, are relative to the config file.
    """

    dir: str = Field(default="runs", min_length=1)
