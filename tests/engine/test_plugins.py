"""`kerascli.engine.plugins`: custom Keras objects enter the catalogue only through --plugin."""

import sys
import textwrap

import pytest

from kerascli.config.catalog import load_catalog
from kerascli.engine import plugins
from kerascli.errors import UsageError

PLUGIN = """
import keras

@keras.saving.register_keras_serializable(package="kclitest")
class Doubler(keras.layers.Layer):
    \"\"\"Multiplies by a factor.

    Args:
        factor: the multiplier.
    \"\"\"

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor
"""


def test_a_plugin_layer_becomes_a_catalogue_name_with_its_arguments(tmp_path, monkeypatch):
    (tmp_path / "kcli_plugin_mod.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    added = plugins.load(["kcli_plugin_mod"])
    assert "kclitest>Doubler" in added
    entry = load_catalog().get("layers", "Doubler")
    assert entry is not None and "factor" in entry.arguments
    assert entry.arguments["factor"].default == 2.0
    sys.modules.pop("kcli_plugin_mod", None)


def test_a_module_that_cannot_be_imported_is_a_usage_error():
    with pytest.raises(UsageError, match="--plugin no_such_module_xyz: cannot import it: ModuleNotFoundError"):
        plugins.load(["no_such_module_xyz"])
