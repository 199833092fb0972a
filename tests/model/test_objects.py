"""`kerascli.model.objects`: Keras objects resolved from config entries, and Keras errors made readable."""

import pytest
from conftest import write_config

from kerascli import config
from kerascli.config.spec import KerasObject
from kerascli.errors import ConfigError
from kerascli.model import objects


@pytest.fixture
def doc(workdir):
    return config.load(write_config(workdir, "model:\n  layers: []\n"))


def test_objects_resolve_through_keras_by_string_and_by_type(doc):
    keras = objects.keras
    adam = objects.resolve_object("optimizers", KerasObject.model_validate("adam"), doc, ("compile", "optimizer"))
    assert isinstance(adam, keras.optimizers.Adam)
    sgd = objects.resolve_object(
        "optimizers", KerasObject.model_validate({"type": "SGD", "learning_rate": 0.5}), doc, ("compile", "optimizer")
    )
    assert isinstance(sgd, keras.optimizers.SGD)
    assert float(sgd.learning_rate) == pytest.approx(0.5)


def test_a_learning_rate_schedule_is_built_as_an_object_first(doc):
    spec = KerasObject.model_validate(
        {
            "type": "Adam",
            "learning_rate": {
                "type": "ExponentialDecay",
                "initial_learning_rate": 0.1,
                "decay_steps": 10,
                "decay_rate": 0.5,
            },
        }
    )
    adam = objects.resolve_object("optimizers", spec, doc, ("compile", "optimizer"))
    assert isinstance(adam._learning_rate, objects.keras.optimizers.schedules.ExponentialDecay)
    assert adam._learning_rate.decay_steps == 10


def test_layers_that_run_code_are_never_built(doc):
    assert objects.layer_class("Lambda") is None
    assert objects.layer_class("Dense") is objects.keras.layers.Dense


def test_a_keras_rejection_names_the_node(doc):
    with pytest.raises(ConfigError) as info:
        objects.make_layer("Dense", {"units": -1}, "head", doc, ("model", "layers", 0))
    assert "model.layers[0]" in str(info.value)
    assert "units" in str(info.value)


def test_clean_makes_one_line_without_ansi_codes():
    error = ValueError(
        "\x1b[1mException encountered when calling Dense.call().\x1b[0m\n\n  bad shape\n\nArguments received by Dense.call():\n  x=..."
    )
    assert objects.clean(error) == "bad shape"
