"""`kerascli.config.blocks`: block parameters, inputs and the blocks an instance uses, without Keras."""

from kerascli.config import blocks


def test_params_are_found_and_substituted_at_any_depth():
    value = {"filters": "$f", "kernel_initializer": {"type": "Constant", "value": "$v"}, "pool": ["$p", 2]}
    assert sorted(name for name, _ in blocks.param_refs(value)) == ["f", "p", "v"]
    assert blocks.substitute(value, {"f": 8, "v": 0.5, "p": 3}) == {
        "filters": 8,
        "kernel_initializer": {"type": "Constant", "value": 0.5},
        "pool": [3, 2],
    }


def test_an_instance_overrides_defaults_and_unknown_params_are_reported():
    params, problems = blocks.instance_params("conv", {"filters": 16, "act": "relu"}, {"filters": 32})
    assert params == {"filters": 32, "act": "relu"}
    assert problems == []
    _, problems = blocks.instance_params("conv", {"filters": 16}, {"filtres": 32})
    assert problems == [("filtres", "unknown parameter 'filtres' of block 'conv' (did you mean 'filters'?)")]


def test_inputs_bind_to_the_declared_names():
    bound, error = blocks.bind_inputs(["left", "right"], {"left": "a", "right": "b"}, "previous")
    assert error is None
    assert [(name, ref) for name, ref, _ in bound] == [("left", "a"), ("right", "b")]
    _, error = blocks.bind_inputs(["left", "right"], "a", "previous")
    assert error == "the block takes 2 inputs (left, right); give them as a list or a mapping"


def test_a_block_that_uses_itself_through_another_is_a_cycle():
    defs = {
        "a": {"layers": [{"type": "b"}]},
        "b": {"layers": [{"type": "a"}]},
        "c": {"layers": [{"type": "Dense"}]},
    }
    assert blocks.block_cycle(defs) == ["a", "b", "a"]
