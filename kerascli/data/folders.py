"""Folders as sources: class subfolders of images or `.txt` files, or a flat folder to predict on.

The layout is `keras.utils.image_dataset_from_directory`'s (and
`text_dataset_from_directory`'s): one subfolder per class, named after it,
whose files (searched recursively) are that class's samples; classes are
the subfolder names in sorted order. A folder with no subfolders holds
unlabelled samples (what `predict` reads). Files are listed in sorted order,
so a seeded split by file is the same on every machine.

A folder reads as a small table with the columns `path` (the file's path
relative to the folder), `image` or `text`, and `label` (the class folder's
name; absent when the folder has no subfolders).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import numpy as np

from kerascli.data.selection import unknown

IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
"""What `image_dataset_from_directory` reads (its `ALLOWLIST_FORMATS`)."""
TEXT_SUFFIXES = (".txt",)


@dataclasses.dataclass
class FolderIndex:
    """The samples of one folder.

    Args:
        root: the folder.
        kind: `image` or `text`.
        files: every sample's path relative to `root`, sorted by class then name.
        labels: each file's class folder name, or None for an unlabelled folder.
        classes: the class folder names, sorted (empty when unlabelled).
    """

    root: Path
    kind: str
    files: list[str]
    labels: list[str] | None
    classes: list[str]

    @property
    def columns(self) -> list[str]:
        """The column names the folder offers."""
        return ["path", self.kind] + (["label"] if self.labels is not None else [])


def folder_kind(path: Path) -> str | None:
    """`image` or `text` when `path` is a folder of images or `.txt` files (class subfolders or flat), else None.

    A directory that holds `.npy` files is a set of shards, not a folder source.
    """
    if not path.is_dir():
        return None
    top = [p for p in path.iterdir() if not p.name.startswith(".")]
    if any(p.suffix.lower() == ".npy" for p in top if p.is_file()):
        return None
    for p in _walk_files(path):
        suffix = p.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            return "image"
        if suffix in TEXT_SUFFIXES:
            return "text"
    return None


def _walk_files(root: Path):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            yield Path(dirpath) / name


def index_folder(root: Path, kind: str, warn=None) -> FolderIndex:
    """Lists the samples of `root`, as Keras' `index_directory` does.

    Args:
        root: the folder.
        kind: `image` or `text` (which file suffixes count).
        warn: called with a message for each empty class folder (default:
            printed to stderr as `warning: ...`).

    Returns:
        The `FolderIndex`; files directly in `root` are ignored when it has
        class subfolders (as in Keras).
    """
    warn = warn or (lambda message: sys.stderr.write(f"warning: {message}\n"))
    suffixes = IMAGE_SUFFIXES if kind == "image" else TEXT_SUFFIXES
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        files = sorted(p.name for p in root.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
        return FolderIndex(root, kind, files, None, [])
    files, labels = [], []
    for name in classes:
        found = [p.relative_to(root).as_posix() for p in _walk_files(root / name) if p.suffix.lower() in suffixes]
        if not found:
            warn(f"class folder '{name}' of {root} holds no {kind} files ({', '.join(suffixes)})")
        files += found
        labels += [name] * len(found)
    return FolderIndex(root, kind, files, labels, classes)


def column(folder: FolderIndex, source, selection, fail):
    """One column of a folder: `path` and `label` as strings, `image` as `ImageFiles`, `text` as strings.

    Args:
        folder: the folder's index.
        source: the source spec (its image options).
        selection: the column name (None: the folder's `image` or `text`).
        fail: raises the error for a message (it knows the config location).
    """
    if isinstance(selection, list) and len(selection) == 1:
        selection = selection[0]
    if selection is None:
        selection = folder.kind
    if not isinstance(selection, str):
        fail(
            f"a folder's columns ({', '.join(folder.columns)}) cannot be combined into one array; give each its own input (a mapping)"
        )
    if selection not in folder.columns:
        if selection == "label":
            fail(f"{folder.root} has no class subfolders, so its files have no 'label'")
        fail(unknown(selection, folder.columns, folder.root.name))
    if selection == "path":
        return np.asarray(folder.files, dtype=object)
    if selection == "label":
        return np.asarray(folder.labels, dtype=object)
    if selection == "text":
        from kerascli.data.text import read_texts

        return read_texts(folder.root, folder.files, fail)
    from kerascli.data.images import ImageFiles

    images = ImageFiles(folder.root, folder.files, **source.image_options(), fail=fail)
    images.check_headers()
    return images
