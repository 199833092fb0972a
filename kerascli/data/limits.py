"""What a data file may make kerascli allocate, and how much of its content a message may echo.

A data path can name any readable file (a symlink to a secret included) and
an `.npz` is a zip: a few MB of compressed zeros can declare gigabytes. So an
`.npz` array is checked against the memory budget from its header before it
is read, and messages quote at most a short, escaped excerpt of a cell, a
column name or a row (`kerascli.errors.excerpt`). Nothing here imports Keras.
"""

from __future__ import annotations

import os
import re

import numpy as np

from kerascli.config.document import Document
from kerascli.errors import excerpt


def default_budget() -> int:
    """A quarter of the machine's physical memory, in bytes."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (ValueError, OSError, AttributeError):
        return 2**30


def memory_budget(doc: Document) -> int:
    """Bytes that data read whole may take: the config's `data.memory_budget`, else `default_budget()`."""
    from pydantic import ByteSize, TypeAdapter

    section = doc.data.get("data")
    raw = section.get("memory_budget") if isinstance(section, dict) else None
    try:
        return int(TypeAdapter(ByteSize).validate_python(raw)) if raw is not None else default_budget()
    except ValueError:  # the spec reports it
        return default_budget()


def npz_declared(npz, name: str) -> tuple[int, tuple, np.dtype] | None:
    """`(bytes, shape, dtype)` that array `name` of an open `.npz` declares in its header, without reading it.

    Returns:
        None when the header cannot be read (reading the array then reports it).
    """
    member = name if name in npz.zip.namelist() else f"{name}.npy"
    try:
        with npz.zip.open(member) as handle:
            version = np.lib.format.read_magic(handle)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(handle)
    except Exception:  # noqa: BLE001 - a damaged member raises many types
        return None
    return int(np.prod(shape, dtype=object)) * dtype.itemsize, tuple(shape), dtype


def size_text(count: int) -> str:
    """`3.7 GiB` for a byte count."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


def arrow_reason(exc: Exception) -> str:
    """A reader's error message with the file content it quotes cut to a short excerpt.

    pyarrow quotes the offending row (`Expected 3 columns, got 6: 3,4,5,...`);
    at most a few characters of it are shown, on one line.
    """
    text = str(exc).strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    return re.sub(r"(got \d+): (.*)$", lambda m: f"{m.group(1)}: {excerpt(m.group(2))}", text)
