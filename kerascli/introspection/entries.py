"""Catalogue entries of Keras classes and functions: their arguments, types, defaults and packages.

`class_entry` is public: `--plugin` modules' classes enter the catalogue through it."""

from __future__ import annotations

import inspect
import re

from kerascli.introspection.docstrings import parse_args_section, summary
from kerascli.introspection.types import to_json, type_of

# Keyword names a base class pops from **kwargs but only to ignore them with
# a warning; a config should not use them.
_IGNORED_BASE_KWARGS = {
    "decay",  # BaseOptimizer: "Argument `decay` is no longer supported".
}


def _own_init(cls):
    # The first __init__ defined in the MRO other than object's, or None.
    for klass in cls.__mro__:
        if klass is object:
            return None
        if "__init__" in vars(klass):
            return vars(klass)["__init__"]
    return None


def _signature_params(func):

    params = list(inspect.signature(func).parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    has_var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    named = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return named, has_var_kw


def base_kwargs(base) -> tuple[str, ...]:
    """Finds the keyword names a base class's `__init__` takes.

    Named parameters plus the names its source pops from `**kwargs`
    (e.g. `input_shape` for `Layer`), minus `_IGNORED_BASE_KWARGS`.

    Args:
        base: The kind's base class.

    Returns:
        Tuple of names in signature order, popped names last.
    """

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
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__":
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


def class_entry(cls, base_kwargs: tuple[str, ...], fallback_docs: dict) -> dict:
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

    doc = inspect.getdoc(cls)
    arg_docs = parse_args_section(doc)
    # Arguments the class's own docstring leaves out (often base-class ones
    # such as `name`) take the text of the nearest base that documents them.
    sources = [
        parse_args_section(inspect.getdoc(klass))
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
                jsonable, default = to_json(p.default)
            description = arg_docs.get(p.name, "")
            arguments[p.name] = {
                "required": required,
                "default": default if jsonable else None,
                "type": type_of(p.name, required, jsonable, default, description),
                "description": description,
            }
    accepts = ()
    if has_var_kw:
        fixed = _fixed_kwargs(cls)
        accepts = tuple(n for n in base_kwargs if n not in arguments and n not in fixed)
    return {
        "description": summary(doc),
        "form": "class",
        "arguments": arguments,
        "accepts_kwargs": list(accepts),
        "requires": _required_packages(cls),
    }


def function_entry(func) -> dict:

    return {
        "description": summary(inspect.getdoc(func)),
        "form": "function",
        "arguments": {},
        "accepts_kwargs": [],
        "requires": [],
    }
