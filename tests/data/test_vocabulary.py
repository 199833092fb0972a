"""Encoded columns: categories and free text → indices in the data layer, as StringLookup/TextVectorization index them."""

import json

import numpy as np
import pytest
from conftest import write_config

from kerascli.data import vocabulary
from kerascli.errors import DataError


def test_categories_are_indexed_by_frequency_with_0_for_unseen_values():
    vocab = vocabulary.fit(np.array(["b", "a", "b", "c", "b", "a"], dtype=object), "category", {"output_mode": "int"})
    assert vocab.tokens == ["b", "a", "c"] and vocab.size == 4
    assert vocab.encode(np.array(["a", "b", "zzz"], dtype=object)).tolist() == [[2], [1], [0]]
    one_hot = vocabulary.Vocabulary("category", vocab.tokens, {"output_mode": "one_hot"}).encode(
        np.array(["c", "new"], dtype=object)
    )
    assert one_hot.tolist() == [[0, 0, 0, 1], [1, 0, 0, 0]]


def test_max_tokens_counts_the_oov_index():
    vocab = vocabulary.fit(np.array(["b", "a", "b", "c", "b", "a"], dtype=object), "category", {"max_tokens": 3})
    assert vocab.tokens == ["b", "a"] and vocab.encode(np.array(["c"], dtype=object)).tolist() == [[0]]


def test_text_is_standardised_split_and_padded_like_text_vectorization():
    texts = np.array(["The cat, the HAT!", "a cat"], dtype=object)
    vocab = vocabulary.fit(
        texts,
        "text",
        {
            "standardize": "lower_and_strip_punctuation",
            "split": "whitespace",
            "output_mode": "int",
            "output_sequence_length": 3,
        },
    )
    assert vocab.tokens == ["cat", "the", "a", "hat"]  # by frequency, ties by token
    # 0 is padding, 1 the unknown token: as TextVectorization's get_vocabulary() starts ["", "[UNK]", ...]
    assert vocab.encode(np.array(["the dog cat the", "hat"], dtype=object)).tolist() == [[3, 1, 2], [5, 0, 0]]
    longest = vocabulary.fit(texts, "text", {"output_mode": "int"})
    assert longest.sequence_length == 4


def test_multi_hot_text():
    vocab = vocabulary.fit(np.array(["x y y", "z"], dtype=object), "text", {"output_mode": "multi_hot"})
    assert vocab.tokens == ["y", "x", "z"]
    assert vocab.encode(np.array(["y y q"], dtype=object)).tolist() == [[1, 1, 0, 0]]


def test_a_string_column_without_an_encoding_says_how_to_encode_it(cli, workdir):
    config_path = write_config(
        workdir,
        """
data:
  train: {path: data/patients.csv, x: [age, thal], y: target}
model: {layers: [{type: Dense, units: 1}]}
compile: {optimizer: adam, loss: mse}
""",
    )
    result = cli("train", config_path, "--quiet")
    assert result.exit_code == 2
    assert (
        "patients.csv: column 'thal', line 2: 'normal' is not a number; to use it, encode it: data.categories: {thal: {}}"
        in result.output
    )


def test_an_encoded_column_needs_its_own_input(cli, workdir):
    config_path = write_config(
        workdir,
        """
data:
  train: {path: data/patients.csv, x: [age, thal], y: target}
  categories: {thal: {}}
model: {layers: [{type: Dense, units: 1}]}
compile: {optimizer: adam, loss: mse}
""",
    )
    result = cli("train", config_path, "--quiet")
    assert result.exit_code == 2
    assert (
        "column 'thal' is encoded (data.text/data.categories) and becomes ids, not one number; give it its own input"
        in result.output
    )


def test_predict_encodes_raw_text_with_the_runs_vocabulary(cli, workdir):
    config_path = write_config(
        workdir,
        """
seed: 0
data:
  train: {path: data/reviews.csv, x: review, y: sentiment}
  predict: {path: data/reviews-new.csv, keep: [id]}
  text: {review: {max_tokens: 30, output_sequence_length: 8}}
model:
  layers:
    - {type: Embedding, input_dim: 30, output_dim: 4}
    - {type: GlobalAveragePooling1D}
    - {type: Dense, units: 1, activation: sigmoid}
compile: {optimizer: adam, loss: binary_crossentropy}
fit: {epochs: 1}
""",
    )
    result = cli("train", config_path, "--quiet", "--json")
    assert result.exit_code == 0, result.output
    run_dir = workdir / json.loads(result.output)["run_dir"]
    saved = json.loads((run_dir / "vocabularies.json").read_text())["review"]
    assert len(saved["tokens"]) == 28 and saved["sequence_length"] == 8  # 30 - padding - OOV
    assert cli("predict", run_dir).exit_code == 0
    lines = (run_dir / "predictions.csv").read_text().splitlines()
    assert lines[0] == "id,label,p_pos" and len(lines) == 13
    assert [line.split(",")[0] for line in lines[1:4]] == ["r00", "r01", "r02"]
    assert {line.split(",")[1] for line in lines[1:]} <= {"neg", "pos"}


def test_a_vocabulary_missing_from_the_run_is_an_error(tmp_path):
    from kerascli.data.encoding import input_array

    class Reader:
        def raw_column(self, name, key):
            return np.array(["a"], dtype=object)

        def fail(self, key, message):
            raise DataError(message)

    from kerascli.config.spec.data import CategoryColumn

    with pytest.raises(DataError, match="column 'c' is encoded but the run has no vocabulary for it"):
        input_array(Reader(), "c", ("x",), targets=[], encodings={"c": CategoryColumn()}, vocabularies=None, fit=False)
