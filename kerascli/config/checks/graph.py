"""Graph checks: the nodes of the model and of each block form a graph Keras can build."""

from __future__ import annotations

import difflib
from typing import Any

from kerascli.config import blocks as block_rules
from kerascli.config import graph
from kerascli.config.document import Key, format_key
from kerascli.config.spec.model import MAX_REPEAT, RESERVED_NODE_KEYS, derived_name


class GraphChecks:
    """The graph checks of `kerascli.config.checks.Checker`."""

    def model(self, model: dict) -> None:
        inputs = model.get("inputs")
        input_names = list(inputs) if isinstance(inputs, dict) else self.data_input_names()
        self.graph(
            model.get("layers"), ("model", "layers"), input_names, model.get("outputs"), ("model", "outputs"), None
        )

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
        self.graph(
            block.get("layers"), key + ("layers",), input_names, outputs, key + ("outputs",), params, single_output=True
        )

    def graph(
        self,
        layers: Any,
        prefix: Key,
        input_names: list[str],
        outputs: Any,
        outputs_key: Key,
        params: dict | None,
        single_output: bool = False,
    ) -> None:
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
        names = [
            n["name"]
            if isinstance(n.get("name"), str)
            else derived_name(n.get("type") if isinstance(n.get("type"), str) else "share", i)
            for i, n in enumerate(nodes)
        ]
        first = self.nodes(nodes, names, prefix, input_names, params)
        self.repeated_names(nodes, names, first, prefix)
        known = input_names + names
        bad_refs = len(self.problems)
        for i, node in enumerate(nodes):
            if node.get("inputs") is not None:
                for ref in graph.input_refs(node["inputs"], i, names, input_names):
                    self.reference(ref.name, prefix + (i,) + ref.key, known, "input")
        bad_refs = len(self.problems) > bad_refs
        out_list = self.outputs(outputs, outputs_key, names, single_output)
        if out_list is None:
            return
        what = "model" if params is None else "block"
        self.shape_of_graph(nodes, names, prefix, input_names, [o for o in out_list if o in names], bad_refs, what)

    def nodes(self, nodes: list[dict], names: list[str], prefix: Key, input_names: list[str], params) -> dict:
        """Checks each node: its name, its `$param`s, and its layer, block or shared node.

        Returns:
            The index of the first node of each name.
        """
        first: dict[str, int] = {}
        for i, node in enumerate(nodes):
            key = prefix + (i,)
            name = names[i]
            name_key = key + ("name",) if "name" in node else key
            if name in first:
                self.report(name_key, f"duplicate node name '{name}' (also {format_key(prefix + (first[name],))})")
            elif name in input_names:
                self.report(name_key, f"node name '{name}' is already the name of an input")
            first.setdefault(name, i)
            self.params_used(node, key, params)
            if isinstance(node.get("share"), str):
                if node["share"] not in names:
                    self.reference(node["share"], key + ("share",), names, "node")
            elif isinstance(node.get("type"), str):
                if node["type"] in self.blocks:
                    self.block_call(node, key)
                    if node.get("preprocess_input"):
                        self.nested_only({"preprocess_input": True}, key, "a block")
                else:
                    self.layer(node, key)
        return first

    def outputs(self, outputs: Any, outputs_key: Key, names: list[str], single_output: bool) -> list[str] | None:
        """Checks the graph's `outputs` name nodes; returns them (None when `outputs` has no usable form)."""
        if isinstance(outputs, str) or outputs is None:
            out_list, out_keys = ([outputs], [outputs_key]) if outputs else ([names[-1]] if names else [], [])
        elif isinstance(outputs, list):
            out_list = [o for o in outputs if isinstance(o, str)]
            out_keys = [outputs_key + (j,) for j, o in enumerate(outputs) if isinstance(o, str)]
            if single_output and len(outputs) != 1:
                self.report(outputs_key, "a block returns one node; give 'outputs' as a single name")
        else:
            return None
        for out, key in zip(out_list, out_keys):
            if out not in names:
                self.reference(out, key, names, "output")
        return out_list

    def shape_of_graph(
        self,
        nodes: list[dict],
        names: list[str],
        prefix: Key,
        input_names: list[str],
        outputs: list[str],
        bad_refs: bool,
        what: str,
    ) -> None:
        """Cycles, nodes feeding no output, outputs depending on no input."""
        if len(set(names)) != len(names):
            return  # duplicate names are reported already; edges to them are ambiguous
        refs = [graph.input_refs(n.get("inputs"), i, names, input_names) for i, n in enumerate(nodes)]
        reads = [[r.name for r in rs] for rs in refs]
        index = {n: i for i, n in enumerate(names)}
        try:
            graph.node_order(reads, names, input_names, [n.get("share") for n in nodes])
        except graph.CycleError as exc:
            self.report(prefix + (exc.cycle[0], "inputs"), exc.message(names))
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
            if (
                isinstance(repeat, int) and not isinstance(repeat, bool) and 1 < repeat <= MAX_REPEAT
            ):  # the spec refuses more
                for r in range(1, repeat + 1):
                    made = f"{names[i]}_{r}"
                    if made in first:
                        self.report(
                            prefix + (i, "repeat"),
                            f"repeat: {repeat} names layers {names[i]}_1..{repeat}, "
                            f"but '{made}' is also the name of {format_key(prefix + (first[made],))}",
                        )
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
                self.report(
                    key + where,
                    f"unknown parameter '${param}'"
                    + (f" (did you mean '${hint[0]}'?)" if hint else f"; the block's parameters are: {declared}"),
                )

    def block_call(self, node: dict, key: Key) -> None:
        """A node whose type is a block: its parameters and inputs fit the block."""
        block = self.blocks[node["type"]]
        if not isinstance(block, dict):
            return
        defaults = block.get("params", {})
        given = {k: v for k, v in node.items() if k not in RESERVED_NODE_KEYS}
        _, problems = block_rules.instance_params(node["type"], defaults if isinstance(defaults, dict) else {}, given)
        for param, message in problems:
            self.report(key + (param,), message)
        declared = block.get("inputs", ["in"])
        if isinstance(declared, list):
            _, error = block_rules.bind_inputs([str(d) for d in declared], node.get("inputs"), "previous")
            if error:
                self.report(key + ("inputs",) if "inputs" in node else key, f"block '{node['type']}': {error}")

    def reference(self, name: str, key: Key, known: list[str], what: str) -> None:
        if name in known:
            return
        hint = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        message = f"unknown {what} '{name}': no {'node' if what != 'input' else 'input or node'} has that name"
        if hint:
            message += f" (did you mean '{hint[0]}'?)"
        self.report(key, message)
