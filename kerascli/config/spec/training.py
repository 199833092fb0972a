"""The `compile:`, `fit:`, `evaluate:` and `predict:` sections."""

from __future__ import annotations

from typing import Literal, Union

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from kerascli.config.spec.base import KerasObject, StrictModel
from kerascli.config.spec.freezing import Selection

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
            strides) as the max of strided window slices, whose gradient is several times
            faster on CPU than Keras' `reduce_window`; exact, see
            `kerascli.engine.jax_pool`. `KERASCLI_FAST_POOL=0` also turns it off.
            It also turns on the few-tap convolution (a stride-1 conv reading at
            most 27 inputs per output, e.g. 3x3 on grey or RGB images, as a sum of
            shifted slices): equal to Keras' conv to float32 rounding, not bit for
            bit, see `kerascli.engine.jax_conv`; `KERASCLI_FAST_CONV=0` keeps it off.
    """

    optimizer: KerasObject = Field(default_factory=lambda: KerasObject.model_validate("rmsprop"))
    loss: Union[KerasObject, dict[str, KerasObject], None] = None
    metrics: Metrics | None = None
    loss_weights: Union[list[float], dict[str, float], None] = None
    jit_compile: Union[bool, str] = "auto"
    steps_per_execution: Union[PositiveInt, Literal["auto"]] = "auto"
    fast_pool: bool = True


class PhaseSpec(StrictModel):
    """One phase of `fit.phases`: epochs with their own trainable layers and optimizer.

    Args:
        name: shown by the progress display and in `run.json` (default `phase<N>`).
        epochs: how many epochs the phase runs.
        freeze: layers to freeze from this phase on: regular expressions over
            layer names, or `{of: NODE, first|last|all_but_last: N}`.
        unfreeze: layers to unfreeze from this phase on (applied after `freeze`).
        optimizer: the phase's optimizer (default: a fresh `compile.optimizer`).
        learning_rate: the optimizer's learning rate in this phase.
        callbacks: callbacks of this phase, besides `fit.callbacks`.
    """

    name: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    epochs: PositiveInt
    freeze: Selection | None = None
    unfreeze: Selection | None = None
    optimizer: KerasObject | None = None
    learning_rate: PositiveFloat | None = None
    callbacks: list[KerasObject] = []


class FitSpec(StrictModel):
    """Arguments of `Model.fit()` that make sense in a file, and `phases` (fine-tuning).

    `phases` runs one `fit` per phase, recompiling between them (see
    `kerascli.run.phases`); each phase gives its own `epochs`, so `epochs`
    and `initial_epoch` are not given with it.
    """

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
    phases: list[PhaseSpec] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _phases_own_epochs(self) -> FitSpec:
        if self.phases:
            clash = [k for k in ("epochs", "initial_epoch") if k in self.model_fields_set]
            if clash:
                raise ValueError(f"'{clash[0]}' cannot be given with 'phases': each phase sets its own epochs")
            names = [p.name for p in self.phases if p.name]
            if len(set(names)) != len(names):
                raise ValueError("phase names must be unique")
        return self


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
