"""The schema's JSON writer gives `json.dumps(indent=1, ensure_ascii=False)`'s exact text."""

import json

import pytest

from kerascli.config.json_text import dumps_indented

SAMPLES = [
    {},
    [],
    {"a": {}, "b": [], "c": [{}], "d": [[]]},
    {"é": 'naïve — “quoted” \\ back\\slash "q" \t tab \n newline \x00 \x1f \u2028', "emoji": "🙂"},
    {"ints": [0, -1, 2**70, True, False, None], "floats": [0.0, -0.0, 1e-07, 1.5, 3.141592653589793, 1e300]},
    {"deep": {"x": [1, {"y": [2, [3, {"z": None}]]}]}},
    ["a", ["b", ["c"]], {"k": "v"}],
]


@pytest.mark.parametrize("value", SAMPLES)
def test_same_text_as_json_dumps(value):
    assert dumps_indented(value) == json.dumps(value, indent=1, ensure_ascii=False)


def test_refuses_what_json_would_spell_otherwise():
    with pytest.raises(ValueError, match="expected a finite number"):
        dumps_indented({"x": float("nan")})
    with pytest.raises(TypeError, match="expected a string"):
        dumps_indented({1: "a"})
    with pytest.raises(TypeError, match="expected a JSON type"):
        dumps_indented({"x": {1, 2}})
