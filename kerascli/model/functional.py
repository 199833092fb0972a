"""Spec nodes → a Keras functional graph: named DAGs, shared layers, blocks.

`build_graph_model` turns `model:` (and the `blocks:` it uses) into a
`keras.Model`:

- each node makes a Keras layer (`repeat: N` makes N, chained) and calls it on
  the tensors its `inputs` name (a list for merge layers, a mapping for
  keyword call arguments such as `MultiHeadAttention(query=, value=)`);
- `share: other` calls `other`'s layer object again: one set of weights;
- a node whose `type` is a block builds a nested functional `keras.Model`
  named after the node (one line in `summary()`), from the block's nodes with
  `$param` values replaced; blocks may use blocks;
- a node whose `type` is a `keras.applications` model builds that model
  (`kerascli.model.applications`); `trainable: false` and `freeze:` apply to
  any node (`kerascli.model.freezing`); under a mixed `dtype_policy` the
  output nodes stay float32 (`kerascli.model.precision`).

Every Keras error is re-raised as a `ConfigError` at the node's line; an error
inside a block points at the block's own line and names the instance(s) it was
built for.
"""

from __future__ import annotations

import re
from typing import Any

from kerascli.config import blocks as block_rules
from kerascli.config import graph
from kerascli.config.document import Document, Key, format_key
from kerascli.config.spec import BlockSpec, ModelSpec, Node
from kerascli.config.spec.model import MAX_REPEAT
from kerascli.engine.initialization import deferred_initialization
from kerascli.engine.keras_import import load_keras
from kerascli.errors import ConfigError, Problem
from kerascli.model import applications, freezing, precision
from kerascli.model.objects import clean, make_layer

MAX_LAYERS = 10_000  # layers (and block instances) one model may make, every repeat multiplied

keras = load_keras()


def build_model(
    spec: ModelSpec,
    doc: Document,
    input_shapes: dict[str, tuple] | None = None,
    input_dtypes: dict[str, str] | None = None,
    blocks: dict | None = None,
) -> keras.Model:
    """Builds the functional model that `spec` describes.

    Args:
        spec: the `model:` section.
        doc: the config, for error locations.
        input_shapes: per-input sample shapes inferred from the data, used
            when `spec.inputs` is absent.
        input_dtypes: per-input dtypes inferred from the data.
        blocks: the config's `blocks:` (sub-graphs used as node types).

    Returns:
        An uncompiled `keras.Model` whose outputs are a tensor (one output)
        or a dict keyed by output node name (several).

    Raises:
        ConfigError: a node Keras cannot build, with its line.
    """
    if spec.inputs is not None:
        inputs = {name: keras.Input(shape=tuple(s.shape), dtype=s.dtype, name=name) for name, s in spec.inputs.items()}
    elif input_shapes:
        dtypes = input_dtypes or {}
        inputs = {
            name: keras.Input(shape=tuple(shape), dtype=dtypes.get(name, "float32"), name=name)
            for name, shape in input_shapes.items()
        }
    else:
        raise ConfigError(
            [
                doc.problem(
                    ("model",), "model.inputs is not given and there is no training data to infer the input shape from"
                )
            ]
        )
    with deferred_initialization():  # every weight drawn in one compiled program, see kerascli.engine.initialization
        return build_graph_model(spec, doc, inputs, _model_name(doc), blocks)


def _model_name(doc: Document) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", doc.data.get("name") or doc.path.stem)


def build_graph_model(
    spec: ModelSpec, doc: Document, inputs: dict[str, Any], name: str, blocks: dict[str, BlockSpec] | None = None
) -> keras.Model:
    """Builds the model `spec` describes on the given `keras.Input` tensors.

    Args:
        spec: the `model:` section.
        doc: the config, for error locations.
        inputs: `keras.Input` tensors by model input name.
        name: the model's name.
        blocks: the config's `blocks:`.

    Returns:
        An uncompiled `keras.Model`; its outputs are a tensor (one output) or
        a dict keyed by output node name (several).

    Raises:
        ConfigError: a node Keras cannot build, with its line.
    """
    builder = _Builder(doc, blocks or {})
    out_names = spec.output_names()
    tensors = builder.graph(
        spec.layers, spec.node_names(), ("model", "layers"), dict(inputs), None, frozenset(out_names)
    )
    problems = [doc.problem(("model", "outputs"), f"unknown output '{n}'") for n in out_names if n not in tensors]
    if problems:
        raise ConfigError(problems)
    outputs = [tensors[n] for n in out_names]
    try:
        model_inputs = next(iter(inputs.values())) if len(inputs) == 1 else inputs
        if len(outputs) == 1:
            return keras.Model(model_inputs, outputs[0], name=name)
        return keras.Model(model_inputs, dict(zip(out_names, outputs)), name=name)
    except Exception as exc:  # noqa: BLE001 - Keras raises ValueError and others
        raise ConfigError([doc.problem(("model", "outputs"), f"Keras cannot build the model: {clean(exc)}")]) from None


class _Builder:
    """Builds node lists (the model's, and each block instance's) into tensors."""

    def __init__(self, doc: Document, blocks: dict[str, BlockSpec]):
        self.doc = doc
        self.blocks = blocks
        self.made = 0  # layers and block instances made so far: `repeat` in nested blocks multiplies

    def fail(self, key: Key, message: str):
        raise ConfigError([self.doc.problem(key, message)])

    def graph(
        self,
        nodes: list[Node],
        names: list[str],
        prefix: Key,
        tensors: dict[str, Any],
        params: dict[str, Any] | None,
        outputs: frozenset = frozenset(),
    ) -> dict[str, Any]:
        """Calls every node of `nodes` in dependency order.

        Args:
            nodes: the node list (model or block).
            names: the node names.
            prefix: the key of the list in the config, for error locations.
            tensors: the graph's inputs by name; the nodes' outputs are added.
            params: a block instance's parameters (None for the model).
            outputs: the model's output nodes (kept float32 under a mixed policy).

        Returns:
            `tensors`, with every node's output under its name.
        """
        input_names = list(tensors)
        reads = [graph.input_refs(node.inputs, i, names, input_names) for i, node in enumerate(nodes)]
        try:
            order = graph.node_order(
                [[r.name for r in refs] for refs in reads], names, input_names, [n.share for n in nodes]
            )
        except graph.CycleError as exc:
            self.fail(prefix + (exc.cycle[0], "inputs"), exc.message(names))
        made: dict[str, list] = {}  # node name → the layer objects it called
        for i in order:
            node, key = nodes[i], prefix + (i,)
            if node.inputs is None and i == 0 and len(input_names) > 1 and node.share is None:
                self.fail(
                    key,
                    f"the graph has {len(input_names)} inputs ({', '.join(input_names)}); set 'inputs' on its first node",
                )
            for ref in reads[i]:
                if ref.name not in tensors:
                    self.fail(key + ref.key, f"unknown input '{ref.name}'")
            if not reads[i]:
                self.fail(key + ("inputs",), "the node reads no input")
            args = self._call_args(node, reads[i], tensors, key)
            call = block_rules.substitute(node.call or {}, params or {})
            if call and node.type in self.blocks:
                self.fail(key + ("call",), "a block instance takes no call arguments; pass values as block parameters")
            if node.share is not None:
                if node.share not in made:
                    self.fail(key + ("share",), f"'{node.share}' is not a node of this graph")
                layers = made[node.share]
            elif node.type in self.blocks:
                layers = self._instances(node, names[i], key, args, params)
            elif applications.is_application(node.type):
                layers, args = self._application(node, names[i], key, args, params)
            else:
                layers = self._layers(node, names[i], key, params, output=names[i] in outputs)
            if node.share is None:
                call = self._freeze(node, layers, call, key)
            made[names[i]] = layers
            tensors[names[i]] = self._apply(layers, args, call, node, names[i], key)
        return tensors

    def _call_args(self, node: Node, refs: list, tensors: dict, key: Key) -> tuple[str, Any]:
        """What the node's first layer is called with: a tensor, a list, or kwargs."""
        values = [self._tensor(ref, tensors, key) for ref in refs]
        if isinstance(node.inputs, dict):
            kwargs: dict[str, Any] = {}
            for ref, value in zip(refs, values):
                arg = ref.key[1]
                if isinstance(node.inputs[arg], list):
                    kwargs.setdefault(arg, []).append(value)
                else:
                    kwargs[arg] = value
            return "kwargs", kwargs
        if isinstance(node.inputs, list):
            return "list", values
        return "tensor", values[0]

    def _tensor(self, ref, tensors: dict, key: Key):
        """The tensor `ref` names; `enc/1` is output 1 of a layer with several."""
        value = tensors[ref.name]
        if ref.index is None:
            return value
        if not isinstance(value, (list, tuple)):
            self.fail(key + ref.key, f"'{ref.name}' has a single output; write '{ref.name}' without /{ref.index}")
        if ref.index >= len(value):
            self.fail(
                key + ref.key,
                f"'{ref.name}' has {len(value)} outputs ({ref.name}/0..{len(value) - 1}), not /{ref.index}",
            )
        return value[ref.index]

    def _apply(self, layers: list, args: tuple[str, Any], call: dict, node: Node, name: str, key: Key):
        form, value = args
        out = None
        for r, layer in enumerate(layers):
            try:
                if r > 0:
                    out = layer(out, **call)
                elif form == "kwargs":
                    out = layer(**value, **call)
                else:
                    out = layer(value, **call)
            except ConfigError:
                raise
            except Exception as exc:  # noqa: BLE001 - shape errors are ValueError, others vary
                what = f"shares the layer of '{node.share}' but" if node.share else f"({node.type})"
                self.fail(key, f"'{name}' {what} cannot be applied to its input: {clean(exc)}")
        return out

    def _repeat(self, node: Node, key: Key, params) -> int:
        repeat = block_rules.substitute(node.repeat, params or {})
        if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
            self.fail(key + ("repeat",), f"expected a positive integer, got {repeat!r}")
        if repeat > MAX_REPEAT:
            self.fail(key + ("repeat",), f"expected at most {MAX_REPEAT} (the layers this node stacks), got {repeat}")
        self.made += repeat
        if self.made > MAX_LAYERS:
            self.fail(
                key + ("repeat",),
                f"the model would have more than {MAX_LAYERS:,} layers (repeat: {repeat} here, in blocks repeated too)",
            )
        return repeat

    def _kwargs(self, node: Node, key: Key, params) -> dict:
        kwargs = block_rules.substitute(node.kwargs, params) if params is not None else node.kwargs
        left = block_rules.param_refs(kwargs)
        if left:
            param, where = left[0]
            scope = (
                "this block declares no such parameter"
                if params is not None
                else "'$' parameters exist only inside blocks"
            )
            self.fail(key + where, f"unknown parameter '${param}': {scope}")
        return kwargs

    def _layers(self, node: Node, name: str, key: Key, params, output: bool = False) -> list:
        repeat = self._repeat(node, key, params)
        kwargs = self._kwargs(node, key, params)
        layers = [
            make_layer(node.type, kwargs, name if repeat == 1 else f"{name}_{r + 1}", self.doc, key)
            for r in range(repeat - 1)
        ]
        if output and precision.mixed() and "dtype" not in kwargs:
            kwargs = {**kwargs, "dtype": precision.FULL}  # the model's output stays float32
        last = name if repeat == 1 else f"{name}_{repeat}"
        return layers + [make_layer(node.type, kwargs, last, self.doc, key)]

    def _application(self, node: Node, name: str, key: Key, args: tuple[str, Any], params):
        """A `keras.applications` node: the nested model, and its (preprocessed) input."""
        form, value = args
        if form != "tensor":
            self.fail(key + ("inputs",), f"{node.type} reads one tensor; 'inputs' names {len(value)}")
        if self._repeat(node, key, params) != 1:
            self.fail(key + ("repeat",), f"{node.type} cannot be repeated: it is a whole model")
        model = applications.build(node.type, self._kwargs(node, key, params), name, value, self.doc, key)
        if node.preprocess_input:
            value = applications.preprocess(node.type, value)
        return [model], ("tensor", value)

    def _freeze(self, node: Node, layers: list, call: dict, key: Key) -> dict:
        """Applies the node's `trainable: false` and `freeze:` (see `freezing.freeze_node`)."""
        try:
            freezing.freeze_node(layers, node.trainable, node.freeze)
        except freezing.SelectionError as exc:
            self.fail(key + ("freeze",), str(exc))
        return call

    def _instances(self, node: Node, name: str, key: Key, args: tuple[str, Any], params) -> list:
        """The nested models of a block node (`repeat` makes several, chained)."""
        block = self.blocks[node.type]
        repeat = self._repeat(node, key, params)
        given = self._kwargs(node, key, params)
        values, problems = block_rules.instance_params(node.type, block.params, given)
        if problems:
            raise ConfigError([self.doc.problem(key + (p,), m) for p, m in problems])
        if repeat > 1 and len(block.inputs) > 1:
            self.fail(
                key + ("repeat",),
                f"block '{node.type}' takes {len(block.inputs)} inputs; only a one-input block can be repeated",
            )
        form, value = args
        if form == "kwargs":
            bindings, error = block_rules.bind_inputs(block.inputs, node.inputs, None)
            if error:
                self.fail(key + ("inputs",), f"block '{node.type}': {error}")
            first = [value[b] for b, _, _ in bindings]
        else:
            first = value if form == "list" else [value]
        if len(first) != len(block.inputs):
            self.fail(
                key + ("inputs",),
                f"block '{node.type}' takes {len(block.inputs)} input(s) ({', '.join(block.inputs)}), got {len(first)}",
            )
        models, current = [], first
        for r in range(repeat):
            instance = name if repeat == 1 else f"{name}_{r + 1}"
            model = self._instance(node.type, block, instance, values, current, key)
            models.append(model)
            if r + 1 < repeat:
                current = [model.output]
        return models

    def _instance(self, block_name: str, block: BlockSpec, instance: str, params: dict, tensors: list, key: Key):
        """Builds one block instance as a nested functional model."""
        inner = [
            keras.Input(shape=tuple(t.shape[1:]), dtype=t.dtype, name=f"{instance}_{n}")
            for n, t in zip(block.inputs, tensors)
        ]
        prefix = ("blocks", block_name, "layers")
        try:
            outputs = self.graph(block.layers, block.node_names(), prefix, dict(zip(block.inputs, inner)), params)
        except ConfigError as exc:
            raise ConfigError([self._within(p, instance, key) for p in exc.problems]) from None
        out_name = block.output_name()
        if out_name not in outputs or out_name in block.inputs:
            self.fail(
                ("blocks", block_name, "outputs"), f"unknown output '{out_name}': not a node of block '{block_name}'"
            )
        try:
            return keras.Model(inner[0] if len(inner) == 1 else inner, outputs[out_name], name=instance)
        except Exception as exc:  # noqa: BLE001
            self.fail(key, f"Keras cannot build block '{block_name}' as '{instance}': {clean(exc)}")

    def _within(self, problem: Problem, instance: str, key: Key) -> Problem:
        """`problem` (inside a block) with the instance it was built for named."""
        loc = self.doc.locate(key)
        where = f"line {loc.line}" if loc.line else loc.file
        return Problem(
            problem.file,
            problem.line,
            problem.col,
            problem.path,
            f"in '{instance}' ({format_key(key)}, {where}): {problem.message}",
        )
