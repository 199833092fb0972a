"""Reading the JSON files a run directory holds (`run.json`, `metrics.json`, `labels.json`, ...).

One reader for every command, `runs` included (which must stay light: this
module imports only the standard library and kerascli's errors).
"""

from __future__ import annotations

import json
from pathlib import Path

from kerascli.errors import KerasCliError


def read_run_json(path: Path) -> dict:
    """A JSON object a run holds (`run.json`, `metrics.json`, `labels.json`), or {} when missing.

    Raises:
        KerasCliError: the file is not valid JSON, or not a JSON object.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise KerasCliError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KerasCliError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); the run directory is damaged"
        ) from None
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a string"}.get(type(data), f"a {type(data).__name__}")
        raise KerasCliError(f"{path}: holds {kind}, expected a JSON object; the run directory is damaged")
    return data
