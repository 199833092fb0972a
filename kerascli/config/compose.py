"""`extends:`: a config built on other config files, every value keeping its file.

    # configs/iris_wide.yaml
    extends: iris.yaml            # or a list, applied in order: [base.yaml, small-data.yaml]
    name: iris-wide
    model:
      layers:                     # a list replaces the base's whole list
        - {type: Dense, units: 64, activation: relu}
        - {type: Dense, units: 64, activation: relu}
        - {type: Dense, units: 3, activation: softmax}

The merge rules are JSON Merge Patch's (RFC 7386), applied to each base in
turn and then to the file itself:

- mappings merge key by key, recursively;
- anything else (a list, a scalar) replaces what the base had: lists are
  replaced whole, never merged item by item;
- `null` deletes the key (inside a list, `null` is a value like any other).

Every value keeps the position it was written at, so a problem in a value
that came from `base.yaml` is reported at `base.yaml:LINE:COL`. Relative
paths (data files, and the `extends` entries themselves) are relative to the
file that wrote them: `Document.resolve_path` knows which file that was.
Nothing here imports Keras.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from pathlib import Path
from typing import Callable

from kerascli.config.document import Document, Key
from kerascli.errors import ConfigError

EXTENDS = "extends"
SUFFIXES = (".yaml", ".yml")

Reader = Callable[[Path, str], Document]


def resolve_extends(doc: Document, read: Reader) -> Document:
    """`doc` with the files it extends merged under it (itself when it extends none).

    Args:
        doc: the parsed config file.
        read: reads and parses one file: `read(path, display) -> Document`.

    Returns:
        The merged `Document`: `data` without `extends`, each key's location
        in the file that set it, `files` listing every file in merge order.

    Raises:
        ConfigError: a bad `extends` value, a missing base file, a cycle, or
            any error in a base file (at that file's line and column).
    """
    return _resolve(doc, read, chain=())


def _resolve(doc: Document, read: Reader, chain: tuple[tuple[Path, str], ...]) -> Document:
    chain = chain + ((doc.path, doc.display),)
    bases = _bases(doc)
    own = dataclasses.replace(
        doc,
        data={k: v for k, v in doc.data.items() if k != EXTENDS},
        locations={k: v for k, v in doc.locations.items() if k[:1] != (EXTENDS,)},
        files=[doc.path],
    )
    merged: Document | None = None
    for key, path, display in bases:
        seen = [p for p, _ in chain]
        if path in seen:
            cycle = " → ".join([d for _, d in chain[seen.index(path) :]] + [display])
            raise ConfigError(
                [doc.problem(key, f"cycle {cycle}: a config cannot extend itself, directly or through other files")]
            )
        base = _resolve(_stamped(read(path, display)), read, chain)
        merged = base if merged is None else merge(merged, base)
    return own if merged is None else merge(merged, own)


def _bases(doc: Document) -> list[tuple[Key, Path, str]]:
    """`(key, absolute path, display)` of each file `doc` extends, checked to exist."""
    value = doc.data.get(EXTENDS)
    if value is None:
        return []
    if isinstance(value, str):
        entries = [((EXTENDS,), value)]
    elif isinstance(value, list):
        entries = [((EXTENDS, i), item) for i, item in enumerate(value)]
    else:
        raise ConfigError([doc.problem((EXTENDS,), f"expected a config file or a list of them, got {value!r}")])
    out, problems = [], []
    for key, item in entries:
        if not isinstance(item, str) or not item.strip():
            problems.append(doc.problem(key, f"expected the path of a YAML config file, got {item!r}"))
            continue
        if not item.lower().endswith(SUFFIXES):
            problems.append(doc.problem(key, f"expected a YAML config file ({' or '.join(SUFFIXES)}), got '{item}'"))
            continue
        path = doc.resolve_path(key, item)
        display = item if Path(item).is_absolute() else os.path.normpath(Path(doc.display).parent / item)
        if not path.is_file():
            problems.append(doc.problem(key, f"no such config file: {display}"))
            continue
        out.append((key, path.resolve(), display))
    if problems:
        raise ConfigError(problems)
    return out


def _stamped(doc: Document) -> Document:
    """`doc` with its own directory written on every location (for relative paths)."""
    locations = {k: dataclasses.replace(v, base_dir=v.base_dir or doc.base_dir) for k, v in doc.locations.items()}
    return dataclasses.replace(doc, locations=locations)


def merge(base: Document, patch: Document) -> Document:
    """`patch` merged onto `base` (RFC 7386), each key keeping the location of the file that set it.

    Args:
        base: the document merged onto; left unchanged.
        patch: the document whose values win.

    Returns:
        A new `Document` named after `patch`, with `files` from both.
    """
    data = copy.deepcopy(base.data)
    locations = dict(base.locations)
    _merge_into(data, patch.data, (), locations, patch.locations)
    files = list(dict.fromkeys([*(base.files or [base.path]), *(patch.files or [patch.path])]))
    locations[()] = patch.locations.get((), locations.get(()))
    return dataclasses.replace(patch, data=data, locations=locations, files=files)


def _merge_into(target: dict, patch: dict, prefix: Key, locations: dict, patch_locations: dict) -> None:
    for name, value in patch.items():
        key = prefix + (name,)
        if isinstance(value, dict):
            if not isinstance(target.get(name), dict):
                _drop(locations, key)
                target[name] = {}
            _locate(locations, key, patch_locations)
            _merge_into(target[name], value, key, locations, patch_locations)
            continue
        _drop(locations, key)
        if value is None:
            target.pop(name, None)
            continue
        target[name] = copy.deepcopy(value)
        locations.update({k: v for k, v in patch_locations.items() if k[: len(key)] == key})


def _drop(locations: dict, key: Key) -> None:
    for existing in [k for k in locations if k[: len(key)] == key]:
        del locations[existing]


def _locate(locations: dict, key: Key, patch_locations: dict) -> None:
    if key in patch_locations:
        locations[key] = patch_locations[key]
