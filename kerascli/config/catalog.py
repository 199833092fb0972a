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
import math
import os
import re
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
    """

    name: str
    required: bool
    default: Any
    type: str | None
    description: str


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
    """

    kind: str
    name: str
    arguments: dict[str, Argument]
    accepts_kwargs: tuple[str, ...]
    description: str
    form: str = "class"
    requires: tuple[str, ...] = ()

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
            raise ValueError(
                f"Unknown kind {kind!r}; expected one of {', '.join(KINDS)}."
            ) from None

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
            self._names_cache[kind] = sorted(
                set(data["entries"]) | set(data["aliases"])
            )
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
                arguments={
                    arg_name: Argument(name=arg_name, **arg)
                    for arg_name, arg in raw["arguments"].items()
                },
                accepts_kwargs=tuple(raw["accepts_kwargs"]),
                description=raw["description"],
                form=raw["form"],
                requires=tuple(raw["requires"]),
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

    def to_dict(self) -> dict:
        """Returns the underlying JSON-able dict (a deep copy)."""
        return json.loads(json.dumps(self._data))


@functools.lru_cache(maxsize=None)
def load_catalog() -> Catalog:
    """Loads the catalogue shipped with kerascli, without importing Keras.

    Returns:
        The `Catalog` read from `kerascli/catalog.json` (cached).
    """
    with open(CATALOG_PATH, encoding="utf-8") as f:
        return Catalog(json.load(f))


def dumps_catalog(data: dict) -> str:
    """Serializes a catalogue dict the way `catalog.json` is written.

    Args:
        data: A dict from `generate_catalog()`.

    Returns:
        The JSON text, deterministic for equal input, ending in a newline.
    """
    return json.dumps(data, indent=1, ensure_ascii=True, allow_nan=False) + "\n"


# ---------------------------------------------------------------------------
# Generation (imports Keras).
# ---------------------------------------------------------------------------

# Exported names that a config cannot use safely, per kind. Excluding a name
# excludes its class, so its aliases go too.
_EXCLUDED = {
    "layers": {
        "Layer": "abstract base class",
        "Wrapper": "abstract base class of wrappers",
        "InputLayer": "models declare inputs separately",
        "Lambda": "needs a Python callable",
        "TFSMLayer": "loads a TensorFlow SavedModel (code)",
        "JaxLayer": "wraps a Python JAX function",
        "FlaxLayer": "wraps a Python Flax module",
        "TorchModuleWrapper": "wraps a Python torch module",
    },
    "optimizers": {
        "Optimizer": "abstract base class",
        "LossScaleOptimizer": "needs an inner optimizer object",
        "MultiOptimizer": "needs optimizer objects mapped to layers",
    },
    "schedules": {"LearningRateSchedule": "abstract base class"},
    "losses": {
        "Loss": "abstract base class",
        "LossFunctionWrapper": "needs a Python callable",
    },
    "metrics": {
        "Metric": "abstract base class",
        "MeanMetricWrapper": "needs a Python callable",
        "Reduce": "needs a Python reduction callable (not exported in 3.15)",
    },
    "callbacks": {
        "Callback": "abstract base class",
        "CallbackList": "container built by fit()",
        "History": "added by fit() itself",
        "ProgbarLogger": "added by fit() itself",
        "LambdaCallback": "needs Python callables",
        "LearningRateScheduler": "needs a Python callable",
    },
    "activations": {},
    "initializers": {"Initializer": "abstract base class"},
    "regularizers": {"Regularizer": "abstract base class"},
    "constraints": {"Constraint": "abstract base class"},
}

EXCLUDED = _EXCLUDED
"""Names a config may not use, per kind, with the reason (public alias)."""

# Keyword names a base class pops from **kwargs but only to ignore them with
# a warning; a config should not use them.
_IGNORED_BASE_KWARGS = {
    "decay",  # BaseOptimizer: "Argument `decay` is no longer supported".
}

# Strings that Model.compile resolves itself from the target/output shapes
# before asking the kind's `get` (keras/src/trainers/compile_utils.py:
# get_metric and get_loss compare `str(identifier).lower()` against them).
# The first name of each tuple is the canonical entry; generation checks the
# names still appear in that source.
_SPECIAL_STRINGS = {
    "metrics": (
        ("accuracy", "acc"),
        "get_metric",
        "Accuracy picked by compile() from the shapes: binary, sparse "
        "categorical or categorical.",
    ),
    "losses": (
        ("crossentropy", "ce"),
        "get_loss",
        "Crossentropy picked by compile() from the shapes: binary, sparse "
        "categorical or categorical.",
    ),
}

# Types by argument name, for arguments without a default (required) or
# whose default is None, where nothing else gives the type. "integer|array"
# names also override an int or list default (strides=1 takes (2, 2) too).
# Unlisted names fall back to the first words of their docstring ("Positive
# integer, ..."), else stay None (unknown).
_KNOWN_TYPES = {
    # Sizes and counts.
    "units": "integer",
    "filters": "integer",
    "num_heads": "integer",
    "num_query_heads": "integer",
    "num_key_value_heads": "integer",
    "key_dim": "integer",
    "value_dim": "integer",
    "head_dim": "integer",
    "input_dim": "integer",
    "output_dim": "integer",
    "num_tokens": "integer",
    "max_tokens": "integer",
    "max_number": "integer",
    "num_bins": "integer",
    "num_classes": "integer",
    "num_labels": "integer",
    "n": "integer",
    "height": "integer",
    "width": "integer",
    "seed": "integer",
    "decay_steps": "integer",
    "first_decay_steps": "integer",
    "class_id": "integer",
    "ignore_class": "integer",
    "top_k": "integer",
    "sequence_length": "integer",
    "output_sequence_length": "integer",
    "fft_length": "integer",
    "frame_step": "integer",
    "lora_rank": "integer",
    "sliding_window": "integer",
    "ema_overwrite_frequency": "integer",
    "gradient_accumulation_steps": "integer",
    # Ints or tuples of ints.
    "kernel_size": "integer|array",
    "pool_size": "integer|array",
    "strides": "integer|array",
    "dilation_rate": "integer|array",
    "output_padding": "integer|array",
    "cropping": "integer|array",
    "padding": "integer|array",  # Only for int/list defaults; "valid" stays a string.
    "size": "integer|array",
    "output_size": "integer|array",
    "output_shape": "integer|array",
    "axis": "integer|array",
    "axes": "integer|array",
    "attention_axes": "integer|array",
    "ngrams": "integer|array",
    # Numbers.
    "rate": "number",
    "stddev": "number",
    "scale": "number",
    "threshold": "number",
    "recall": "number",
    "precision": "number",
    "sensitivity": "number",
    "specificity": "number",
    "factor": "number",
    "learning_rate": "number",
    "initial_learning_rate": "number",
    "warmup_target": "number",
    "decay_rate": "number",
    "max_value": "number",
    "baseline": "number",
    "initial_value_threshold": "number",
    "weight_decay": "number",
    "clipnorm": "number",
    "clipvalue": "number",
    "global_clipnorm": "number",
    "loss_scale_factor": "number",
    "lora_alpha": "number",
    "logit_soft_cap": "number",
    # Booleans.
    "flash_attention": "boolean",
    # Arrays.
    "target_shape": "array",
    "dims": "array",
    "boundaries": "array",
    "values": "array",
    "thresholds": "array",
    "target_class_ids": "array",
    "vocabulary": "array",
    "idf_weights": "array",
    "bin_boundaries": "array",
    "noise_shape": "array",
    "shared_axes": "array",
    "exclude_layers": "array",
    "layers": "array",  # Pipeline: a list of layer configs.
    "cells": "array",  # StackedRNNCells: a list of cell configs.
    # Nested Keras objects, given as {"class_name": ..., "config": ...}.
    "layer": "object",
    "backward_layer": "object",
    "cell": "object",
    "headers": "object",
    "embeddings_metadata": "object",
    "renorm_clipping": "object",
    # Strings. A dtype may also be a serialized DTypePolicy dict.
    "activation": "string",
    "recurrent_activation": "string",
    "dtype": "string|object",
    "name": "string",
    "monitor": "string",
    "filepath": "string",
    "filename": "string",
    "directory": "string",
    "backup_dir": "string",
    "data_format": "string",
    "equation": "string",
    "bias_axes": "string",
    "average": "string",
}

# Arguments whose default is an int but which take any number (a
# default-derived "integer" would reject valid floats). An int default whose
# docstring starts with "Float" is treated the same way.
_NUMBER_WITH_INT_DEFAULT = {
    "min_delta",
    "min_lr",
    "l1",
    "l2",
    "max_value",
    "min_value",
    "rate",
    "factor",
    "threshold",
    "alpha",
    "beta",
    "gamma",
    "delta",
    "label_smoothing",
    "negative_slope",
    "momentum",
    "epsilon",
    "value",
    "mean",
    "stddev",
    "scale",
    "minval",
    "maxval",
    "offset",
}

# Arguments that name Keras objects: a string identifier or a
# {"class_name": ..., "config": ...} dict, whatever the default.
_IDENTIFIER_SUFFIXES = ("_initializer", "_regularizer", "_constraint")

# Leading docstring words that give a type ("Positive integer, ...",
# "Optional float.", "Boolean, whether ..."); phrases naming alternatives
# anywhere in the first sentence ("Float, ... or a tuple") give none.
_DOC_TYPE = re.compile(
    r"(?:(?:an?|optional|positive|non-negative|strictly positive)\s+)*"
    r"(integer|int|float|boolean|bool|string|str)\b(?![^.]*\b(?:or|tuple|list)\b)",
    re.IGNORECASE,
)
_DOC_TYPE_NAMES = {
    "integer": "integer",
    "int": "integer",
    "float": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "string": "string",
    "str": "string",
}


def _shorten(text: str, limit: int = _MAX_DESCRIPTION) -> str:
    # Joins whitespace, then keeps whole sentences up to `limit` characters,
    # or cuts at a word boundary.
    text = re.sub(r"\{\{\w+\}\}", "", text)  # Unfilled docstring templates.
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    ends = [
        m.end()
        for m in re.finditer(r"(?<!e\.g)(?<!i\.e)(?<!etc)(?<!\bie)\.(?=\s)", text)
        if m.end() <= limit and not re.search(r"(?:^|\s)\d+\.$", text[: m.end()])
    ]
    if ends:
        return text[: ends[-1]]
    cut = text[: limit - 3].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "..."


def _summary(doc: str | None) -> str:
    # First sentence of the docstring's first paragraph.
    if not doc:
        return ""
    paragraph = doc.strip().split("\n\n", 1)[0]
    text = " ".join(paragraph.split())
    match = re.search(r"(?<!e\.g)(?<!i\.e)(?<!etc)\.(?=\s|$)", text)
    if match:
        text = text[: match.end()]
    return _shorten(text)


_ARG_LINE = re.compile(r"\*{0,2}(\w+)(?:\s*\([^)]*\))?\s*:(?:\s+(.*)|$)")


def _parse_args_section(doc: str | None) -> dict[str, str]:
    """Parses Google-style `Args:` sections of a docstring.

    Args:
        doc: A cleaned docstring (`inspect.getdoc`).

    Returns:
        Dict mapping argument names to their shortened descriptions; the
        first mention of a name wins.
    """
    if not doc:
        return {}
    lines = doc.expandtabs().splitlines()
    found: dict[str, list[str]] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() not in ("Args:", "Arguments:"):
            i += 1
            continue
        header_indent = len(line) - len(line.lstrip())
        item_indent = None
        current = None
        section: dict[str, list[str]] = {}
        i += 1
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            indent = len(line) - len(line.lstrip())
            if indent <= header_indent:
                break
            if item_indent is None:
                item_indent = indent
            if indent < item_indent:
                break
            match = _ARG_LINE.match(line.strip()) if indent == item_indent else None
            if match:
                current = match.group(1)
                section.setdefault(current, []).append(match.group(2) or "")
            elif current is not None:
                section[current].append(line.strip())
            i += 1
        for name, parts in section.items():
            found.setdefault(name, parts)
    return {name: _shorten(" ".join(parts)) for name, parts in found.items()}


def _to_json(value: Any) -> tuple[bool, Any]:
    # (ok, JSON-able copy); tuples become lists.
    if value is None or isinstance(value, (bool, str)):
        return True, value
    if isinstance(value, int):
        return True, int(value)
    if isinstance(value, float):
        return (True, float(value)) if math.isfinite(value) else (False, None)
    if isinstance(value, (list, tuple)):
        items = [_to_json(v) for v in value]
        if all(ok for ok, _ in items):
            return True, [v for _, v in items]
        return False, None
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return False, None
        items = {k: _to_json(v) for k, v in value.items()}
        if all(ok for ok, _ in items.values()):
            return True, {k: v for k, (_, v) in items.items()}
        return False, None
    return False, None


def _doc_type(description: str) -> str | None:
    # Type named by the first words of an argument's description, if any.
    match = _DOC_TYPE.match(description)
    return _DOC_TYPE_NAMES[match.group(1).lower()] if match else None


def _type_of(
    name: str, required: bool, jsonable: bool, default: Any, description: str
) -> str | None:
    """Picks the type string of an argument.

    Order: identifier names (`*_initializer`, ...), then `_KNOWN_TYPES`
    for "integer|array" names and for required/None-default arguments,
    then the default's own type, then the docstring's first words.

    Args:
        name: Argument name.
        required: Whether it has no default.
        jsonable: Whether the default could be written as JSON.
        default: The (JSON-able) default.
        description: The argument's docstring description.

    Returns:
        A type string or `None`.
    """
    if name.endswith(_IDENTIFIER_SUFFIXES):
        return "string|object"
    if not (required or jsonable):
        return None  # Object or callable default: anything goes.
    known = _KNOWN_TYPES.get(name)
    if required or default is None:
        return known or _doc_type(description)
    if isinstance(default, bool):
        return "boolean"
    if isinstance(default, int):
        if known == "integer|array":
            return known
        if name in _NUMBER_WITH_INT_DEFAULT or _doc_type(description) == "number":
            return "number"
        return "integer"
    if isinstance(default, float):
        return "number"
    if isinstance(default, str):
        return "string"
    if isinstance(default, list):
        return "integer|array" if known == "integer|array" else "array"
    if isinstance(default, dict):
        return "object"
    return None


def _own_init(cls):
    # The first __init__ defined in the MRO other than object's, or None.
    for klass in cls.__mro__:
        if klass is object:
            return None
        if "__init__" in vars(klass):
            return vars(klass)["__init__"]
    return None


def _signature_params(func):
    import inspect

    params = list(inspect.signature(func).parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    has_var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    named = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return named, has_var_kw


def _base_kwargs(base) -> tuple[str, ...]:
    """Finds the keyword names a base class's `__init__` takes.

    Named parameters plus the names its source pops from `**kwargs`
    (e.g. `input_shape` for `Layer`), minus `_IGNORED_BASE_KWARGS`.

    Args:
        base: The kind's base class.

    Returns:
        Tuple of names in signature order, popped names last.
    """
    import inspect

    init = _own_init(base)
    if init is None:
        return ()
    named, _ = _signature_params(init)
    names = [p.name for p in named]
    try:
        source = inspect.getsource(init)
    except (OSError, TypeError):
        source = ""
    for popped in re.findall(r"kwargs\.pop\(\s*[\"'](\w+)[\"']", source):
        if popped not in names:
            names.append(popped)
    return tuple(n for n in names if n not in _IGNORED_BASE_KWARGS)


def _fixed_kwargs(cls) -> set[str]:
    """Finds keywords a class's MRO passes to a parent `__init__` itself.

    `ActivityRegularization` calls `super().__init__(activity_regularizer=...,
    **kwargs)`, so its `**kwargs` cannot carry `activity_regularizer`. A
    keyword counts as fixed when some `__init__` in the MRO passes it
    explicitly to a parent `__init__` and does not take it as a parameter.

    Args:
        cls: The class.

    Returns:
        The fixed keyword names.
    """
    import ast
    import inspect
    import textwrap

    fixed: set[str] = set()
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None or not klass.__module__.startswith("keras"):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(init)))
        except (OSError, TypeError, SyntaxError):
            continue
        params = set(inspect.signature(init).parameters)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "__init__"
            ):
                for keyword in node.keywords:
                    if keyword.arg is not None and keyword.arg not in params:
                        fixed.add(keyword.arg)
    return fixed


def _required_packages(cls) -> list[str]:
    """Finds optional packages a class's constructor insists on.

    Keras guards such constructors with its lazy modules
    (`keras.src.utils.module_utils`): `if not tf.available: raise
    ImportError(...)` (StringLookup, Hashing, ...) or `ocp.initialize()`
    (OrbaxCheckpoint). Imports inside other methods (TensorBoard's) are not
    seen.

    Args:
        cls: The class.

    Returns:
        Sorted pip package names.
    """
    import inspect

    from keras.src.utils import module_utils

    found = set()
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None or not klass.__module__.startswith("keras"):
            continue
        try:
            source = inspect.getsource(init)
        except (OSError, TypeError):
            continue
        names = re.findall(r"\bnot\s+(\w+)\.available\b", source)
        names += re.findall(r"\b(\w+)\.initialize\(\s*\)", source)
        for name in names:
            module = getattr(init, "__globals__", {}).get(name)
            if isinstance(module, module_utils.LazyModule):
                found.add(module.pip_name)
    return sorted(found)


def _class_entry(cls, base_kwargs: tuple[str, ...], fallback_docs: dict) -> dict:
    """Builds the catalogue dict of one class.

    Args:
        cls: The class.
        base_kwargs: Keyword names its `**kwargs` passes to the kind's base.
        fallback_docs: Argument descriptions for arguments that no docstring
            in the class's MRO documents.

    Returns:
        Dict with `description`, `form`, `arguments`, `accepts_kwargs`,
        `requires`.
    """
    import inspect

    doc = inspect.getdoc(cls)
    arg_docs = _parse_args_section(doc)
    # Arguments the class's own docstring leaves out (often base-class ones
    # such as `name`) take the text of the nearest base that documents them.
    sources = [
        _parse_args_section(inspect.getdoc(klass))
        for klass in cls.__mro__[1:]
        if klass.__module__.startswith("keras") and klass.__doc__
    ]
    for docs in sources + [fallback_docs]:
        for arg, text in docs.items():
            if text and not arg_docs.get(arg):
                arg_docs[arg] = text
    init = _own_init(cls)
    arguments = {}
    has_var_kw = False
    if init is not None:
        named, has_var_kw = _signature_params(init)
        for p in named:
            required = p.default is inspect.Parameter.empty
            if required:
                jsonable, default = True, None
            else:
                jsonable, default = _to_json(p.default)
            description = arg_docs.get(p.name, "")
            arguments[p.name] = {
                "required": required,
                "default": default if jsonable else None,
                "type": _type_of(p.name, required, jsonable, default, description),
                "description": description,
            }
    accepts = ()
    if has_var_kw:
        fixed = _fixed_kwargs(cls)
        accepts = tuple(
            n for n in base_kwargs if n not in arguments and n not in fixed
        )
    return {
        "description": _summary(doc),
        "form": "class",
        "arguments": arguments,
        "accepts_kwargs": list(accepts),
        "requires": _required_packages(cls),
    }


def _function_entry(func) -> dict:
    import inspect

    return {
        "description": _summary(inspect.getdoc(func)),
        "form": "function",
        "arguments": {},
        "accepts_kwargs": [],
        "requires": [],
    }


def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _generate_kind(kind, module, base, get, registry, special, fallback_docs) -> dict:
    """Builds the catalogue dict of one kind.

    Args:
        kind: One of `KINDS`.
        module: The public Keras module (`keras.layers`, ...).
        base: Base class whose exported subclasses are entries, or None.
        get: The kind's `keras.<kind>.get`, or None.
        registry: Extra candidate strings for `get` (keys of the module's
            internal name table), or ().
        special: A `_SPECIAL_STRINGS` value or None.
        fallback_docs: Argument descriptions used where docstrings lack one.

    Returns:
        `{"entries": {...}, "aliases": {...}}`.
    """
    import inspect
    import warnings

    excluded_names = _EXCLUDED[kind]
    exported = {n: getattr(module, n) for n in dir(module) if not n.startswith("_")}

    # Classes, grouped by class object (aliases share one class).
    excluded_classes = {
        id(exported[n]) for n in excluded_names if inspect.isclass(exported.get(n))
    }
    by_class: dict[int, tuple[type, list[str]]] = {}
    if base is not None:
        for name, obj in exported.items():
            if not (inspect.isclass(obj) and issubclass(obj, base)):
                continue
            if name in excluded_names or id(obj) in excluded_classes:
                continue
            by_class.setdefault(id(obj), (obj, []))[1].append(name)

    base_kwargs = _base_kwargs(base) if base is not None else ()
    entries: dict[str, dict] = {}
    aliases: dict[str, str] = {}
    class_canonical: dict[int, str] = {}
    for cls, names in by_class.values():
        canonical = cls.__name__ if cls.__name__ in names else sorted(names)[0]
        class_canonical[id(cls)] = canonical
        entries[canonical] = _class_entry(cls, base_kwargs, fallback_docs)
        for name in names:
            if name != canonical:
                aliases[name] = canonical

    # String identifiers accepted by the kind's `get`.
    if get is not None:
        candidates = set(exported) | set(registry)
        for name in list(candidates):
            candidates.add(name.lower())
            candidates.add(_snake_case(name))
        resolved_functions: dict[int, tuple[Any, list[str]]] = {}
        for name in sorted(candidates):
            if name in ("get", "serialize", "deserialize") or name.startswith("_"):
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    obj = get(name)
            except Exception:
                continue
            if obj is None:
                continue
            if id(type(obj)) in class_canonical:
                target = class_canonical[id(type(obj))]
                if name != target:
                    aliases[name] = target
            elif inspect.isfunction(obj):
                resolved_functions.setdefault(id(obj), (obj, []))[1].append(name)
        for func, names in resolved_functions.values():
            canonical = func.__name__ if func.__name__ in names else sorted(names)[0]
            if canonical in entries:
                raise RuntimeError(f"{kind}: {canonical!r} is both a class and a function")
            entries[canonical] = _function_entry(func)
            for name in names:
                if name != canonical:
                    aliases[name] = canonical

    # Strings Model.compile resolves itself.
    if special is not None:
        from keras.src.trainers import compile_utils

        names, source_func, description = special
        source = inspect.getsource(getattr(compile_utils, source_func))
        for name in names:
            if f'"{name}"' not in source:
                raise RuntimeError(
                    f"compile_utils.{source_func} no longer special-cases "
                    f"{name!r}: update _SPECIAL_STRINGS"
                )
        canonical = names[0]
        entries.pop(canonical, None)
        entries[canonical] = {
            "description": description,
            "form": "special",
            "arguments": {},
            "accepts_kwargs": [],
            "requires": [],
        }
        for name in names:
            aliases.pop(name, None)
        for name in names[1:]:
            aliases[name] = canonical

    return {
        "entries": {name: entries[name] for name in sorted(entries)},
        "aliases": {name: aliases[name] for name in sorted(aliases)},
    }


def generate_catalog() -> dict:
    """Builds the catalogue from the installed Keras.

    Imports Keras (setting `KERAS_BACKEND=jax` when unset).

    Returns:
        The JSON-able dict that `catalog.json` holds:
        `{"format_version", "keras_version", "kinds": {kind: {"entries",
        "aliases"}}}`.
    """
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import importlib

    import keras

    def registry(module_name):
        # Keys of a Keras module's internal name table, as extra candidate
        # strings for its `get`; every one is still checked through `get`.
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            return ()
        return tuple(getattr(module, "ALL_OBJECTS_DICT", {}))

    specs = {
        "layers": (keras.layers, keras.layers.Layer, None, ()),
        "optimizers": (
            keras.optimizers,
            keras.optimizers.Optimizer,
            keras.optimizers.get,
            registry("keras.src.optimizers"),
        ),
        "schedules": (
            keras.optimizers.schedules,
            keras.optimizers.schedules.LearningRateSchedule,
            None,
            (),
        ),
        "losses": (
            keras.losses,
            keras.losses.Loss,
            keras.losses.get,
            registry("keras.src.losses"),
        ),
        "metrics": (
            keras.metrics,
            keras.metrics.Metric,
            keras.metrics.get,
            registry("keras.src.metrics"),
        ),
        "callbacks": (keras.callbacks, keras.callbacks.Callback, None, ()),
        "activations": (
            keras.activations,
            None,
            keras.activations.get,
            registry("keras.src.activations"),
        ),
        "initializers": (
            keras.initializers,
            keras.initializers.Initializer,
            keras.initializers.get,
            registry("keras.src.initializers"),
        ),
        "regularizers": (
            keras.regularizers,
            keras.regularizers.Regularizer,
            keras.regularizers.get,
            registry("keras.src.regularizers"),
        ),
        "constraints": (
            keras.constraints,
            keras.constraints.Constraint,
            keras.constraints.get,
            registry("keras.src.constraints"),
        ),
    }
    # Optimizer docstrings splice in a shared text of the base arguments;
    # a few (Muon, Adamax) fail to, so use it where they lack one.
    try:
        from keras.src.optimizers import base_optimizer

        optimizer_docs = _parse_args_section(
            "Args:\n        " + base_optimizer.base_optimizer_keyword_args
        )
    except (ImportError, AttributeError):
        optimizer_docs = {}

    kinds = {}
    for kind in KINDS:
        module, base, get, names = specs[kind]
        kinds[kind] = _generate_kind(
            kind,
            module,
            base,
            get,
            names,
            _SPECIAL_STRINGS.get(kind),
            optimizer_docs if kind == "optimizers" else {},
        )
    return {
        "format_version": FORMAT_VERSION,
        "keras_version": keras.__version__,
        "kinds": kinds,
    }
