"""Data fingerprints in run.json: full SHA-256 of each file the config names, keyed by where it names it."""

from __future__ import annotations

import hashlib

from kerascli.config import load
from kerascli.run.fingerprint import data_files, fingerprint


def test_every_named_data_file_is_fingerprinted_by_its_config_key(tmp_path):
    (tmp_path / "train.csv").write_text("a,b\n1,2\n")
    (tmp_path / "x.npy").write_bytes(b"not really an array")
    (tmp_path / "config.yaml").write_text(
        "data:\n  train: {path: train.csv, x: [a], y: b}\n  validation: {x: x.npy, y: y.npy}\n  test: {split: 0.2}\n"
    )
    doc = load(tmp_path / "config.yaml")
    found = data_files(doc, doc.data)
    assert set(found) == {"data.train.path", "data.validation.x", "data.validation.y"}  # columns a, b are not files
    train = found["data.train.path"]
    assert train["sha256"] == hashlib.sha256(b"a,b\n1,2\n").hexdigest() and train["size"] == 8
    assert found["data.validation.y"] == {"path": str(tmp_path / "y.npy"), "missing": True}


def test_a_same_size_edit_changes_the_digest(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("y\n1\n2\n")
    before = fingerprint(path)
    path.write_text("y\n1\n3\n")
    after = fingerprint(path)
    assert before["size"] == after["size"] and before["sha256"] != after["sha256"]


def test_a_directory_digest_covers_names_and_contents(tmp_path):
    shards = tmp_path / "shards"
    shards.mkdir()
    (shards / "0.npy").write_bytes(b"a")
    (shards / "1.npy").write_bytes(b"b")
    first = fingerprint(shards)
    assert (first["files"], first["size"]) == (2, 2)
    (shards / "1.npy").rename(shards / "2.npy")
    assert fingerprint(shards)["sha256"] != first["sha256"]
