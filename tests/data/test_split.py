"""`validation: {split: f}`: a seeded shuffle by default, the last rows with `shuffle: false`."""

import numpy as np

from kerascli import config, data


def test_unshuffled_split_takes_the_last_rows(tmp_path):
    (tmp_path / "c.yaml").write_text("data: {}\n")
    doc = config.load(tmp_path / "c.yaml")
    arrays = data.Arrays({"input": np.arange(10.0).reshape(10, 1)}, {"out": np.arange(10)})
    train, val = data.split(arrays, 0.3, 0, doc, ("data",), shuffle=False)
    assert train.y["out"].tolist() == list(range(7)) and val.y["out"].tolist() == [7, 8, 9]
    shuffled, _ = data.split(arrays, 0.3, 0, doc, ("data",))
    assert shuffled.y["out"].tolist() != list(range(7))
