"""The search space of `kerascli tune`: its shape, and its fit to the config it tunes (no Keras)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kerascli.config import document, space
from kerascli.config.overrides import parse_override
from kerascli.config.space import fit, settings
from kerascli.errors import ConfigError

BASE = """\
name: iris
seed: 1
data:
  train: {path: data/iris.csv, x: [a, b], y: c}
  validation: {split: 0.3}
blocks:
  mlp:
    params: {width: 16}
    layers:
      - {type: Dense, units: $width, activation: relu, inputs: in}
model:
  layers:
    - {type: Dense, units: 16, activation: relu}
    - {type: mlp, width: 8}
    - {type: Dense, units: 3, activation: softmax}
compile:
  optimizer: {type: Adam, learning_rate: 0.01}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
fit: {epochs: 2}
tune:
  space:
"""
FIRST = BASE.count("\n") + 1  # the line of the first space key


def problems(entries: str, extra: str = "") -> list[str]:
    """The rendered problems of a space (entries indented under `space:`), shape and fit."""
    doc = document.parse(BASE + entries + extra, "cfg.yaml", Path("/nowhere/cfg.yaml"))
    try:
        found = space.from_config(doc)
    except ConfigError as exc:
        return exc.lines()
    return [p.render() for p in fit.check(found, doc)]


def test_a_good_space_reads_into_dimensions():
    text = BASE + (
        "    compile.optimizer.learning_rate: {loguniform: [1.0e-4, 1.0e-1]}\n"
        "    model.layers[0].units: {int: [16, 256], step: 16}\n"
        "    model.layers[0].activation: {choice: [relu, gelu]}\n"
        "    model.layers[1].width: {int: [4, 64], log: true}\n"
        "    blocks.mlp.params.width: {choice: [8, 16]}\n"
        "    fit.batch_size: {choice: [16, 32]}\n"
        "    data.validation.split: {uniform: [0.1, 0.4], step: 0.1}\n"
    )
    doc = document.parse(text, "cfg.yaml", Path("/nowhere/cfg.yaml"))
    found = space.from_config(doc)
    assert fit.check(found, doc) == []
    names = [d.name for d in found.dimensions]
    assert names[:2] == ["compile.optimizer.learning_rate", "model.layers[0].units"]
    units = found.dimensions[1]
    assert units.grid() == list(range(16, 257, 16))
    assert found.dimensions[6].grid() == [0.1, 0.2, 0.3, 0.4]
    assert found.dimensions[0].grid() is None


@pytest.mark.parametrize(
    "entry, expected",
    [
        (
            "model.layers[0].unit: {int: [8, 64]}",
            "model.layers[0].unit: unknown config key: model.layers[0] of Dense has no 'unit' (did you mean 'units'?)",
        ),
        (
            "fit.batchsize: {int: [8, 64]}",
            "fit.batchsize: unknown config key: fit has no 'batchsize' (did you mean 'batch_size'?)",
        ),
        ("model.layers[5].units: {int: [8, 64]}", "model.layers[5].units: no such item: model.layers has 3 entries"),
        (
            "model.layers[1].widht: {int: [4, 32]}",
            "model.layers[1].widht: unknown config key: model.layers[1] of mlp has no 'widht' (did you mean 'width'?)",
        ),
        (
            "model.layers[0].units: {uniform: [8, 64]}",
            "model.layers[0].units: {uniform: [8, 64]} gives floats, but 'units' of Dense takes an integer (use {int: [8, 64]})",
        ),
        (
            "blocks.mlp.params.width: {loguniform: [1, 30]}",
            "blocks.mlp.params.width: {loguniform: [1, 30]} gives floats, but parameter 'width' of block mlp takes an integer "
            "(use {int: [1, 30]})",
        ),
        (
            "fit.shuffle: {choice: [true, 3]}",
            "fit.shuffle: choice 3 is an integer, but fit.shuffle takes true or false",
        ),
        (
            "fit.batch_size: {int: [0, 64], step: 16}",
            "fit.batch_size: {int: [0, 64], step: 16} can give 0, which the config rejects: expected a value greater than 0, got 0",
        ),
        (
            "model.layers[0].activation: {choice: [relu, reluu]}",
            "model.layers[0].activation: {choice: [relu, reluu]} can give 'reluu', which the config rejects: "
            "unknown activation 'reluu' (did you mean 'relu'?)",
        ),
        (
            "compile.loss.from_logits: {choice: [true, false]}",
            "compile.loss.from_logits: cannot tune 'from_logits': compile.loss is 'sparse_categorical_crossentropy', "
            "not a mapping; write it as {type: ClassName, ...} to tune its arguments",
        ),
        ("backend: {choice: [jax, torch]}", "backend: 'backend' is fixed for a whole study; it cannot be tuned"),
        ("fit.epochs: {choice: []}", "fit.epochs: expected a non-empty list of values, got an empty list"),
        ("fit.epochs: {choice: [1, 1]}", "fit.epochs: 1 is listed twice"),
        ("fit.epochs: {int: [5, 1]}", "fit.epochs: expected low < high, got [5, 1]"),
        ("fit.epochs: {int: [1.5, 4]}", "fit.epochs: expected two integers [low, high], got [1.5, 4]"),
        ("fit.epochs: {int: [1, 10], step: 4}", "fit.epochs: high - low (9) is not a multiple of step 4"),
        ("fit.epochs: {int: [1, 8], step: 1, log: true}", "fit.epochs: give 'step' or 'log: true', not both"),
        (
            "compile.optimizer.learning_rate: {loguniform: [0, 0.1]}",
            "compile.optimizer.learning_rate: a log scale needs low > 0, got 0",
        ),
        (
            "compile.optimizer.learning_rate: {logunifrom: [0.1, 1]}",
            "compile.optimizer.learning_rate: unknown key 'logunifrom' (did you mean 'loguniform'?)",
        ),
        (
            "compile.optimizer.learning_rate: {uniform: [0.1, 1], int: [1, 2]}",
            "compile.optimizer.learning_rate: give one distribution per key, got both 'uniform' and 'int'",
        ),
        (
            "compile.optimizer.learning_rate: 0.01",
            "compile.optimizer.learning_rate: expected a distribution such as {loguniform: [1.0e-4, 1.0e-1]}, "
            "{uniform: [0.0, 0.5]}, {int: [16, 256], step: 16} or {choice: [relu, gelu]}, got 0.01",
        ),
        (
            "compile.optimizer.learning_rate: {choice: [0.1], step: 2}",
            "compile.optimizer.learning_rate: 'step' applies to int and uniform ranges, not to 'choice'",
        ),
        (
            "model.layers[x].units: {int: [1, 2]}",
            "model.layers[x].units: expected an integer index in 'model.layers[x].units'",
        ),
    ],
    ids=lambda v: v.split(":")[0][:40] if isinstance(v, str) else None,
)
def test_bad_space_entry_is_one_line_at_its_key(entry, expected):
    found = problems(f"    {entry}\n")
    assert found == [f"cfg.yaml:{FIRST}:{found[0].split(':')[2]}: {expected}"], found
    assert found[0].startswith(f"cfg.yaml:{FIRST}:")


def test_every_problem_at_once_each_at_its_line():
    found = problems("    fit.batchsize: {int: [8, 64]}\n    model.layers[0].units: {uniform: [8, 64]}\n")
    assert [line.split(":")[1] for line in found] == [str(FIRST), str(FIRST + 1)]


@pytest.mark.parametrize(
    "extra, expected",
    [
        ("  sampler: tpee\n", "tune.sampler: unknown sampler 'tpee' (did you mean 'tpe'?)"),
        ("  trials: 0\n", "tune.trials: expected a positive integer, got 0"),
        ("  direction: up\n", "tune.direction: expected minimize or maximize, got 'up'"),
        ("  trails: 3\n", "tune.trails: unknown key 'trails' (did you mean 'trials'?)"),
    ],
)
def test_bad_setting(extra, expected):
    found = problems("    fit.epochs: {int: [1, 3]}\n", extra)
    assert len(found) == 1 and found[0].endswith(expected), found
    assert found[0].startswith(f"cfg.yaml:{FIRST + 1}:3: ")


def test_an_empty_space_is_refused():
    doc = document.parse(BASE + "    {}\n".replace("    {}", "") + "", "cfg.yaml", Path("/nowhere/cfg.yaml"))
    with pytest.raises(ConfigError) as info:
        space.from_config(doc)
    assert info.value.lines()[0].endswith(
        "tune.space: expected a mapping of config keys to distributions "
        "(e.g. model.layers[0].units: {int: [16, 256]}), got None"
    )


def test_settings_default_to_the_monitored_metric_and_its_direction():
    doc = document.parse(
        BASE.replace("fit: {epochs: 2}", "fit: {epochs: 2, callbacks: [{type: EarlyStopping, monitor: val_accuracy}]}")
        + "    fit.epochs: {int: [1, 3]}\n",
        "cfg.yaml",
        Path("/nowhere/cfg.yaml"),
    )
    resolved = settings.resolve(space.from_config(doc), doc, {})
    assert (resolved.metric, resolved.direction, resolved.sampler, resolved.trials) == (
        "val_accuracy",
        "maximize",
        "tpe",
        20,
    )
    resolved = settings.resolve(space.from_config(doc), doc, {"metric": "val_loss", "trials": 6})
    assert (resolved.metric, resolved.direction, resolved.trials) == ("val_loss", "minimize", 6)


def test_a_metric_without_a_direction_or_without_validation_is_refused():
    doc = document.parse(BASE + "    fit.epochs: {int: [1, 3]}\n", "cfg.yaml", Path("/nowhere/cfg.yaml"))
    found = space.from_config(doc)
    with pytest.raises(ConfigError) as info:
        settings.resolve(found, doc, {"metric": "val_zork"})
    assert info.value.lines() == [
        "--metric: cannot tell whether 'val_zork' should be minimized or maximized: "
        "set direction: minimize or maximize (or --direction)"
    ]
    del doc.data["data"]["validation"]
    with pytest.raises(ConfigError) as info:
        settings.resolve(found, doc, {})
    assert "trials are scored by 'val_loss', but the config has no data.validation" in info.value.lines()[0]


def test_grid_needs_finite_dimensions():
    doc = document.parse(
        BASE + "    compile.optimizer.learning_rate: {loguniform: [1.0e-4, 1.0e-1]}\n    fit.epochs: {int: [1, 3]}\n",
        "cfg.yaml",
        Path("/nowhere/cfg.yaml"),
    )
    with pytest.raises(ConfigError) as info:
        settings.resolve(space.from_config(doc), doc, {"sampler": "grid"})
    assert info.value.lines() == [
        f"cfg.yaml:{FIRST}:5: compile.optimizer.learning_rate: the grid sampler needs a finite "
        "set of values, and {loguniform: [0.0001, 0.1]} has none: list the values with {choice: [...]}"
    ]
    doc.data["tune"]["space"].pop("compile.optimizer.learning_rate")
    assert settings.resolve(space.from_config(doc), doc, {"sampler": "grid"}).trials == 3


def test_overrides_parse_back_to_the_drawn_value():
    dimension = space.Dimension(
        ("model", "layers", 0, "activation"),
        "choice",
        choices=("relu", "1e-3", 0.5, None, {"type": "SGD", "momentum": 0.9}, [1, 2]),
    )
    for value in dimension.choices:
        key, parsed = parse_override(dimension.override(value))
        assert key == dimension.key and parsed == value and type(parsed) is type(value)
    assert dimension.value_of(dimension.labels()[4]) == {"type": "SGD", "momentum": 0.9}
