"""Hypothesis strategies for the YAML text itself: aliases, nesting, tags, keys and odd bytes.

Where `fuzzing.mutated_config` mutates the values of a valid config, these
attack the layer below: alias bombs of any size (at the top or inside a key
the spec walks), recursive, undefined and duplicate anchors, nesting far past
the depth limit in flow and block style, merge keys, complex keys, tags,
huge scalars, and bytes no config should hold (NUL, ESC, bidi marks,
invalid UTF-8). Shared by tests/test_fuzz.py (a sample) and
benchmarks/fuzz.py (`--yaml`, ten thousand and more); `fuzzing.check_cli`
judges each answer.
"""

from __future__ import annotations

import yaml
from fuzzing import BASES
from hypothesis import strategies as st

# Keys the spec and the checks walk: a bomb or a deep value placed here reaches them if it gets past the parser.
TARGETS = ["fit.callbacks", "model.layers", "data.train.x", "compile.metrics", "blocks", "model.inputs", "top"]
ODD = ["\x00", "\x1b[2J", "\x1b]0;x\x07", "\x07", "\x7f", "\ufeff", "\u202e", "\x85", "\t", "\r", "\u2028", "\ud7ff"]
TAGS = [
    "!!binary aGk=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!timestamp 2001-12-14",
    "!!python/name:os.system",
    "!custom x",
    "!!float .nan",
    "!!int 0x1F",
    "!!str 3",
    "!!null ''",
    "!<tag:yaml.org,2002:str> s",
]


def _bomb(levels: int, width: int) -> list[str]:
    """Anchors a0..a{levels-1}, each a list of `width` aliases of the one before."""
    lines = [f"&a0 [{', '.join(['lol'] * width)}]"]
    lines += [f"&a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return lines


def _nested(depth: int, style: str) -> str:
    if style == "flow-seq":
        return "[" * depth + "1" + "]" * depth
    if style == "flow-map":
        return "{a: " * depth + "1" + "}" * depth
    return "\n" + "".join(" " * (i + 1) + ("- " if style == "block-seq" else f"k{i}:") + "\n" for i in range(depth))


def _place(text: str, target: str, value: str) -> str:
    """`text` (a config) with `value` put at `target` (or as extra top-level keys)."""
    if target == "top":
        return text + value + "\n"
    section, _, rest = target.partition(".")
    return text + f"{section}:\n  {rest or 'x'}: {value}\n"  # a duplicate section: reported, or the value is walked


@st.composite
def yaml_structure(draw) -> bytes:
    """The bytes of a config file whose YAML structure is attacked (see the module docstring)."""
    text = yaml.safe_dump(draw(st.sampled_from(BASES)), sort_keys=False)
    kind = draw(st.sampled_from(["bomb", "deep", "anchors", "keys", "tags", "bytes", "huge"]))
    target = draw(st.sampled_from(TARGETS))
    if kind == "bomb":
        lines = _bomb(draw(st.integers(1, 12)), draw(st.integers(1, 12)))
        defs = "".join(f"k{i}: {line}\n" for i, line in enumerate(lines))
        text = _place(text + defs, target, f"*a{len(lines) - 1}")
    elif kind == "deep":
        value = _nested(
            draw(st.integers(1, 400)), draw(st.sampled_from(["flow-seq", "flow-map", "block-seq", "block-map"]))
        )
        text = _place(text, target, value)
    elif kind == "anchors":
        value = draw(
            st.sampled_from(["&r [1, *r]", "&r {a: *r}", "*nowhere", "&d 1", "[&x 1, &x 2]", "&s x", "[*s, *s]"])
        )
        text = _place(text + "k: &s shared\n", target, value)
    elif kind == "keys":
        value = draw(
            st.sampled_from(["{<<: {a: 1}}", "{? [a, b] : 1}", "{*s : 1}", "{1: a, 1: b}", "{null: 1}", "{[1]: 2}"])
        )
        text = _place(text + "k: &s shared\n", target, value)
    elif kind == "tags":
        text = _place(text, target, draw(st.sampled_from(TAGS)))
    elif kind == "huge":
        text = _place(
            text, target, draw(st.sampled_from(["x" * 200_000, "'" + "y" * 100_000 + "'", "[" + "1," * 60_000 + "1]"]))
        )
    data = text.encode("utf-8", "surrogatepass")
    if kind == "bytes" or draw(st.integers(0, 9)) == 0:
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(data)))
            odd = draw(
                st.one_of(st.sampled_from(ODD).map(lambda s: s.encode("utf-8")), st.binary(min_size=1, max_size=3))
            )
            data = data[:at] + odd + data[at:]
    return data
