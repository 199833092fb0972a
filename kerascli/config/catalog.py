"""Catalogue of the Keras names and constructor arguments a config may use.

`kerascli validate` checks the Keras names in a config (layer types,
optimizers, losses, ...) and their keyword arguments without importing Keras,
which costs more than a second. The catalogue is generated ahead of time from
the installed Keras by `generate_catalog()` (run `tools/generate_catalog.py`)
and shipped as `kerascli/catalog.json`; `load_catalog()` reads it back.

This module imports Keras only inside `generate_catalog()`.

Kinds are listed in `KINDS`. Every kind maps names to `Entry` objects:

- canonical entries: a class under its public Keras name (e.g.
  `"MaxPooling2D"`), a function under its name (e.g. `"mean_squared_error"`),
  or a special compile string (`"accuracy"` for metrics, `"crossentropy"` for
  losses, which `Model.compile` resolves from the target shapes);
- aliases: other exported names of the same class (`"MaxPool2D"`) and the
  string identifiers that the kind's `keras.<kind>.get` accepts (`"adam"`,
  `"mse"`, `"he_normal"`, `"swish"`, ...).

`Argument.type` is one of these strings, or `None` when unknown (any value):

- `"integer"`, `"number"`, `"boolean"`, `"string"`, `"array"`, `"object"`:
  JSON Schema type names (`"number"` accepts integers too);
- `"integer|array"`: an int or a list of ints (`kernel_size`, `strides`);
- `"string|object"`: a Keras identifier, given by name (`"he_normal"`) or as
  a `{"class_name": ..., "config": {...}}` dict (initializers, regularizers,
  constraints).

The type describes non-null values: an argument whose default is `None` also
accepts null. Defaults that JSON cannot hold (objects, callables, non-finite
floats) are stored as `None` and then give no type.
"""

import dataclasses
import difflib
import functools
import json
from pathlib import Path
from typing import Any

KINDS = (
    "layers",
    "optimizers",
    "schedules",
    "losses",
    "metrics",
    "callbacks",
    "activations",
    "initializers",
    "regularizers",
    "constraints",
    "applications",
)

CATALOG_PATH = Path(__file__).with_name("catalog.json")

FORMAT_VERSION = 1

# Allowed values of `Entry.form`.
FORMS = ("class", "function", "special")

# Longest description kept for an entry or an argument (characters).
_MAX_DESCRIPTION = 200


@dataclasses.dataclass(frozen=True)
class Argument:
    """One constructor argument of a catalogue entry.

    Args:
        name: Argument name.
        required: Whether the signature has no default for it.
        default: JSON-able default; `None` if required or if the default
            cannot be written as JSON.
        type: Type string (see the module docstring) or `None` if unknown.
        description: Short text from the docstring's `Args:` section, or `""`.
        nullable: Whether null is accepted although the default is not None
            (an application's `weights: null`).
    """

    name: str
    required: bool
    default: Any
    type: str | None
    description: str
    nullable: bool = False


@dataclasses.dataclass(frozen=True)
class Entry:
    """One usable Keras name of a kind.

    Args:
        kind: One of `KINDS`.
        name: Canonical public name, e.g. `"MaxPooling2D"`.
        arguments: Constructor arguments by name, in signature order,
            excluding `self`, `*args` and `**kwargs`.
        accepts_kwargs: Extra keyword names that `**kwargs` lets through to
            the base class (e.g. `name`, `dtype`, `trainable` for layers).
        description: First sentence of the docstring.
        form: `"class"` (configurable with arguments), `"function"` (named
            by a string only) or `"special"` (a compile-time string such as
            `"accuracy"`, named by a string only).
        requires: Pip packages without which the constructor raises
            ImportError (e.g. `("tensorflow",)` for `StringLookup`), found
            from availability checks in the Keras source.
        module: For applications: the `keras.applications` submodule whose
            `preprocess_input` goes with the model (`"mobilenet_v2"`).
    """

    kind: str
    name: str
    arguments: dict[str, Argument]
    accepts_kwargs: tuple[str, ...]
    description: str
    form: str = "class"
    requires: tuple[str, ...] = ()
    module: str = ""

    def allowed_kwargs(self) -> tuple[str, ...]:
        """Returns every keyword name the constructor accepts.

        Returns:
            The argument names followed by `accepts_kwargs`.
        """
        return tuple(self.arguments) + self.accepts_kwargs


class Catalog:
    """Read-only view of a generated catalogue (the `catalog.json` dict).

    Args:
        data: The dict produced by `generate_catalog()`.
    """

    def __init__(self, data: dict):
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                "Unsupported catalogue format "
                f"{data.get('format_version')!r}; expected {FORMAT_VERSION}. "
                "Regenerate it with tools/generate_catalog.py."
            )
        self._data = data
        self._kinds = data["kinds"]
        self._entry_cache: dict[tuple[str, str], Entry] = {}
        self._names_cache: dict[str, list[str]] = {}
        self._lower_cache: dict[str, dict[str, str]] = {}

    def _kind(self, kind: str) -> dict:
        try:
            return self._kinds[kind]
        except KeyError:
            raise ValueError(f"Unknown kind {kind!r}; expected one of {', '.join(KINDS)}.") from None

    def keras_version(self) -> str:
        """Returns the Keras version the catalogue was generated from."""
        return self._data["keras_version"]

    def names(self, kind: str) -> list[str]:
        """Returns every name a config may use for `kind`.

        Args:
            kind: One of `KINDS`.

        Returns:
            Sorted list of canonical names, aliases and string identifiers.
        """
        if kind not in self._names_cache:
            data = self._kind(kind)
            self._names_cache[kind] = sorted(set(data["entries"]) | set(data["aliases"]))
        return list(self._names_cache[kind])

    def canonical_names(self, kind: str) -> list[str]:
        """Returns the canonical entry names of `kind` (no aliases).

        Args:
            kind: One of `KINDS`.

        Returns:
            Sorted list of names.
        """
        return sorted(self._kind(kind)["entries"])

    def aliases(self, kind: str) -> dict[str, str]:
        """Returns the aliases of `kind`.

        Args:
            kind: One of `KINDS`.

        Returns:
            Dict mapping each alias to its canonical entry name.
        """
        return dict(self._kind(kind)["aliases"])

    def entries(self, kind: str) -> list[Entry]:
        """Returns the canonical entries of `kind`, sorted by name.

        Args:
            kind: One of `KINDS`.

        Returns:
            List of `Entry`.
        """
        return [self.get(kind, name) for name in self.canonical_names(kind)]

    def get(self, kind: str, name: str) -> Entry | None:
        """Looks a name up, resolving aliases and string identifiers.

        Args:
            kind: One of `KINDS`.
            name: A name as written in a config, e.g. `"MaxPool2D"`,
                `"adam"` or `"mse"`. Matching is exact (case-sensitive),
                as in Keras.

        Returns:
            The canonical `Entry`, or `None` if the name is unknown.
        """
        data = self._kind(kind)
        if not isinstance(name, str):
            return None
        canonical = data["aliases"].get(name, name)
        raw = data["entries"].get(canonical)
        if raw is None:
            return None
        key = (kind, canonical)
        entry = self._entry_cache.get(key)
        if entry is None:
            entry = Entry(
                kind=kind,
                name=canonical,
                arguments={arg_name: Argument(name=arg_name, **arg) for arg_name, arg in raw["arguments"].items()},
                accepts_kwargs=tuple(raw["accepts_kwargs"]),
                description=raw["description"],
                form=raw["form"],
                requires=tuple(raw["requires"]),
                module=raw.get("module", ""),
            )
            self._entry_cache[key] = entry
        return entry

    def suggest(self, kind: str, name: str) -> str | None:
        """Returns the known name closest to a possibly misspelt one.

        A known name is returned as is; then a case-insensitive match wins
        (`"dense"` -> `"Dense"`); otherwise `difflib.get_close_matches`
        picks the closest name.

        Args:
            kind: One of `KINDS`.
            name: The name to match.

        Returns:
            The best matching name, or `None` if nothing is close.
        """
        if not isinstance(name, str) or not name:
            return None
        data = self._kind(kind)
        if name in data["entries"] or name in data["aliases"]:
            return name
        lowered = self._lowered(kind)
        key = name.lower()
        if key in lowered:
            return lowered[key]
        matches = difflib.get_close_matches(key, list(lowered), n=1, cutoff=0.6)
        return lowered[matches[0]] if matches else None

    def _lowered(self, kind: str) -> dict[str, str]:
        # Lower-cased name -> name, preferring canonical names, then names
        # that are already lower case, then the alphabetically first.
        if kind not in self._lower_cache:
            data = self._kind(kind)
            ranked = sorted(
                self.names(kind),
                key=lambda n: (n not in data["entries"], n != n.lower(), n),
            )
            table: dict[str, str] = {}
            for n in ranked:
                table.setdefault(n.lower(), n)
            self._lower_cache[kind] = table
        return self._lower_cache[kind]

    def add(self, kind: str, name: str, entry: dict, aliases: tuple[str, ...] = ()) -> None:
        """Adds a custom class (from a `--plugin` module) to this catalogue.

        Args:
            kind: One of `KINDS`.
            name: The registered name, e.g. `"mypkg>Residual"`.
            entry: The entry dict, as `_class_entry` builds it.
            aliases: Other names for it (the bare class name).
        """
        data = self._kind(kind)
        data["entries"][name] = entry
        for alias in aliases:
            data["aliases"][alias] = name
        self._names_cache.pop(kind, None)
        self._lower_cache.pop(kind, None)


@functools.cache
def load_catalog() -> Catalog:
    """Loads the catalogue shipped with kerascli, without importing Keras.

    Returns:
        The `Catalog` read from `kerascli/catalog.json` (cached).
    """
    with open(CATALOG_PATH, encoding="utf-8") as f:
        return Catalog(json.load(f))
