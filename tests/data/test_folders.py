"""Folders as sources: class subfolders of images or .txt files, decoded as Keras decodes them."""

import json
import shutil

import numpy as np
import pytest
from conftest import write_config
from PIL import Image

from kerascli import config, data
from kerascli.config.spec import Source
from kerascli.data.streaming import fit_feeds
from kerascli.errors import DataError

IMAGE_CONFIG = """
seed: 1
data:
  train: {path: imgs, image_size: [8, 8]}
  validation: {split: 0.25}
model:
  layers:
    - {type: Flatten}
    - {type: Dense, units: 2, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy}
fit: {epochs: 1, batch_size: 4}
"""


def make_images(root, classes=("cat", "dog"), per_class=4, sizes=((8, 8), (12, 10))):
    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            height, width = sizes[i % len(sizes)]
            Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(root / name / f"{i}.png")
    return root


def load(tmp_path, source, **kw):
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  train: {path: imgs}\n")
    kw.setdefault("labels", data.Labels())
    return data.load(
        Source(**source), config.load(path), ("data", "train"), input_names=None, output_names=["out"], **kw
    )


def test_image_folder_gives_images_and_folder_labels(tmp_path, capsys):
    make_images(tmp_path / "imgs")
    (tmp_path / "imgs" / "empty").mkdir()
    labels = data.Labels()
    arrays = load(
        tmp_path, {"path": "imgs", "image_size": [6, 6], "color_mode": "grayscale"}, labels=labels, fit_labels=True
    )
    images = arrays.x["input"]
    assert images.shape == (8, 6, 6, 1) and np.asarray(images[:2]).shape == (2, 6, 6, 1)
    assert arrays.y["out"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert labels == {"out": ["cat", "dog", "empty"]}  # Keras' class_names: every class folder
    assert "warning: class folder 'empty' of" in capsys.readouterr().err


@pytest.mark.parametrize(
    "options",
    [
        {"image_size": (6, 6), "interpolation": "bilinear"},
        {"image_size": (6, 4), "crop_to_aspect_ratio": True},
        {"image_size": (6, 4), "pad_to_aspect_ratio": True, "interpolation": "nearest"},
    ],
)
def test_images_decode_as_keras_image_dataset_from_directory(tmp_path, options):
    from keras.src.utils.image_dataset_utils import _load_image_grain  # the loader behind format="grain"

    make_images(tmp_path / "imgs", classes=("a",), per_class=2)
    source = {
        "path": "imgs",
        "image_size": list(options["image_size"]),
        **{k: v for k, v in options.items() if k != "image_size"},
    }
    images = np.asarray(load(tmp_path, source, fit_labels=True).x["input"])
    for row, name in enumerate(["a/0.png", "a/1.png"]):
        expected = _load_image_grain(
            str(tmp_path / "imgs" / name),
            options["image_size"],
            3,
            options.get("interpolation", "bilinear"),
            "channels_last",
            options.get("crop_to_aspect_ratio", False),
            options.get("pad_to_aspect_ratio", False),
        )
        np.testing.assert_allclose(images[row], np.asarray(expected), atol=1e-4)


def test_corrupt_image_exits_2_naming_the_file_and_writes_nothing(cli, workdir):
    make_images(workdir / "imgs")
    (workdir / "imgs" / "dog" / "broken.png").write_bytes(b"not a png at all")
    config_path = write_config(workdir, IMAGE_CONFIG)
    result = cli("train", config_path, "--quiet")
    assert result.exit_code == 2
    assert "cannot read image dog/broken.png of" in result.output
    assert not (workdir / "runs").exists()


def test_split_is_by_file_and_seeded(tmp_path):
    make_images(tmp_path / "imgs", per_class=10)
    arrays = load(tmp_path, {"path": "imgs", "image_size": [4, 4]}, fit_labels=True)
    doc = config.load(tmp_path / "c.yaml")
    train, val = data.split(arrays, 0.25, 3, doc, ("data",))
    again, _ = data.split(arrays, 0.25, 3, doc, ("data",))
    assert len(train) == 15 and len(val) == 5
    files = lambda a: {a.x["input"].base.files[r] for r in a.x["input"].rows}  # noqa: E731
    assert files(train).isdisjoint(files(val)) and files(train) == files(again)


def test_folder_bigger_than_the_budget_streams_batches(tmp_path):
    make_images(tmp_path / "imgs", per_class=6)
    arrays = load(tmp_path, {"path": "imgs", "image_size": [8, 8]}, fit_labels=True)
    feed, _ = fit_feeds(arrays, None, batch_size=4, validation_batch_size=None, shuffle=True, seed=0, budget=1000)
    assert feed.streamed
    x, y = feed.x[0]
    assert x.shape == (4, 8, 8, 3) and x.dtype == np.float32 and y.shape == (4,)
    feed, _ = fit_feeds(arrays, None, batch_size=4, validation_batch_size=None, shuffle=True, seed=0, budget=None)
    assert not feed.streamed and isinstance(feed.x, np.ndarray)  # small enough: decoded once into RAM


def test_image_options_on_a_csv_are_an_error(tmp_path):
    (tmp_path / "d.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"'image_size' applies to a folder of images; d.csv is not one"):
        load(tmp_path, {"path": "d.csv", "image_size": [4, 4]})


def test_folder_predict_lists_file_paths(cli, workdir):
    make_images(workdir / "imgs")
    new = workdir / "new"
    new.mkdir()
    for name in ("b.png", "a.png"):
        shutil.copy(workdir / "imgs" / "cat" / "0.png", new / name)
    config_path = write_config(workdir, IMAGE_CONFIG + "\n")
    result = cli("train", config_path, "--quiet", "--json")
    assert result.exit_code == 0, result.output
    run_dir = workdir / json.loads(result.output)["run_dir"]
    result = cli("predict", run_dir, "--input", new, "--json")
    assert result.exit_code == 0, result.output
    lines = (run_dir / "predictions.csv").read_text().splitlines()
    assert lines[0] == "path,label,p_cat,p_dog"
    assert [line.split(",")[0] for line in lines[1:]] == ["a.png", "b.png"]
    assert {line.split(",")[1] for line in lines[1:]} <= {"cat", "dog"}


def test_text_folder_with_data_text(cli, workdir):
    rng = np.random.default_rng(0)
    for label, words in (("neg", ["bad", "awful"]), ("pos", ["good", "great"])):
        (workdir / "texts" / label).mkdir(parents=True)
        for i in range(6):
            (workdir / "texts" / label / f"{i}.txt").write_text(
                " ".join(rng.choice(words + ["the", "it"], 5)).upper() + "!"
            )
    config_path = write_config(
        workdir,
        """
data:
  train: {path: texts}
  text: {text: {output_sequence_length: 5}}
model:
  layers:
    - {type: Embedding, input_dim: 10, output_dim: 4}
    - {type: GlobalAveragePooling1D}
    - {type: Dense, units: 2, activation: softmax}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy}
fit: {epochs: 1}
""",
    )
    result = cli("train", config_path, "--quiet", "--json")
    assert result.exit_code == 0, result.output
    run_dir = workdir / json.loads(result.output)["run_dir"]
    vocab = json.loads((run_dir / "vocabularies.json").read_text())["text"]
    assert set(vocab["tokens"]) == {"bad", "awful", "good", "great", "the", "it"}  # lower-cased, "!" stripped
    assert json.loads((run_dir / "labels.json").read_text()) == {"dense_2": ["neg", "pos"]}
