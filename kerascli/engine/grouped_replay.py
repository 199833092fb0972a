"""Initializers of one form replayed once for all their variables, their elements side by side.

Why
---
Every variable's initializer compiles its own small XLA kernels: a constant's
broadcast is one more kernel, ~1 ms of XLA CPU compile each, 0.25 s for
MobileNetV2's 209 BatchNormalization constants. Initializers that compute
the same thing on different shapes (every `zeros` or `ones`, whatever the
shape) have the same *form* (`form`), and each group of one form is replayed
once: values of a variable's own size ("full" arrays) are laid flat, the
group's side by side, so each operation runs once for all of them, while
every other value (the constant's value, a seed) stays per variable.

Exactness
---------
Only operations that round at most once per element and never combine two
roundings (`EXACT`: conversions, bit operations, comparisons, max/min, and
the layout operations) ever touch a full array, and a per-variable scalar
that meets one is spread over its own variable's elements only
(`ragged.spread`), an exact copy. Arithmetic is left out on purpose: whether
XLA's CPU backend contracts a multiply and an add into one fused
multiply-add depends on the loop it emits, and a flat loop over a group
contracted differently from the per-variable programs eager Keras runs
(measured: RandomUniform(-3, 7) moved by one ulp in a group of six).
Initializers that draw random numbers or do arithmetic on their arrays
(glorot_uniform, truncated_normal, orthogonal, ...) are not grouped and
replay alone (`replay.replay`), with their random bits still hashed
together (`threefry_batch`).
"""

from __future__ import annotations

import math
from typing import Any

from kerascli.engine import ragged, replay

EXACT = frozenset(
    {
        "abs", "and", "bitcast_convert_type", "clamp", "convert_element_type", "copy", "copy_p", "eq", "ge",
        "gt", "le", "lt", "max", "min", "ne", "neg", "not", "or", "select_n", "shift_left",
        "shift_right_arithmetic", "shift_right_logical", "stop_gradient", "xor",
    }
)  # fmt: skip
# On a flat array these only rename its shape.
LAYOUT = frozenset({"reshape", "squeeze", "expand_dims", "broadcast_in_dim"})
# Parameters that only say shapes: a form leaves them out (each variable keeps its own).
SHAPE_PARAMS = frozenset({"shape", "broadcast_dimensions", "new_sizes", "dimensions", "sharding", "out_sharding"})


class _NotGroupable(Exception):
    """The initializer does something a group cannot replay exactly (see the module)."""


class _Flat:
    """A full value of every member, flat and side by side."""

    def __init__(self, array: Any):
        self.array = array


class _Literal:
    """A literal inside a jit body: one value for every member (a form records it)."""

    def __init__(self, value: Any):
        self.value = value


def form(jaxpr: Any) -> tuple | None:
    """What the initializer computes with its shapes left out (hashable), or None when it cannot be grouped.

    Args:
        jaxpr: the initializer's jaxpr (see `initialization.plan`); its one
            output has the variable's shape.
    """
    if len(jaxpr.outvars) != 1:
        return None
    size = math.prod(_shape(jaxpr))
    if size < 2:
        return None
    try:
        described, out_full = _describe(jaxpr, [], size, top=True)
    except _NotGroupable:
        return None
    return described if out_full == [True] else None


def _describe(jaxpr: Any, in_full: list[bool], size: int, top: bool) -> tuple[tuple, list[bool]]:
    """`jaxpr`'s form, and which of its outputs are full (see `form`)."""
    from jax.extend.core import Literal  # noqa: PLC0415

    full = dict.fromkeys(jaxpr.constvars, False) | dict(zip(jaxpr.invars, in_full))
    ids = {var: i for i, var in enumerate([*jaxpr.constvars, *jaxpr.invars])}
    items: list = [tuple(_kind(v, False) for v in jaxpr.constvars)]
    for eqn in jaxpr.eqns:
        atoms = [(atom, isinstance(atom, Literal)) for atom in eqn.invars]
        flags = [not literal and full[atom] for atom, literal in atoms]
        role = _role(eqn, flags, size)
        if role == "inline":
            params, out_full = _describe(eqn.params["jaxpr"].jaxpr, flags, size, top=False)
        else:
            params, out_full = _params(eqn), [role in ("spread", "flat", "layout")] * len(eqn.outvars)
        inputs = tuple(
            ("arg", str(atom.aval.dtype)) if literal and top else
            ("literal", repr(atom.val), str(atom.aval.dtype)) if literal else
            ("var", ids[atom], _kind(atom, full[atom]))
            for atom, literal in atoms
        )  # fmt: skip
        for var, is_full in zip(eqn.outvars, out_full):
            full[var], ids[var] = is_full, len(ids)
        outputs = tuple((str(v.aval.dtype), _kind(v, full[v])) for v in eqn.outvars)
        items.append((eqn.primitive.name, role, params, inputs, outputs))
    results = [not isinstance(atom, Literal) and full[atom] for atom in jaxpr.outvars]
    items.append(tuple(ids.get(atom, -1) for atom in jaxpr.outvars))
    return tuple(items), results


def _role(eqn: Any, in_full: list[bool], size: int) -> str:
    """How a group evaluates `eqn`: inline, spread, flat, layout or each (per variable)."""
    name = eqn.primitive.name
    if name == "random_bits" or (name in replay.JIT_PRIMITIVES and replay.draws_bits(eqn.params["jaxpr"].jaxpr)):
        raise _NotGroupable(name)  # random draws replay alone (see the module)
    if name in replay.JIT_PRIMITIVES and any(in_full):
        return "inline"
    out_sizes = [math.prod(v.aval.shape) for v in eqn.outvars]
    if any(in_full):
        others_scalar = all(full or _size(atom) == 1 for atom, full in zip(eqn.invars, in_full))
        if out_sizes != [size] * len(out_sizes) or not others_scalar:
            raise _NotGroupable(name)
        if name in LAYOUT and (name != "reshape" or eqn.params.get("dimensions") is None):
            return "layout"
        if name in EXACT and (name != "bitcast_convert_type" or _same_width(eqn)):
            return "flat"
        raise _NotGroupable(name)
    if name == "broadcast_in_dim" and out_sizes == [size] and _size(eqn.invars[0]) == 1:
        return "spread"
    return "each"


def _shape(jaxpr: Any) -> tuple:
    """The variable's shape: that of the initializer's one output."""
    return tuple(jaxpr.outvars[0].aval.shape)


def _size(atom: Any) -> int:
    return math.prod(atom.aval.shape)


def _same_width(eqn: Any) -> bool:
    return eqn.invars[0].aval.dtype.itemsize == eqn.outvars[0].aval.dtype.itemsize


def _kind(var: Any, full: bool) -> str:
    """A value's kind in a form: full (the variable's own size), one element, or each (any other size)."""
    return "full" if full else "one" if _size(var) == 1 else "each"


def _params(eqn: Any) -> tuple:
    """`eqn`'s parameters that say more than shapes (a per-variable jit keeps only its name)."""
    params = eqn.params
    if eqn.primitive.name in replay.JIT_PRIMITIVES:
        return ("name", params.get("name"))
    return tuple(sorted((key, repr(value)) for key, value in params.items() if key not in SHAPE_PARAMS))


def replay_group(jaxprs: list, operand_lists: list[list]) -> Any:
    """Replays initializers of one `form` together, inside the traced program.

    Args:
        jaxprs: the members' initializer jaxprs, all of one form.
        operand_lists: each member's operands (see `initialization.plan`).

    Returns:
        One flat array: the members' values side by side (see `split`).
        Slicing it in the program would cost a kernel per member; split on
        the host it costs a copy.
    """
    group = _Group([math.prod(_shape(j)) for j in jaxprs])
    supplies = [iter(ops) for ops in operand_lists]
    envs = [{var: next(supply) for var in j.constvars} for j, supply in zip(jaxprs, supplies)]
    (flat,) = group.run(jaxprs, envs, supplies)
    return flat.array


def split(flat: Any, jaxprs: list) -> list:
    """The members' values (NumPy arrays) from a computed `replay_group` result."""
    import numpy as np  # noqa: PLC0415

    values, start = [], 0
    host = np.asarray(flat)
    for jaxpr in jaxprs:
        shape = _shape(jaxpr)
        size = math.prod(shape)
        values.append(host[start : start + size].reshape(shape))
        start += size
    return values


class _Group:
    """The members' shared evaluation: per-variable values in one environment each, full ones flat."""

    def __init__(self, sizes: list[int]):
        self.sizes = sizes
        self.segment, _ = ragged.segment_index(sizes)

    def run(self, jaxprs: list, envs: list[dict], supplies: list | None, full: dict | None = None) -> list:
        """Evaluates the members' jaxprs in lock step.

        Args:
            jaxprs: one jaxpr per member, all of one form.
            envs: each member's values of its own (non-full) variables.
            supplies: each member's operand iterator at the top level (its
                literals are operands there); None inside a jit's body.
            full: the first member's variables -> their `_Flat` values.
        """
        from jax.extend.core import Literal  # noqa: PLC0415

        full = {} if full is None else full
        for index, eqn in enumerate(jaxprs[0].eqns):
            eqns = [j.eqns[index] for j in jaxprs]
            args = [self._arg(eqns, position, envs, full, supplies) for position in range(len(eqn.invars))]
            outs = self._evaluate(eqns, args)
            if supplies is not None:
                outs = self._fence(outs)
            for position, out in enumerate(outs):
                if isinstance(out, _Flat):
                    full[eqn.outvars[position]] = out
                else:
                    for env, member_eqn, value in zip(envs, eqns, out):
                        env[member_eqn.outvars[position]] = value
        results = []
        for position, atom in enumerate(jaxprs[0].outvars):
            if isinstance(atom, Literal):
                results.append([j.outvars[position].val for j in jaxprs])
            elif atom in full:
                results.append(full[atom])
            else:
                results.append([env[j.outvars[position]] for env, j in zip(envs, jaxprs)])
        return results

    def _arg(self, eqns: list, position: int, envs: list[dict], full: dict, supplies: list | None) -> Any:
        from jax.extend.core import Literal  # noqa: PLC0415

        atom = eqns[0].invars[position]
        if isinstance(atom, Literal):
            if supplies is not None:  # top-level literals are program operands, as eager dispatch passes them
                return [next(supply) for supply in supplies]
            return _Literal(atom.val)
        if atom in full:
            return full[atom]
        return [env[eqn.invars[position]] for env, eqn in zip(envs, eqns)]

    def _evaluate(self, eqns: list, args: list) -> list:
        eqn = eqns[0]
        role = _role(eqn, [isinstance(arg, _Flat) for arg in args], self.sizes[0])
        if role == "inline":
            closed = [e.params["jaxpr"] for e in eqns]
            inner = [c.jaxpr for c in closed]
            envs = [dict(zip(j.constvars, c.consts)) for j, c in zip(inner, closed)]
            flat_inputs = {}
            for position, arg in enumerate(args):
                if isinstance(arg, _Flat):
                    flat_inputs[inner[0].invars[position]] = arg
                else:
                    for member, (env, j) in enumerate(zip(envs, inner)):
                        env[j.invars[position]] = _member(arg, member)
            return self.run(inner, envs, None, flat_inputs)
        if role == "spread":
            return [_Flat(ragged.spread(args[0], self.segment, eqn.outvars[0].aval.dtype))]
        if role == "layout":
            return [args[0]]
        if role == "flat":
            flat_args = [self._flat(arg, atom) for arg, atom in zip(args, eqn.invars)]
            return [_Flat(out) for out in replay.bind(eqn, flat_args)]
        per_member = [replay.bind(e, [_member(arg, m) for arg in args]) for m, e in enumerate(eqns)]
        return [list(outs) for outs in zip(*per_member)]

    def _flat(self, arg: Any, atom: Any) -> Any:
        """An operand of a flat operation: the flat array, a literal as is, or a scalar spread per member."""
        if isinstance(arg, _Flat):
            return arg.array
        if isinstance(arg, _Literal):
            return arg.value
        return ragged.spread(arg, self.segment, atom.aval.dtype)

    def _fence(self, outs: list) -> list:
        """The top-level outputs behind barriers, as eager dispatch separates its programs."""
        values = [out.array if isinstance(out, _Flat) else None for out in outs]
        flat_positions = [i for i, v in enumerate(values) if v is not None]
        fenced = replay.fence([values[i] for i in flat_positions]) if flat_positions else []
        for i, value in zip(flat_positions, fenced):
            outs[i] = _Flat(value)
        return [out if isinstance(out, _Flat) else replay.fence(list(out)) for out in outs]


def _member(arg: Any, member: int) -> Any:
    """A member's own value of a per-member list or a literal."""
    return arg.value if isinstance(arg, _Literal) else arg[member]
