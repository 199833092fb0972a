"""The bounded YAML composer: alias bombs, deep nesting, cycles and odd bytes are one-line errors, fast."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
import yaml

from kerascli.config import composing
from kerascli.config.document import parse
from kerascli.config.overrides import parse_override
from kerascli.errors import ConfigError

BODY = "model:\n  layers:\n    - {type: Dense, units: 1}\n"


def problem(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(text, "c.yaml", Path("c.yaml"))
    assert len(caught.value.problems) == 1
    return caught.value.problems[0].render()


def bomb(levels: int, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return BODY + "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_at_the_alias_without_expanding_it():
    text = bomb(12)  # 9**12 values once expanded; under 500 bytes
    tracemalloc.start()
    message = problem(text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert message == (
        "c.yaml:8:15: alias '*a3' repeats 7,381 nodes and takes the config past 20,000 YAML nodes; "
        "a config is refused past that size (an alias counts as the nodes it repeats)"
    )
    assert peak < 50 * 2**20


def test_aliases_within_the_budget_still_work():
    doc = parse(BODY + "base: &b {units: 4}\nfit: {callbacks: [*b, *b]}\n", "c.yaml", Path("c.yaml"))
    assert doc.data["fit"]["callbacks"] == [{"units": 4}, {"units": 4}]
    assert doc.locate(("fit", "callbacks", 1, "units")).line == 4  # where the anchored value is written


def test_a_large_flat_config_stops_at_the_node_budget():
    text = BODY + "x: [" + ", ".join(["1"] * (composing.MAX_NODES + 10)) + "]\n"
    assert "takes the config past 20,000 YAML nodes" in problem(text)


@pytest.mark.parametrize(
    "text",
    [
        "x: " + "[" * 101 + "]" * 101,
        "x:\n" + "".join(" " * i + "-\n" for i in range(1, 200)),
        "x:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 200)),
    ],
    ids=["flow", "block-sequence", "block-mapping"],
)
def test_deep_nesting_is_refused_not_a_recursion_error(text):
    assert problem(text).endswith("YAML nested more than 100 levels deep; a config is refused past that depth")


def test_nesting_up_to_the_limit_parses():
    depth = composing.MAX_DEPTH - 1  # the top-level mapping is one level
    doc = parse("x: " + "[" * depth + "]" * depth + "\n", "c.yaml", Path("c.yaml"))
    assert isinstance(doc.data["x"], list)


def test_recursive_alias_is_refused():
    assert (
        problem("a: &a [1, *a]\n")
        == "c.yaml:1:11: alias '*a' is inside the node it refers to: a config cannot be recursive"
    )


@pytest.mark.parametrize(
    "char, name",
    [("\x00", "U+0000 (NUL)"), ("\x1b", "U+001B (ESC)"), ("\x07", "U+0007 (BEL)"), ("\x7f", "U+007F (DEL)")],
)
def test_control_characters_in_the_text_are_located(char, name):
    text = f"name: caf\u00e9\nseed: 1{char}\n"
    assert problem(text) == f"c.yaml:2:8: control character {name} is not allowed: a config holds printable text only"


def test_unclosed_bracket_names_the_line_it_was_opened_on():
    text = "data:\n  train: {path: d.csv,\n    y: label\nmodel: {}\n"
    assert problem(text) == (
        "c.yaml:4:6: YAML syntax error: while parsing a flow mapping that starts at line 2, column 10: "
        "did not find expected ',' or '}', but found ':'"
    )


def test_duplicate_and_undefined_anchors():
    assert problem("a: &x 1\nb: &x 2\n") == "c.yaml:2:4: YAML syntax error: found duplicate anchor '&x'"
    assert problem("a: *nope\n") == "c.yaml:1:4: YAML syntax error: found undefined alias '*nope'"


def test_override_values_are_bounded_too():
    key, value = parse_override("fit.x=" + "[" * 150 + "]" * 150)
    assert key == ("fit", "x") and isinstance(value, str)  # not YAML within the limits: kept as the text


def test_libyaml_is_used_when_installed():
    if getattr(yaml, "__with_libyaml__", False):
        assert issubclass(composing.Loader, yaml.CSafeLoader)


def test_merge_keys_are_refused_with_what_to_do():
    assert problem(BODY + "base: &b {units: 3}\nfit: {<<: *b}\n") == (
        "c.yaml:5:7: fit: YAML merge keys (<<) are not supported: write the keys out, or reuse the whole value with an alias"
    )


@pytest.mark.parametrize(
    "value, tag", [("!!timestamp 2001-12-14", "timestamp"), ("!!binary aGk=", "binary"), ("!!set {a: null}", "set")]
)
def test_tags_outside_json_types_are_refused_at_the_value(value, tag):
    text = f"model:\n  layers:\n    - {{type: Dense, units: {value}}}\n"
    assert problem(text) == (
        f"c.yaml:3:28: model.layers[0].units: YAML tag '!!{tag}' is not allowed: a config holds strings, numbers, "
        "booleans, null, lists and mappings only"
    )


def test_an_override_with_such_a_tag_stays_a_string():
    assert parse_override("seed=!!timestamp 2001-12-14") == (("seed",), "!!timestamp 2001-12-14")
    assert parse_override("name=2001-12-14") == (("name",), "2001-12-14")


def test_a_date_is_a_string_as_in_yaml_1_2():
    doc = parse("name: 2001-12-14\nseed: 3\n", "c.yaml", Path("c.yaml"))
    assert doc.data == {"name": "2001-12-14", "seed": 3}
