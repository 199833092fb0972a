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

import difflib
from typing import Any

from kerascli.config import blocks as block_rules
from kerascli.config import graph
from kerascli.config.catalog import EXCLUDED, Catalog, load_catalog
from kerascli.config.document import Document, Key, format_key
from kerascli.config.spec.model import RESERVED_NODE_KEYS, derived_name
from kerascli.errors import Problem

NODE_KEYS = RESERVED_NODE_KEYS

# Keys of Keras' own serialized form. Keras deserializes a dict holding them by
# importing `module` and looking up `class_name` / `registered_name`: a config
# never gets to name importable code, so these keys are refused anywhere.
SERIALIZATION_KEYS = ("class_name", "module", "registered_name")

# Callback arguments that are file paths; they must stay inside the run directory.
CALLBACK_PATH_ARGS = ("filepath", "filename", "log_dir", "backup_dir")

# Constructor arguments whose values are themselves Keras objects, by suffix.
NESTED_KINDS = (
    ("activation", "activations"),
    ("initializer", "initializers"),
    ("regularizer", "regularizers"),
    ("constraint", "constraints"),
)


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
    checker = _Checker(doc, catalog)
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
    for section in ("model", "compile", "fit"):
        checker.serialized_objects(data.get(section), (section,))
    if warnings is not None:
        warnings.extend(checker.warnings)
    return checker.problems


def serialized_keys(value: Any, key: Key = ()) -> list[Key]:
    """The paths of Keras serialization keys (`SERIALIZATION_KEYS`) anywhere in `value`."""
    found: list[Key] = []
    if isinstance(value, dict):
        for name, item in value.items():
            if name in SERIALIZATION_KEYS:
                found.append(key + (name,))
            else:
                found.extend(serialized_keys(item, key + (name,)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(serialized_keys(item, key + (i,)))
    return found


def serialized_message(name: str) -> str:
    return (f"'{name}' is not allowed in a config: write Keras objects as {{type: ClassName, ...}}; "
            "they are resolved by name from Keras and --plugin modules only")


def outside_run_dir(path: str) -> bool:
    """Whether a callback's file path would leave the run directory."""
    from pathlib import PurePosixPath, PureWindowsPath

    return any(p.is_absolute() or ".." in p.parts or p.drive for p in (PurePosixPath(path), PureWindowsPath(path)))


class _Checker:
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

    # -- names -------------------------------------------------------------

    def unknown(self, kind: str, name: str, key: Key, extra: list[str] = ()) -> None:
        singular = {"activations": "activation", "losses": "loss", "metrics": "metric",
                    "callbacks": "callback", "optimizers": "optimizer", "layers": "layer",
                    "schedules": "learning-rate schedule", "initializers": "initializer",
                    "regularizers": "regularizer", "constraints": "constraint"}[kind]
        message = f"unknown {singular} '{name}'"
        close = difflib.get_close_matches(name, list(extra), n=1, cutoff=0.8) if extra else []
        hint = close[0] if close else self.catalog.suggest(kind, name)
        if not hint and extra:
            close = difflib.get_close_matches(name, list(extra), n=1, cutoff=0.6)
            hint = close[0] if close else None
        if name in EXCLUDED.get(kind, {}):
            message = f"{singular} '{name}' cannot be used from a config ({EXCLUDED[kind][name]})"
            if "Python" in EXCLUDED[kind][name] or "code" in EXCLUDED[kind][name]:
                message += "; register a custom class in a module loaded with --plugin instead"
        elif hint:
            message += f" (did you mean '{hint}'?)"
        self.report(key, message)

    def serialized_objects(self, value: Any, key: Key) -> None:
        """Refuses Keras' serialized form (`class_name`/`module`/...) at any depth."""
        for path in serialized_keys(value, key):
            self.report(path, serialized_message(path[-1]))

    def callback_paths(self, callback: dict, key: Key) -> None:
        for arg in CALLBACK_PATH_ARGS:
            value = callback.get(arg)
            if isinstance(value, str) and outside_run_dir(value):
                self.report(key + (arg,), f"expected a path inside the run directory, got '{value}'")

    def keras_object(self, kind: str, value: Any, key: Key) -> None:
        """Checks `value` (a string or `{type: ..., **kwargs}`) names a Keras `kind`."""
        if isinstance(value, str):
            if self.catalog.get(kind, value) is None:
                self.unknown(kind, value, key)
            return
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            return  # the spec reports the shape
        entry = self.catalog.get(kind, value["type"])
        if entry is None:
            self.unknown(kind, value["type"], key + ("type",))
            return
        kwargs = {k: v for k, v in value.items() if k != "type"}
        self.arguments(entry, kwargs, key)

    def arguments(self, entry, kwargs: dict, key: Key, skip: tuple = ()) -> None:
        """Checks constructor kwargs against the catalogue entry."""
        allowed = list(entry.arguments) + list(entry.accepts_kwargs)
        suggested = set()
        for name, value in kwargs.items():
            if name in skip:
                continue
            if name not in allowed:
                hint = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
                message = f"{entry.name} got an unexpected argument '{name}'"
                if hint:
                    message += f" (did you mean '{hint[0]}'?)"
                    suggested.add(hint[0])
                self.report(key + (name,), message)
                continue
            self.nested(name, value, key + (name,))
        for arg in entry.arguments.values():
            if arg.required and arg.name not in kwargs and arg.name not in suggested:
                self.report(key, f"{entry.name} is missing required argument '{arg.name}'")

    def nested(self, name: str, value: Any, key: Key) -> None:
        """Checks values that name Keras objects (activations, initializers, ...)."""
        if block_rules.param_name(value) is not None:
            return  # a block parameter: checked where it is declared and used
        if name == "learning_rate" and isinstance(value, dict):
            self.keras_object("schedules", value, key)
            return
        for suffix, kind in NESTED_KINDS:
            if name == suffix or name.endswith("_" + suffix):
                if isinstance(value, str) or (isinstance(value, dict) and "type" in value):
                    self.keras_object(kind, value, key)
                return

    # -- model ------------------------------------------------------------

    def model(self, model: dict) -> None:
        inputs = model.get("inputs")
        input_names = list(inputs) if isinstance(inputs, dict) else self.data_input_names()
        self.graph(model.get("layers"), ("model", "layers"), input_names, model.get("outputs"), ("model", "outputs"), None)

    def data_input_names(self) -> list[str]:
        """The input names the builder infers from `data.train.x` when `model.inputs` is absent."""
        train = (self.doc.data.get("data") or {}).get("train") if isinstance(self.doc.data.get("data"), dict) else None
        x = train.get("x") if isinstance(train, dict) else None
        return [str(k) for k in x] if isinstance(x, dict) else ["input"]

    def block(self, name: str, block: Any) -> None:
        """Checks one `blocks:` entry: its name, its nodes, its parameters."""
        key = ("blocks", name)
        if self.catalog.get("layers", str(name)) is not None:
            self.report(key, f"block name '{name}' is already a Keras layer; choose another name")
            return
        elif not isinstance(name, str) or not name.isidentifier():
            self.report(key, f"block name '{name}' must be an identifier (letters, digits, '_')")
        if not isinstance(block, dict):
            return
        cycle = block_rules.block_cycle({name: block} | {k: v for k, v in self.blocks.items() if k != name})
        if cycle and cycle[0] == name:
            self.report(key, "block uses itself: " + " -> ".join(cycle))
            return
        inputs = block.get("inputs", ["in"])
        input_names = [n for n in inputs if isinstance(n, str)] if isinstance(inputs, list) else ["in"]
        params = block.get("params", {})
        params = params if isinstance(params, dict) else {}
        outputs = block.get("outputs")
        self.graph(block.get("layers"), key + ("layers",), input_names, outputs, key + ("outputs",), params, single_output=True)

    def graph(self, layers: Any, prefix: Key, input_names: list[str], outputs: Any, outputs_key: Key,
              params: dict | None, single_output: bool = False) -> None:
        """Checks a node list (the model's or a block's) as a graph.

        Args:
            layers: the raw node list.
            prefix: its key in the config.
            input_names: the names the graph receives.
            outputs: the raw `outputs` value (None: the last node).
            outputs_key: where `outputs` is written.
            params: a block's parameters (None for the model).
            single_output: a block returns one node.
        """
        if not isinstance(layers, list):
            return
        nodes = [n if isinstance(n, dict) else {} for n in layers]
        names = [n["name"] if isinstance(n.get("name"), str) else derived_name(n.get("type") if isinstance(n.get("type"), str) else "share", i)
                 for i, n in enumerate(nodes)]
        first: dict[str, int] = {}
        for i, node in enumerate(nodes):
            key = prefix + (i,)
            name = names[i]
            if name in first:
                self.report(key + ("name",) if "name" in node else key,
                            f"duplicate node name '{name}' (also {format_key(prefix + (first[name],))})")
            elif name in input_names:
                self.report(key + ("name",) if "name" in node else key,
                            f"node name '{name}' is already the name of an input")
            first.setdefault(name, i)
            self.params_used(node, key, params)
            if isinstance(node.get("share"), str):
                if node["share"] not in names:
                    self.reference(node["share"], key + ("share",), names, "node")
            elif isinstance(node.get("type"), str):
                if node["type"] in self.blocks:
                    self.block_call(node, key)
                else:
                    self.layer(node, key)
        self.repeated_names(nodes, names, first, prefix)
        known = input_names + names
        bad_refs = len(self.problems)
        for i, node in enumerate(nodes):
            if node.get("inputs") is not None:
                for ref in graph.input_refs(node["inputs"], i, names, input_names):
                    self.reference(ref.name, prefix + (i,) + ref.key, known, "input")
        bad_refs = len(self.problems) > bad_refs
        if isinstance(outputs, str) or outputs is None:
            out_list, out_keys = ([outputs], [outputs_key]) if outputs else ([names[-1]] if names else [], [])
        elif isinstance(outputs, list):
            out_list = [o for o in outputs if isinstance(o, str)]
            out_keys = [outputs_key + (j,) for j, o in enumerate(outputs) if isinstance(o, str)]
            if single_output and len(outputs) != 1:
                self.report(outputs_key, "a block returns one node; give 'outputs' as a single name")
        else:
            return
        for out, key in zip(out_list, out_keys):
            if out not in names:
                self.reference(out, key, names, "output")
        self.shape_of_graph(nodes, names, prefix, input_names, [o for o in out_list if o in names], bad_refs,
                            "model" if params is None else "block")

    def shape_of_graph(self, nodes: list[dict], names: list[str], prefix: Key, input_names: list[str],
                       outputs: list[str], bad_refs: bool, what: str) -> None:
        """Cycles, nodes feeding no output, outputs depending on no input."""
        if len(set(names)) != len(names):
            return  # duplicate names are reported already; edges to them are ambiguous
        refs = [graph.input_refs(n.get("inputs"), i, names, input_names) for i, n in enumerate(nodes)]
        reads = [[r.name for r in rs] for rs in refs]
        index = {n: i for i, n in enumerate(names)}
        deps = [[index[r] for r in rs if r in index and r not in input_names] for rs in reads]
        for i, node in enumerate(nodes):
            if node.get("share") in index:
                deps[i].append(index[node["share"]])
        try:
            graph.build_order(deps)
        except graph.CycleError as exc:
            self.report(prefix + (exc.cycle[0], "inputs"), "cycle in the graph: " + " -> ".join(names[j] for j in exc.cycle))
            return
        if bad_refs:
            return
        for i, node in enumerate(nodes):
            if node.get("inputs") == []:
                self.report(prefix + (i, "inputs"), "'inputs' is empty: the node has nothing to read")
        starved = graph.sourceless(reads, names, input_names)
        for out in outputs:
            if index[out] in starved and nodes[index[out]].get("inputs") != []:
                self.report(prefix + (index[out],), f"output '{out}' depends on no {what} input")
        if what == "model":
            for i in graph.feeding_no_output(reads, names, outputs):
                if i not in starved:
                    self.warn(prefix + (i,), f"node '{names[i]}' feeds no output of the model: its result is unused")
            for name in graph.unused_inputs(reads, names, outputs, input_names):
                self.warn(("model", "inputs", name), f"model input '{name}' is used by no output")

    def repeated_names(self, nodes: list[dict], names: list[str], first: dict[str, int], prefix: Key) -> None:
        """`repeat: N` names layers `<name>_1..N`; none may clash with another node."""
        for i, node in enumerate(nodes):
            repeat = node.get("repeat")
            if isinstance(repeat, int) and not isinstance(repeat, bool) and repeat > 1:
                for r in range(1, repeat + 1):
                    made = f"{names[i]}_{r}"
                    if made in first:
                        self.report(prefix + (i, "repeat"), f"repeat: {repeat} names layers {names[i]}_1..{repeat}, "
                                    f"but '{made}' is also the name of {format_key(prefix + (first[made],))}")
                        break

    def params_used(self, node: dict, key: Key, params: dict | None) -> None:
        """Every `$param` in a node names a parameter of the block it is in."""
        values = {k: v for k, v in node.items() if k not in ("type", "name", "inputs", "share")}
        for param, where in block_rules.param_refs(values):
            if params is None:
                self.report(key + where, f"'${param}' is a block parameter, but this node is not inside a block")
            elif param not in params:
                hint = difflib.get_close_matches(param, [str(p) for p in params], n=1, cutoff=0.6)
                declared = ", ".join(map(str, params)) or "none"
                self.report(key + where, f"unknown parameter '${param}'" + (
                    f" (did you mean '${hint[0]}'?)" if hint else f"; the block's parameters are: {declared}"))

    def block_call(self, node: dict, key: Key) -> None:
        """A node whose type is a block: its parameters and inputs fit the block."""
        block = self.blocks[node["type"]]
        if not isinstance(block, dict):
            return
        defaults = block.get("params", {})
        given = {k: v for k, v in node.items() if k not in NODE_KEYS}
        _, problems = block_rules.instance_params(node["type"], defaults if isinstance(defaults, dict) else {}, given)
        for param, message in problems:
            self.report(key + (param,), message)
        declared = block.get("inputs", ["in"])
        if isinstance(declared, list):
            _, error = block_rules.bind_inputs([str(d) for d in declared], node.get("inputs"), "previous")
            if error:
                self.report(key + ("inputs",) if "inputs" in node else key, f"block '{node['type']}': {error}")

    def layer(self, node: dict, key: Key) -> None:
        entry = self.catalog.get("layers", node["type"])
        if entry is None:
            self.unknown("layers", node["type"], key + ("type",), extra=list(self.blocks))
            return
        kwargs = {k: v for k, v in node.items() if k not in NODE_KEYS}
        self.arguments(entry, kwargs, key, skip=("layer", "backward_layer"))
        for wrapped in ("layer", "backward_layer"):
            inner = node.get(wrapped)
            if wrapped in kwargs and wrapped in entry.arguments and isinstance(inner, dict) and isinstance(inner.get("type"), str):
                self.layer(inner, key + (wrapped,))
            elif wrapped in kwargs and wrapped not in entry.arguments and wrapped not in entry.accepts_kwargs:
                self.arguments(entry, {wrapped: inner}, key)

    def reference(self, name: str, key: Key, known: list[str], what: str) -> None:
        if name in known:
            return
        hint = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        message = f"unknown {what} '{name}': no {'node' if what != 'input' else 'input or node'} has that name"
        if hint:
            message += f" (did you mean '{hint[0]}'?)"
        self.report(key, message)

    # -- compile ----------------------------------------------------------

    def compile(self, section: dict) -> None:
        if "optimizer" in section:
            self.keras_object("optimizers", section["optimizer"], ("compile", "optimizer"))
        loss = section.get("loss")
        if isinstance(loss, dict) and "type" not in loss:
            for out, item in loss.items():
                self.keras_object("losses", item, ("compile", "loss", out))
        elif loss is not None:
            self.keras_object("losses", loss, ("compile", "loss"))
        metrics = section.get("metrics")
        if isinstance(metrics, list):
            for i, item in enumerate(metrics):
                self.keras_object("metrics", item, ("compile", "metrics", i))
        elif isinstance(metrics, dict):
            for out, items in metrics.items():
                items = items if isinstance(items, list) else [items]
                for i, item in enumerate(items):
                    key = ("compile", "metrics", out, i) if isinstance(metrics[out], list) else ("compile", "metrics", out)
                    self.keras_object("metrics", item, key)
