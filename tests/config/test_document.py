"""YAML loading: positions, duplicate keys, tags, --set overrides."""

import pytest

from kerascli import config
from kerascli.errors import ConfigError


def load_text(tmp_path, text, overrides=()):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return config.load(path, overrides)


def first_error(tmp_path, text, overrides=()):
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, text, overrides)
    return info.value.lines()[0]


def test_every_key_has_a_line_and_column(tmp_path):
    doc = load_text(tmp_path, "fit:\n  epochs: 3\nmodel:\n  layers:\n    - {type: Dense, units: 2}\n")
    assert (doc.locate(("fit", "epochs")).line, doc.locate(("fit", "epochs")).col) == (2, 3)
    loc = doc.locate(("model", "layers", 0, "units"))
    assert (loc.line, loc.col) == (5, 21)
    # an unknown key falls back to its nearest located ancestor
    assert doc.locate(("model", "layers", 0, "nope")).line == 5


def test_duplicate_key_is_an_error_with_both_lines(tmp_path):
    line = first_error(tmp_path, "fit:\n  epochs: 3\n  epochs: 4\n")
    assert line.endswith("c.yaml:3:3: fit.epochs: duplicate key 'epochs' (first defined on line 2)")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("model: [1, 2\n", "YAML syntax error"),
        ("a: !!python/object:os.system {}\n", "is not allowed"),
        ("a: !custom 3\n", "YAML tag '!custom' is not allowed"),
        ("", "the config is empty"),
        ("- 1\n- 2\n", "expected a mapping of sections"),
    ],
    ids=["unclosed-bracket", "python-tag", "custom-tag", "empty", "not-a-mapping"],
)
def test_unparseable_documents(tmp_path, text, expected):
    assert expected in first_error(tmp_path, text)


def test_syntax_error_has_position(tmp_path):
    line = first_error(tmp_path, "fit:\n  epochs: 3\n bad: [\n")
    assert ":3:" in line or ":4:" in line


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        config.load(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="is a directory"):
        config.load(tmp_path)


def test_overrides_parse_yaml_scalars_and_create_keys(tmp_path):
    doc = load_text(
        tmp_path,
        "fit: {epochs: 3}\nmodel:\n  layers:\n    - {type: Dense, units: 2}\n",
        [
            "fit.epochs=7",
            "fit.shuffle=false",
            "compile.optimizer.learning_rate=1e-4",
            "model.layers[0].units=9",
            "name=exp",
        ],
    )
    assert doc.data["fit"] == {"epochs": 7, "shuffle": False}
    assert doc.data["compile"]["optimizer"]["learning_rate"] == 1e-4
    assert doc.data["model"]["layers"][0]["units"] == 9
    assert doc.locate(("fit", "epochs")).file == "--set fit.epochs=7"


@pytest.mark.parametrize(
    "override, expected",
    [
        ("fit.epochs", "expected KEY=VALUE"),
        ("model.layers[3].units=2", "no such item: the list has 1 entries"),
        ("fit.epochs.x=2", "cannot set 'x': fit.epochs holds 3, not a mapping"),
    ],
    ids=["no-equals", "index-out-of-range", "into-scalar"],
)
def test_bad_overrides(tmp_path, override, expected):
    assert expected in first_error(
        tmp_path, "fit: {epochs: 3}\nmodel:\n  layers:\n    - {type: Dense, units: 2}\n", [override]
    )
