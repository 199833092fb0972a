"""Loading a saved `.keras` model in Keras' safe mode, with a one-line answer when it is refused.

Keras explains a refusal in a paragraph that often ends in a dump of the
object's whole config (5–11 lines for a custom layer); an HDF5 file renamed
`.keras` gets "File not found" although it exists. kerascli says, on one
line, which file was refused and why.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from kerascli.errors import KerasCliError

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
MAX_REASON = 300
# Where Keras' messages turn from the reason to a dump of the config or to advice about turning safety off.
_DUMPS = re.compile(r"\s*(Full object config:|Config:|The config|Received config=|config=\{|\{'module')", re.S)


def load_saved(keras, path: str | Path, compile: bool = True):
    """`keras.saving.load_model(path, safe_mode=True)`, or a one-line `KerasCliError`.

    Args:
        keras: the Keras module.
        path: a `.keras` file.
        compile: also restore the optimizer and loss (`evaluate` needs them).

    Raises:
        KerasCliError: the file is missing, is not a `.keras` archive (e.g. an
            HDF5 file renamed), or Keras refused or failed to load it.
    """
    path = Path(path)
    check_archive(path)
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=compile)
    except Exception as exc:  # noqa: BLE001 - a corrupt or unsafe file raises many types
        raise KerasCliError(f"refused to load {path}: {reason(exc)}") from None


def load_run_model(path: str | Path):
    """A run's `model.keras` for evaluate/predict/serve, loaded without running its initializers.

    `kerascli.engine.loading.load_for_inference` (safe mode), or a one-line
    `KerasCliError` as `load_saved` gives.
    """
    from kerascli.engine.loading import load_for_inference

    path = Path(path)
    check_archive(path)
    try:
        return load_for_inference(path)
    except Exception as exc:  # noqa: BLE001 - a corrupt or unsafe file raises many types
        raise KerasCliError(f"refused to load {path}: {reason(exc)}") from None


def check_archive(path: Path) -> None:
    """Raises unless `path` is a readable zip archive, as every `.keras` file is."""
    if not path.is_file():
        raise KerasCliError(f"cannot load {path}: no such file")
    with open(path, "rb") as handle:
        head = handle.read(len(HDF5_SIGNATURE))
    if head == HDF5_SIGNATURE:
        raise KerasCliError(
            f"refused to load {path}: it is a legacy HDF5 (.h5) model renamed .keras; kerascli loads only Keras' "
            "own .keras archives (Keras ignores safe_mode for HDF5, CVE-2025-9905)"
        )
    if not zipfile.is_zipfile(path):
        raise KerasCliError(f"cannot load {path}: not a .keras file (a .keras model is a zip archive)")


def reason(exc: BaseException) -> str:
    """The first sentences of a Keras loading error, without config dumps, on one line."""
    from kerascli.model.objects import ANSI

    text = ANSI.sub("", str(exc)).strip() or type(exc).__name__
    text = text.rsplit("Exception encountered:", 1)[-1].strip()  # the innermost cause, not the wrapper's advice
    text = _DUMPS.split(text, maxsplit=1)[0]
    text = " ".join(line.strip() for line in text.splitlines() if line.strip())
    text = re.split(r"(?<=\.)\s+(?:If you trust|This carries|Please ensure|Make sure)", text, maxsplit=1)[0]
    if "Could not locate class" in text:
        text = text.split(".", 1)[0] + ": a custom object; import the module that registers it with --plugin MODULE"
    if len(text) > MAX_REASON:
        text = text[: MAX_REASON - 3].rsplit(" ", 1)[0] + "..."
    return text.rstrip(" .:") + " (Keras safe mode)" if "safe_mode" in str(exc) or "unsafe" in str(exc) else text
