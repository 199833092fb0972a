"""Loading the model to import: `.keras` only, in Keras' safe mode."""

from __future__ import annotations

from pathlib import Path

from kerascli.engine.keras_import import load_keras
from kerascli.errors import UsageError

LEGACY_SUFFIXES = (".h5", ".hdf5")


def load_model(path: Path):
    """Loads a `.keras` model file in Keras' safe mode (no Python code runs).

    Raises:
        UsageError: a legacy HDF5 file (whose loading ignores safe mode), a file
            that is not `.keras`, or a missing file.
        KerasCliError: Keras cannot load the file.
    """
    path = Path(path)
    if path.suffix.lower() in LEGACY_SUFFIXES:
        raise UsageError(
            f"{path}: legacy HDF5 model files are not read: Keras ignores safe_mode for them (CVE-2025-9905), "
            "so loading one can run code. Re-save the model in Keras' own format, in an environment you trust: "
            "model.save('model.keras')"
        )
    if path.suffix.lower() != ".keras":
        raise UsageError(f"{path}: expected a Keras model file ending in .keras, got '{path.suffix or path.name}'")
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    from kerascli.model.saved import load_saved

    return load_saved(load_keras(), path, compile=False)
