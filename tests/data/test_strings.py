"""String inputs in the data layer: a `dtype: string` input reads its column raw (any backend can load it)."""

import numpy as np
import pytest
from conftest import write_config

from kerascli import config
from kerascli.config.spec import Config
from kerascli.data import Labels, load
from kerascli.data.strings import string_column, string_inputs, to_keras
from kerascli.errors import DataError


def _load(workdir, text, names=("review",), shape=(1,)):
    doc = config.load(write_config(workdir, text + "model: {layers: [{type: Dense, units: 1}]}\n"))
    cfg = Config.model_validate(doc.data)
    return load(
        cfg.data.train,
        doc,
        ("data", "train"),
        input_names=list(names),
        output_names=["out"],
        labels=Labels(),
        fit_labels=True,
        encodings=cfg.data.encoded(),
        string_inputs={n: shape for n in names},
    )


def test_a_string_input_defaults_to_one_string_per_row(workdir):
    doc = config.load(
        write_config(workdir, "model: {inputs: {review: {dtype: string}}, layers: [{type: Dense, units: 1}]}\n")
    )
    inputs = Config.model_validate(doc.data).model.inputs
    assert inputs["review"].shape == [1]
    assert string_inputs(inputs) == {"review": (1,)}


def test_other_inputs_still_need_a_shape(cli, workdir):
    path = write_config(workdir, "model: {inputs: {a: {dtype: float32}}, layers: [{type: Dense, units: 1}]}\n")
    result = cli("validate", path)
    assert result.exit_code == 2
    assert "config.yaml:1:18: model.inputs.a.shape: missing required key 'shape'" in result.output


def test_a_csv_column_is_read_as_raw_strings(workdir):
    (workdir / "r.csv").write_text('review,y\n"Good, <b>really</b>",1\n,0\n1.50,1\n')
    arrays = _load(workdir, "data: {train: {path: r.csv, x: review, y: y}}\n")
    values = arrays.x["review"]
    assert values.dtype == object and values.shape == (3, 1)
    assert values[:, 0].tolist() == ["Good, <b>really</b>", "", "1.50"]  # an empty cell is "", a number its text


def test_a_text_folder_gives_its_texts(workdir):
    for label, text in (("neg", "awful"), ("pos", "great fun")):
        (workdir / "texts" / label).mkdir(parents=True)
        (workdir / "texts" / label / "a.txt").write_text(text)
    arrays = _load(workdir, "data: {train: {path: texts}}\n", names=("text",), shape=())
    assert arrays.x["text"].tolist() == ["awful", "great fun"]
    assert arrays.y["out"].tolist() == [0, 1]


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (
            "review",
            "column 'review' feeds a string input (dtype: string) and is also encoded to ids by data.text/data.categories",
        ),
        ("[review, other]", "a string input (dtype: string) reads one column, got 2 (review, other)"),
    ],
    ids=["also-encoded", "two-columns"],
)
def test_a_string_input_reads_one_column_that_nothing_else_encodes(workdir, x, message):
    (workdir / "r.csv").write_text("review,other,y\na,b,1\n")
    text = f"data: {{train: {{path: r.csv, x: {x}, y: y}}, text: {{review: {{}}}}}}\n"
    with pytest.raises(DataError) as caught:
        _load(workdir, text)
    assert message in str(caught.value)


def test_a_string_input_takes_one_string_per_row(workdir):
    with pytest.raises(ValueError, match=r"takes shape \[1\] \(the default\) or \[\]; got shape \[2\]"):
        string_column(np.array(["a"], dtype=object), (2,), "column 'a'", lambda m: (_ for _ in ()).throw(ValueError(m)))


def test_arrays_without_strings_reach_keras_untouched():
    numbers = {"a": np.zeros((2, 3), np.float32)}
    assert to_keras(numbers) is numbers
    assert to_keras(numbers["a"]) is numbers["a"]
