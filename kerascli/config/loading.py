"""Loading a config file: read it, parse it with positions, merge what it `extends`, apply `--set`."""

from __future__ import annotations

import os
from pathlib import Path

from kerascli.config.compose import resolve_extends
from kerascli.config.document import Document, parse
from kerascli.config.overrides import apply_override
from kerascli.errors import ConfigError, Problem


def load(path: str | os.PathLike, overrides: list[str] = ()) -> Document:
    """Reads a config file, merges the files it extends, and applies `--set` overrides.

    Args:
        path: the YAML file.
        overrides: `a.b[0].c=value` strings; values are parsed as YAML scalars.

    Returns:
        The `Document`.

    Raises:
        ConfigError: unreadable file, YAML syntax error, duplicate key,
            unsupported tag, a document that is not a mapping, a bad
            `extends`, or a bad override.
    """
    doc = resolve_extends(read(Path(path), str(path)), read)
    for override in overrides:
        apply_override(doc, override)
    return doc


def read(file: Path, display: str) -> Document:
    """Reads and parses one YAML file as it is, without what it extends.

    Args:
        file: the file.
        display: its path as the user should see it in messages.
    """
    if file.is_dir():
        raise ConfigError([Problem(display, 0, 0, "", "is a directory, expected a YAML config file")])
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(display, 0, 0, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError([Problem(display, 0, 0, "", f"cannot read the config: {reason}")]) from None
    return parse(text, display, file.resolve())
