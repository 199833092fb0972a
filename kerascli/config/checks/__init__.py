"""Checks of a config against Keras' names, without importing Keras.

Pydantic checks the shape of the config; these checks know Keras: that `Dence`
is not a layer (did you mean `Dense`?), that `Dense` takes `units` and not
`unit`, that `reluu` is not an activation, and that `inputs: [a, b]` names
nodes that exist. They read the shipped catalogue (`kerascli.config.catalog`) and
the raw parsed data, so they run even where Pydantic already found problems
elsewhere: every problem is reported at once. Whatever only Keras can know
(shapes, values a constructor rejects) is caught later, by the builder.
"""

from __future__ import annotations

from kerascli.config.catalog import Catalog, load_catalog
from kerascli.config.checks.graph import GraphChecks
from kerascli.config.checks.names import NameChecks
from kerascli.config.checks.safety import SafetyChecks
from kerascli.config.document import Document, Key
from kerascli.errors import Problem

__all__ = ["check", "Checker"]


def check(doc: Document, catalog: Catalog | None = None, warnings: list[Problem] | None = None) -> list[Problem]:
    """Every Keras-level problem of `doc`, in no particular order.

    Args:
        doc: the parsed config (overrides applied).
        catalog: the Keras catalogue; the shipped one by default.
        warnings: when given, receives what is legal but probably a mistake
            (a node whose result no output uses, an input no output needs).

    Returns:
        A list of problems (empty when the config is fine as far as names go).
    """
    catalog = catalog or load_catalog()
    checker = Checker(doc, catalog)
    data = doc.data
    blocks = data.get("blocks")
    blocks = blocks if isinstance(blocks, dict) else {}
    # A block named like a Keras layer is reported, and nodes of that type stay layers.
    checker.blocks = {k: v for k, v in blocks.items() if catalog.get("layers", str(k)) is None}
    for name, block in blocks.items():
        checker.block(name, block)
    model = data.get("model")
    if isinstance(model, dict):
        checker.model(model)
    section = data.get("compile")
    if isinstance(section, dict):
        checker.compile(section)
    section = data.get("fit")
    if isinstance(section, dict) and isinstance(section.get("callbacks"), list):
        for i, callback in enumerate(section["callbacks"]):
            checker.keras_object("callbacks", callback, ("fit", "callbacks", i))
            if isinstance(callback, dict):
                checker.callback_paths(callback, ("fit", "callbacks", i))
    phases = section.get("phases") if isinstance(section, dict) else None
    for i, phase in enumerate(phases if isinstance(phases, list) else []):
        if not isinstance(phase, dict):
            continue
        key = ("fit", "phases", i)
        if "optimizer" in phase:
            checker.keras_object("optimizers", phase["optimizer"], key + ("optimizer",))
        for j, callback in enumerate(phase.get("callbacks") if isinstance(phase.get("callbacks"), list) else []):
            checker.keras_object("callbacks", callback, key + ("callbacks", j))
            if isinstance(callback, dict):
                checker.callback_paths(callback, key + ("callbacks", j))
    for section in ("model", "compile", "fit"):
        checker.serialized_objects(data.get(section), (section,))
    if warnings is not None:
        warnings.extend(checker.warnings)
    return checker.problems


class Checker(NameChecks, GraphChecks, SafetyChecks):
    """Collects the problems and warnings of one config; each check family is a base class."""

    def __init__(self, doc: Document, catalog: Catalog):
        self.doc = doc
        self.catalog = catalog
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.blocks: dict = {}

    def report(self, key: Key, message: str) -> None:
        self.problems.append(self.doc.problem(key, message))

    def warn(self, key: Key, message: str) -> None:
        self.warnings.append(self.doc.problem(key, message))
