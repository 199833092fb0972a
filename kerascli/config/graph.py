"""The shape of a graph of named nodes, without Keras.

The model and every block are lists of nodes that read other nodes by name.
This module answers the questions both the checks (on the raw YAML data) and
the builder (on the spec) ask of such a list: which names a node reads, in
what order nodes can be built, whether there is a cycle, which nodes feed no
output and which outputs depend on no input. It knows nothing about layers.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from kerascli.config.document import Key


@dataclasses.dataclass(frozen=True)
class Ref:
    """One name a node reads, and where in the node it is written.

    Args:
        name: the node or input name.
        key: the path of the reference inside the node (`("inputs", 1)`),
            or `()` when it is the implicit previous node / first input.
        index: for `enc/1`, the position in a layer's several outputs
            (an LSTM's `return_state`, attention scores).
    """

    name: str
    key: Key
    index: int | None = None


INDEXED = re.compile(r"^(.+)/(\d+)$")


def parse_ref(text: str, key: Key) -> Ref:
    """`"enc"` → `Ref("enc")`; `"enc/1"` → `Ref("enc", index=1)`.

    A slash, not `enc[1]`: brackets would need quotes inside YAML flow
    mappings, and node names never hold a slash.
    """
    match = INDEXED.match(text)
    if match:
        return Ref(match.group(1), key, int(match.group(2)))
    return Ref(text, key)


class CycleError(Exception):
    """The graph has a cycle; `cycle` lists the node indices along it."""

    def __init__(self, cycle: list[int]):
        super().__init__(cycle)
        self.cycle = cycle

    def message(self, names: list[str]) -> str:
        """`cycle in the graph: a -> b -> a`, with the nodes' names."""
        return "cycle in the graph: " + " -> ".join(names[j] for j in self.cycle)


def input_refs(inputs: Any, index: int, names: list[str], input_names: list[str]) -> list[Ref]:
    """The names a node reads: its `inputs`, or the previous node by default.

    Args:
        inputs: the node's `inputs` value (a name, a list, a mapping or None).
        index: the node's position in its list.
        names: the names of all nodes of the list.
        input_names: the names the graph receives (model or block inputs).

    Returns:
        The references, in call order; the first node with no `inputs` reads
        the first input.
    """
    if inputs is None:
        if index > 0:
            return [Ref(names[index - 1], ())]
        return [Ref(input_names[0], ())] if input_names else []
    if isinstance(inputs, str):
        return [parse_ref(inputs, ("inputs",))]
    if isinstance(inputs, list):
        return [parse_ref(v, ("inputs", j)) for j, v in enumerate(inputs) if isinstance(v, str)]
    if isinstance(inputs, dict):
        refs = []
        for k, v in inputs.items():
            if isinstance(v, str):
                refs.append(parse_ref(v, ("inputs", k)))
            elif isinstance(v, list):  # a keyword argument that takes several tensors (initial_state)
                refs += [parse_ref(item, ("inputs", k, j)) for j, item in enumerate(v) if isinstance(item, str)]
        return refs
    return []


def node_order(reads: list[list[str]], names: list[str], input_names: list[str], shares: list) -> list[int]:
    """The order to build a graph's nodes in: each after the nodes it reads or shares.

    Args:
        reads: for each node, the names it reads (see `input_refs`).
        names: the node names.
        input_names: the graph's inputs (never nodes to wait for).
        shares: for each node, the name of the node whose layer it shares, or None.

    Raises:
        CycleError: with the indices along the first cycle found.
    """
    index = {n: i for i, n in enumerate(names)}
    deps = [[index[r] for r in rs if r in index and r not in input_names] for rs in reads]
    for i, share in enumerate(shares):
        if share in index:
            deps[i].append(index[share])
    return build_order(deps)


def build_order(deps: list[list[int]]) -> list[int]:
    """Node indices ordered so that each node follows the nodes it depends on.

    Args:
        deps: for each node, the indices of the nodes it needs built first.

    Raises:
        CycleError: with the indices along the first cycle found.
    """
    order: list[int] = []
    state = [0] * len(deps)  # 0 new, 1 on the current path, 2 done
    for start in range(len(deps)):
        if state[start]:
            continue
        path: list[int] = []
        stack = [(start, iter(deps[start]))]
        state[start] = 1
        path.append(start)
        while stack:
            node, pending = stack[-1]
            nxt = next(pending, None)
            if nxt is None:
                stack.pop()
                path.pop()
                state[node] = 2
                order.append(node)
            elif state[nxt] == 1:
                raise CycleError(path[path.index(nxt) :] + [nxt])
            elif state[nxt] == 0:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(deps[nxt])))
    return order


def feeding_no_output(reads: list[list[str]], names: list[str], outputs: list[str]) -> list[int]:
    """Indices of the nodes whose result no output uses, directly or not.

    Args:
        reads: for each node, the names it reads.
        names: the node names.
        outputs: the output node names.
    """
    index = {n: i for i, n in enumerate(names)}
    used = set()
    stack = [index[o] for o in outputs if o in index]
    while stack:
        i = stack.pop()
        if i in used:
            continue
        used.add(i)
        stack.extend(index[r] for r in reads[i] if r in index)
    return [i for i in range(len(names)) if i not in used]


def unused_inputs(reads: list[list[str]], names: list[str], outputs: list[str], input_names: list[str]) -> list[str]:
    """The graph inputs that no output depends on."""
    index = {n: i for i, n in enumerate(names)}
    reached, seen = set(), set()
    stack = [o for o in outputs]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in index:
            stack.extend(reads[index[name]])
        else:
            reached.add(name)
    return [n for n in input_names if n not in reached]


def sourceless(reads: list[list[str]], names: list[str], input_names: list[str]) -> set[int]:
    """Indices of the nodes that depend on no graph input at all.

    Such a node (e.g. one with `inputs: []`) has nothing to compute from.
    """
    fed: set[str] = set(input_names)
    changed = True
    while changed:
        changed = False
        for i, name in enumerate(names):
            if name not in fed and any(r in fed for r in reads[i]):
                fed.add(name)
                changed = True
    return {i for i, name in enumerate(names) if name not in fed}
