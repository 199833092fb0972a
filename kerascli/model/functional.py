"""Spec nodes → a Keras functional graph: named DAGs, shared layers, blocks.

`build_graph_model` turns `model:` (and the `blocks:` it uses) into a
`keras.Model`:

- each node makes a Keras layer (`repeat: N` makes N, chained) and calls it on
  the tensors its `inputs` name (a list for merge layers, a mapping for
  keyword call arguments such as `MultiHeadAttention(query=, value=)`);
- `share: other` calls `other`'s layer object again: one set of weights;
- a node whose `type` is a block builds a nested functional `keras.Model`
  named after the node (one line in `summary()`), from the block's nodes with
  `$param` values replaced; blocks may use blocks
  (`kerascli.model.block_instances`);
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
from kerascli.config.document import Document, Key
from kerascli.config.spec import BlockSpec, ModelSpec, Node
from kerascli.config.spec.model import MAX_REPEAT
from kerascli.engine.initialization import deferred_initialization
from kerascli.engine.keras_import import load_keras
from kerascli.errors import ConfigError
from kerascli.model import applications, block_instances, freezing, precision
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
        """Raises a `ConfigError` at `key`."""
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
        made: dict[str, list] = {}  # node name → the layer objects it called
        for i in self._order(nodes, names, prefix, input_names, reads):
            node, key, name = nodes[i], prefix + (i,), names[i]
            self._check_inputs(node, i, reads[i], tensors, input_names, key)
            args = self._call_args(node, reads[i], tensors, key)
            call = block_rules.substitute(node.call or {}, params or {})
            if call and node.type in self.blocks:
                self.fail(key + ("call",), "a block instance takes no call arguments; pass values as block parameters")
            if node.share is not None:
                if node.share not in made:
                    self.fail(key + ("share",), f"'{node.share}' is not a node of this graph")
                layers = made[node.share]
            else:
                layers, args = self._node_layers(node, name, key, args, params, output=name in outputs)
                call = self._freeze(node, layers, call, key)
            made[name] = layers
            tensors[name] = self._apply(layers, args, call, node, name, key)
        return tensors

    def _order(self, nodes: list[Node], names: list[str], prefix: Key, input_names: list[str], reads: list) -> list:
        """The node indices in dependency order; a cycle is an error at the first node on it."""
        try:
            return graph.node_order(
                [[r.name for r in refs] for refs in reads], names, input_names, [n.share for n in nodes]
            )
        except graph.CycleError as exc:
            self.fail(prefix + (exc.cycle[0], "inputs"), exc.message(names))

    def _check_inputs(self, node: Node, i: int, refs: list, tensors: dict, input_names: list[str], key: Key) -> None:
        """A node reads at least one known tensor; the first node of a graph with several inputs says which."""
        if node.inputs is None and i == 0 and len(input_names) > 1 and node.share is None:
            self.fail(
                key,
                f"the graph has {len(input_names)} inputs ({', '.join(input_names)}); set 'inputs' on its first node",
            )
        for ref in refs:
            if ref.name not in tensors:
                self.fail(key + ref.key, f"unknown input '{ref.name}'")
        if not refs:
            self.fail(key + ("inputs",), "the node reads no input")

    def _node_layers(self, node: Node, name: str, key: Key, args: tuple[str, Any], params, output: bool):
        """What a node that shares nothing calls, and what the first of it is called with.

        A block node makes its nested models, an application node its model
        (on its preprocessed input), any other node its Keras layers.
        """
        if node.type in self.blocks:
            return block_instances.build(self, node, name, key, args, params), args
        if applications.is_application(node.type):
            return self._application(node, name, key, args, params)
        return self._layers(node, name, key, params, output=output), args

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

    def repeat(self, node: Node, key: Key, params) -> int:
        """The node's `repeat` (block parameters filled in), counted against `MAX_LAYERS`."""
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

    def kwargs(self, node: Node, key: Key, params) -> dict:
        """The node's constructor arguments with the block's `params` filled in; a `$name` left over is an error."""
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
        repeat = self.repeat(node, key, params)
        kwargs = self.kwargs(node, key, params)
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
        if self.repeat(node, key, params) != 1:
            self.fail(key + ("repeat",), f"{node.type} cannot be repeated: it is a whole model")
        model = applications.build(node.type, self.kwargs(node, key, params), name, value, self.doc, key)
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
