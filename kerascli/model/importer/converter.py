"""A serialized Keras model (`get_config()`) → kerascli nodes, blocks and inputs.

This module wires the graph (which node reads which); each layer's own
arguments are written by `kerascli.model.importer.arguments`.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from kerascli.config.catalog import Catalog
from kerascli.engine.keras_import import load_keras
from kerascli.errors import KerasCliError
from kerascli.model.importer.applications import recognise
from kerascli.model.importer.arguments import layer_arguments

MODEL_CLASSES = ("Functional", "Sequential", "Model")


def block_identifier(name: str) -> str:
    """A Keras model name as a block name (an identifier): `mobilenetv2_0.35_32` → `mobilenetv2_0_35_32`."""
    text = re.sub(r"\W", "_", name)
    return text if text.isidentifier() else f"_{text}" if text else "block"


class Converter:
    """Converts one model's serialized graph, collecting its nested models as blocks."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.blocks: dict[str, dict] = {}

    # -- graphs ----------------------------------------------------------

    def graph(self, serialized: dict, top: bool) -> dict:
        """A model's `{inputs, layers, outputs}` (a block's when not `top`)."""
        config = serialized["config"]
        if serialized["class_name"] == "Sequential":
            return self.sequential(config, top)
        return self.functional(config, top)

    def sequential(self, config: dict, top: bool) -> dict:
        layers = list(config["layers"])
        inputs: dict[str, dict] = {}
        if layers and layers[0]["class_name"] == "InputLayer":
            first = layers.pop(0)["config"]
            inputs[first["name"]] = self.input_spec(first)
        elif config.get("build_input_shape"):
            inputs["input"] = {"shape": list(config["build_input_shape"][1:])}
        elif top:
            raise KerasCliError(
                "the Sequential model was never built, so its input shape is unknown; build or call it once before saving"
            )
        nodes = [self.layer_node(layer, layer["config"]["name"]) for layer in layers]
        if top:
            return {"inputs": inputs, "layers": nodes}
        return {"layers": nodes}  # a block's input is `in` by default

    def functional(self, config: dict, top: bool) -> dict:
        layers = config["layers"]
        input_names = [item["name"] for item in layers if item["class_name"] == "InputLayer"]
        inputs = {
            item["name"]: self.input_spec(item["config"]) for item in layers if item["class_name"] == "InputLayer"
        }
        calls = []  # (layer, node_index, call) in Keras' order
        for layer in layers:
            if layer["class_name"] == "InputLayer":
                continue
            for index, call in enumerate(layer.get("inbound_nodes", [])):
                calls.append((layer, index, call))
        if not top and len(input_names) == 1:
            # a block's single input is `in` by default: name it so, which also
            # makes instances of one block (whose input names differ) identical
            inputs = {"in": inputs[input_names[0]]}
            names_of_inputs = {(input_names[0], 0): "in"}
            input_names = ["in"]
        else:
            names_of_inputs = {(name, 0): name for name in input_names}
        # (layer, call index) -> node name
        names = dict(names_of_inputs)
        for layer, index, _ in calls:
            names[(layer["name"], index)] = _call_name(layer["name"], index)
        nodes = []
        previous = input_names[0] if len(input_names) == 1 else None
        for layer, index, call in calls:
            name = _call_name(layer["name"], index)
            reads = self.call_inputs(layer, call, names)
            if index == 0:
                node = self.layer_node(layer, name)
            else:
                node = {"name": name, "share": layer["name"]}
            if not (isinstance(reads, str) and reads == previous):
                node["inputs"] = reads
            nodes.append(node)
            previous = name
        # In `output_layers` (not in call arguments) Keras counts a nested
        # functional model's own construction as its node 0.
        functional = {item["name"] for item in layers if _is_functional(item)}
        outputs = [n if n[0] not in functional else [n[0], n[1] - 1, n[2]] for n in _triples(config["output_layers"])]
        outputs = [self.tensor_name({"keras_history": n}, names) for n in outputs]
        if top:
            graph: dict[str, Any] = {"inputs": inputs, "layers": nodes}
            if outputs != [nodes[-1]["name"]]:
                graph["outputs"] = outputs[0] if len(outputs) == 1 else outputs
            return graph
        if len(outputs) != 1:
            raise KerasCliError(
                "a nested model with several outputs cannot be written as a block (a block returns one tensor)"
            )
        block: dict[str, Any] = {"inputs": list(inputs)} if list(inputs) != ["in"] else {}
        block["layers"] = nodes
        if outputs[0] != nodes[-1]["name"]:
            block["outputs"] = outputs[0]
        return block

    def tensor_name(self, tensor_config: dict, names: dict) -> str:
        layer, index, tensor_index = tensor_config["keras_history"]
        if tensor_index != 0:
            raise KerasCliError(
                f"layer '{layer}' returns several tensors and output {tensor_index} is used; "
                "a config can only connect a layer's single (first) output"
            )
        return names[(layer, index)]

    def call_inputs(self, layer: dict, call: dict, names: dict):
        """The `inputs:` value of one call: a name, a list, or keyword arguments."""
        args = call.get("args", [])
        kwargs = {}
        for key, value in (call.get("kwargs") or {}).items():
            if _is_tensor(value):
                kwargs[key] = self.tensor_name(value["config"], names)
            elif value is not None and value is not False:
                raise KerasCliError(
                    f"layer '{layer['name']}' is called with {key}={value!r}; "
                    "a config passes only tensors to a layer call"
                )
        if len(args) == 1 and not kwargs:
            arg = args[0]
            if _is_tensor(arg):
                return self.tensor_name(arg["config"], names)
            if isinstance(arg, list) and all(_is_tensor(a) for a in arg):
                return [self.tensor_name(a["config"], names) for a in arg]
        positional = self.call_parameters(layer)
        for i, arg in enumerate(args):
            if not _is_tensor(arg) or i >= len(positional):
                raise KerasCliError(f"layer '{layer['name']}' is called with arguments a config cannot express")
            kwargs[positional[i]] = self.tensor_name(arg["config"], names)
        return kwargs

    def call_parameters(self, layer: dict) -> list[str]:
        """Names of a layer's `call()` parameters, for tensors passed by position."""
        keras = load_keras()

        cls = getattr(keras.layers, layer["class_name"], None) or keras.saving.get_registered_object(
            layer.get("registered_name") or layer["class_name"]
        )
        if cls is None:
            return []
        params = list(inspect.signature(cls.call).parameters.values())[1:]
        return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]

    @staticmethod
    def input_spec(config: dict) -> dict:
        spec: dict[str, Any] = {"shape": list(config["batch_shape"][1:])}
        if config.get("dtype") not in (None, "float32"):
            spec["dtype"] = config["dtype"]
        return spec

    # -- layers ----------------------------------------------------------

    def layer_node(self, layer: dict, name: str) -> dict:
        """`{name, type, <non-default arguments>}` of one layer (or nested model)."""
        class_name = layer["class_name"]
        if class_name in MODEL_CLASSES or (layer.get("registered_name") in MODEL_CLASSES):
            application = recognise(layer, self.catalog)
            if application is not None:  # one line, not the 150 layers of a keras.applications model
                if layer["config"].get("trainable") is False:
                    application["trainable"] = False
                return {"name": name, **application}
            return {"name": name, "type": self.block(layer)}
        return {"name": name, **layer_arguments(layer, self.catalog)}

    def block(self, layer: dict) -> str:
        """Adds a nested model to `blocks:`; returns the block's name.

        Nested models with the same architecture (e.g. three instances of one
        kerascli block) share one block definition.
        """
        graph = self.graph(layer, top=False)
        for name, existing in self.blocks.items():
            if existing == graph:
                return name
        base = block_identifier(layer["config"]["name"])
        block_name, n = base, 1
        while block_name in self.blocks or self._taken(block_name):
            n += 1
            block_name = f"{base}_block{n}"
        self.blocks[block_name] = graph
        return block_name

    def _taken(self, name: str) -> bool:
        """Whether a block may not be called `name`: a Keras layer or application has it."""
        return self.catalog.get("layers", name) is not None or self.catalog.get("applications", name) is not None


def _triples(value) -> list:
    """`output_layers` (a triple, a list of triples or a dict of them) as a list."""
    if isinstance(value, dict):
        return list(value.values())
    if value and isinstance(value[0], str):
        return [value]
    return list(value)


def _call_name(layer_name: str, index: int) -> str:
    """The node name of a layer's `index`-th call: the layer name, then `<name>_call2`, ..."""
    return layer_name if index == 0 else f"{layer_name}_call{index + 1}"


def _is_functional(layer: dict) -> bool:
    return "Functional" in (layer.get("class_name"), layer.get("registered_name"))


def _is_tensor(value) -> bool:
    return isinstance(value, dict) and value.get("class_name") == "__keras_tensor__"
