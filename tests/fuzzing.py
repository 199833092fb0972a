"""Hypothesis strategies that mutate valid configs, and the check every mutant must pass.

Shared by tests/test_fuzz.py (a few examples in the suite) and
benchmarks/fuzz.py (ten thousand and more). A mutant drops keys, swaps value
types, renames layers and keys, inserts junk and truncates or garbles the
YAML text; kerascli must answer each with success or exit 2 and one line per
problem, never an uncaught exception.
"""

from __future__ import annotations

import copy
import traceback

import yaml
from hypothesis import strategies as st
from typer.testing import CliRunner

from kerascli.cli import app

DATA = "data/iris.csv"

BASES = [
    {
        "name": "fuzz",
        "seed": 1,
        "data": {"train": {"path": DATA, "y": "species"}, "validation": {"split": 0.25}},
        "model": {
            "layers": [
                {"type": "Dense", "units": 4, "activation": "relu", "kernel_initializer": "he_normal"},
                {"type": "Dropout", "rate": 0.1},
                {"type": "Dense", "units": 3, "activation": "softmax"},
            ]
        },
        "compile": {
            "optimizer": {"type": "Adam", "learning_rate": 0.01},
            "loss": "sparse_categorical_crossentropy",
            "metrics": ["accuracy"],
        },
        "fit": {"epochs": 1, "batch_size": 32, "callbacks": [{"type": "EarlyStopping", "patience": 1}]},
    },
    {
        "name": "fuzz-graph",
        "seed": 2,
        "data": {
            "train": {
                "path": DATA,
                "x": {"a": ["sepal_length", "sepal_width"], "b": ["petal_length", "petal_width"]},
                "y": "species",
            }
        },
        "model": {
            "inputs": {"a": {"shape": [2]}, "b": {"shape": [2]}},
            "layers": [
                {"name": "ha", "type": "Dense", "units": 4, "inputs": "a"},
                {"name": "hb", "type": "Dense", "units": 4, "inputs": "b"},
                {"name": "joined", "type": "Concatenate", "inputs": ["ha", "hb"]},
                {"name": "out", "type": "Dense", "units": 3, "activation": "softmax"},
            ],
            "outputs": "out",
        },
        "compile": {"optimizer": "sgd", "loss": "sparse_categorical_crossentropy"},
        "fit": {"epochs": 1, "batch_size": 16, "shuffle": True},
    },
]

NAMES = [
    "Dense",
    "Dence",
    "Conv2D",
    "Lambda",
    "ref",
    "Flatten",
    "Add",
    "BatchNormalization",
    "",
    "LSTM",
    "type",
    "units",
    "inputs",
    "layers",
    "model",
    "fit",
    "epochs",
    "class_name",
    "module",
    "../../x",
    "adam",
    "mse",
    "a",
    "ha",
    "out",
    "input",
    "relu",
    "softmax",
    "x",
    "y",
    "path",
    "split",
]

JUNK = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(NAMES),
    st.text(max_size=6),
    st.none(),
    st.booleans(),
    st.lists(st.one_of(st.integers(-3, 3), st.sampled_from(NAMES)), max_size=3),
    st.dictionaries(st.sampled_from(NAMES), st.one_of(st.integers(-3, 3), st.sampled_from(NAMES)), max_size=2),
)


def _paths(node, prefix=()):
    """Every key path in a nested dict/list."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix + (key,)
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield prefix + (i,)
            yield from _paths(value, prefix + (i,))


def _parent(root, path):
    for part in path[:-1]:
        root = root[part]
    return root


@st.composite
def mutated_config(draw) -> str:
    """The YAML text of a valid base config after one to four mutations."""
    config = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = list(_paths(config))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, last = _parent(config, path), path[-1]
        op = draw(st.sampled_from(["drop", "swap", "rename", "junk_key", "duplicate", "layer_type"]))
        if op == "drop":
            del parent[last]
        elif op == "swap":
            parent[last] = draw(JUNK)
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(NAMES))] = parent.pop(last)
        elif op == "junk_key" and isinstance(parent, dict):
            parent[draw(st.sampled_from(NAMES))] = draw(JUNK)
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(draw(st.integers(0, len(parent))), copy.deepcopy(parent[last]))
        elif op == "layer_type":
            layers = config.get("model", {}).get("layers") if isinstance(config.get("model"), dict) else None
            nodes = [n for n in layers if isinstance(n, dict)] if isinstance(layers, list) else []
            if nodes:
                draw(st.sampled_from(nodes))["type"] = draw(st.sampled_from(NAMES))
    text = yaml.safe_dump(config, sort_keys=False)
    garble = draw(st.sampled_from(["none", "none", "none", "truncate", "insert"]))
    if garble == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif garble == "insert":
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at]
            + draw(
                st.sampled_from(["\t", ": ", "- ", "{", "]", "'", "!!python/name:os.system ", "&a ", "*a", "\n  ", "%"])
            )
            + text[at:]
        )
    return text


def check_cli(args: list[str]) -> str | None:
    """Runs the CLI in-process; returns a description of a crash, or None when the answer is acceptable.

    Acceptable: exit 0, exit 2 with at least one line on stderr and no
    traceback, or exit 1 for a run whose loss diverged (a junk learning rate).
    """
    result = CliRunner().invoke(app, args, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return "".join(traceback.format_exception(result.exception))
    if result.exit_code == 1 and result.stderr.startswith("training diverged"):
        return None
    if result.exit_code not in (0, 2):
        return f"exit {result.exit_code}: {result.stderr.strip()}"
    if result.exit_code == 2 and not result.stderr.strip():
        return "exit 2 without a message"
    if "Traceback" in result.output + result.stderr:
        return result.stderr
    return None
