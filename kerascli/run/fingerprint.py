"""What a run was made from: a content fingerprint of each data file, and the git commit of its config.

`run.json` records both, so `kerascli diff` can say which data changed
between two runs even when their configs name the same path.

A fingerprint is the file's size, its modification time and the SHA-256 of
its whole content. The digest is full, not sampled: a sampled digest misses
an edit between its samples that keeps the size (one corrected label in a
CSV), and a diff that says "same data" when the data changed is worse than
none. SHA-256 runs on the CPU's SHA instructions through OpenSSL, the fastest
digest `hashlib` has here, and it is the digest `run.json` already uses for
the config. Two files hold the same data when their digests are equal; size
and mtime are recorded for people (a copy or a checkout changes the mtime,
not the content). A directory (of `.npy` shards, of images) gets one digest
over its files' relative paths and digests, in sorted order.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any, Iterator

from kerascli.config.document import Document, Key, format_key
from kerascli.config.tables import FILE_SUFFIXES

DIGEST = "sha256"
ROLES = ("train", "validation", "test")  # what `train` reads, and `evaluate` (into the same run)
_BLOCK = 1 << 20


def data_files(doc: Document, resolved: dict) -> dict[str, dict[str, Any]]:
    """The fingerprint of every data file the run's config names, keyed by where the config names it.

    Args:
        doc: the config document (relative paths are relative to the file that wrote them).
        resolved: the resolved config.

    Returns:
        `{"data.train.path": {"path": ..., "size": ..., "mtime": ..., "sha256": ...}, ...}`;
        a file that does not exist is `{"path": ..., "missing": true}`.
    """
    return {
        format_key(key): fingerprint(doc.resolve_path(key, value).resolve())
        for key, value in _named_files(resolved.get("data") or {})
    }


def _named_files(data: dict) -> Iterator[tuple[Key, str]]:
    """`(key, value)` of each source's `path`, and of each `x`/`y` value that names a file."""
    for role in ROLES:
        source = data.get(role)
        if not isinstance(source, dict):
            continue
        if isinstance(source.get("path"), str):
            yield ("data", role, "path"), source["path"]
        for axis in ("x", "y"):
            value = source.get(axis)
            items = value.items() if isinstance(value, dict) else [(None, value)]
            for name, item in items:
                if isinstance(item, str) and ("path" not in source or item.lower().endswith(FILE_SUFFIXES)):
                    yield ("data", role, axis) + (() if name is None else (name,)), item


def fingerprint(path: Path) -> dict[str, Any]:
    """Size, modification time and content digest of a file, or of a directory's files."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        combined = hashlib.new(DIGEST)
        for file in files:
            combined.update(f"{file.relative_to(path).as_posix()}\0{file_digest(file)}\n".encode())
        size = sum(f.stat().st_size for f in files)
        return {"path": str(path), "files": len(files), "size": size, DIGEST: combined.hexdigest()}
    if not path.is_file():
        return {"path": str(path), "missing": True}
    stat = path.stat()
    mtime = datetime.datetime.fromtimestamp(stat.st_mtime, datetime.timezone.utc).isoformat(timespec="seconds")
    return {"path": str(path), "size": stat.st_size, "mtime": mtime, DIGEST: file_digest(path)}


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's content, read in 1 MiB blocks."""
    digest = hashlib.new(DIGEST)
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def git_source(files: list[Path]) -> dict[str, Any] | None:
    """The git commit of the repository holding the config, and whether its files differ from it.

    Args:
        files: the config files (the config and those it extends); the
            repository is the first one's.

    Returns:
        `{"git_commit": "<sha>", "git_dirty": bool}` (`git_dirty` None when
        git cannot tell, e.g. for a base file in another repository), or
        None outside a repository (or without git).
    """
    if not files:
        return None
    folder = Path(files[0]).parent
    try:
        commit = _git(folder, "rev-parse", "HEAD")
        if commit is None:
            return None
        status = _git(folder, "status", "--porcelain", "--", *(str(f) for f in files))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"git_commit": commit, "git_dirty": None if status is None else bool(status)}


def _git(folder: Path, *args: str) -> str | None:
    result = subprocess.run(
        ["git", "-C", str(folder), *args],
        capture_output=True,
        text=True,
        timeout=10,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
    )
    return result.stdout.strip() if result.returncode == 0 else None
