"""Regenerates the small synthetic data sets in this folder (seeded, deterministic).

No small real data set fits these examples, so they are made here (each with a
`-new` file of unlabelled rows for `kerascli predict`):

- `binary.csv`: the Keras workflow note's binary example: 4 features drawn
  from N(0, 1) and a 0/1 target from a noisy linear rule.
- `two_branch.csv`: two feature groups (`a1..a6`, `b1..b3`) whose target needs
  both: `label` is 1 when a rule on group a and a rule on group b agree.
- `multihead.csv`: 8 features, a class `kind` (low / mid / high) and a real
  `value`, both from the same hidden score (two_branch.yaml, multihead.yaml).
- `shapes.npz`: 8x8 one-channel images of a horizontal bar, a vertical bar or
  a diagonal, with noise; `x` (N, 8, 8, 1) and `y` (N,) (inception.yaml,
  resnet.yaml).
- `stripes.npz`: 32x32 RGB images with pixel values in [0, 255] (as photos
  load) of a horizontal or a vertical coloured stripe on a dark noisy
  background; `x` (N, 32, 32, 3) float32 and `y` (N,) (transfer.yaml).
- `pairs.npz`: pairs of 8-feature vectors `left` / `right` drawn around 4
  cluster centres; `same` is 1 when both come from the same cluster
  (shared_encoder.yaml).
- `shape_images/train/<class>/*.png`: the same three shapes as small RGB PNG
  files in class subfolders (`image_dataset_from_directory`'s layout), most
  20x20, some 24x20 so that resizing is exercised; `shape_images/new/` holds
  unlabelled ones (image_folder.yaml).
- `reviews.csv`: short made-up product reviews (`review`, free text) with a
  `sentiment` (pos / neg) that follows the words used (text_column.yaml).
- `patients.csv`: the structured-data tutorial's shape: numeric columns on
  very different scales (`age`, `chol`, `thalach`, `oldpeak`), a string
  category `thal` (fixed / normal / reversible) and a 0/1 `target`
  (structured.yaml).

Run: python configs/data/generate.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def binary(rows: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4)).round(4)
    score = x @ np.array([1.5, -1.0, 0.5, 0.0]) + rng.normal(scale=0.3, size=rows)
    return x, (score > 0).astype(int)


def two_branch(rows: int = 240, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(rows, 6)).round(4)
    b = rng.normal(size=(rows, 3)).round(4)
    label = ((a[:, 0] + a[:, 1] - a[:, 2] > 0) == (b[:, 0] - 0.5 * b[:, 1] > 0)).astype(int)
    return a, b, label


def multihead(rows: int = 240, seed: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 8)).round(4)
    score = x @ np.array([1.0, -0.8, 0.6, 0.0, 0.4, 0.0, -0.3, 0.2])
    kind = np.array(["low", "mid", "high"])[np.digitize(score, [-0.6, 0.6])]
    value = (2.0 * score + rng.normal(scale=0.2, size=rows)).round(4)
    return x, kind, value


def shapes(rows: int = 240, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.normal(scale=0.3, size=(rows, 8, 8, 1)).astype(np.float32)
    labels = rng.integers(0, 3, size=rows).astype(np.int32)
    for image, label in zip(images, labels):
        at = rng.integers(1, 7)
        if label == 0:
            image[at, :, 0] += 1.0
        elif label == 1:
            image[:, at, 0] += 1.0
        else:
            image[np.arange(8), np.arange(8), 0] += 1.0
    return images.round(3), labels


def pairs(rows: int = 240, seed: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(4, 8))
    first = rng.integers(0, 4, size=rows)
    same = rng.integers(0, 2, size=rows)
    second = np.where(same == 1, first, (first + rng.integers(1, 4, size=rows)) % 4)
    left = (centres[first] + rng.normal(size=(rows, 8))).astype(np.float32).round(3)
    right = (centres[second] + rng.normal(size=(rows, 8))).astype(np.float32).round(3)
    return left, right, same.astype(np.int32)


def shape_images(root: Path, per_class: int, seed: int, labelled: bool = True) -> None:
    """Small RGB PNGs of a horizontal bar, a vertical bar or a diagonal (with noise), one subfolder per class."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for k, name in enumerate(["bar_h", "bar_v", "diagonal"]):
        folder = root / name if labelled else root
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            height, width = (24, 20) if i % 5 == 0 else (20, 20)
            image = rng.normal(60, 25, size=(height, width, 3))
            centre = rng.integers(6, 14)
            if name == "bar_h":
                image[centre - 2:centre + 2, :, 0] += 150
            elif name == "bar_v":
                image[:, centre - 2:centre + 2, 1] += 150
            else:
                rows = np.arange(min(height, width))
                image[rows, rows, 2] += 180
            stem = f"{i:03d}" if labelled else f"{name}_{i:02d}"
            Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(folder / f"{stem}.png", optimize=True)


WORDS = {
    "pos": ["great", "love", "excellent", "works", "perfect", "happy", "recommend", "solid", "fast", "beautiful"],
    "neg": ["broken", "awful", "refund", "slow", "cheap", "disappointed", "poor", "waste", "noisy", "returned"],
    "any": ["the", "it", "this", "product", "was", "and", "very", "after", "a", "week", "I", "my"],
}


def reviews(rows: int, seed: int) -> list[tuple[str, str]]:
    """Made-up reviews: mostly neutral words plus a few of the sentiment's own, with punctuation and capitals."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(rows):
        sentiment = "pos" if rng.random() < 0.5 else "neg"
        words = list(rng.choice(WORDS["any"], rng.integers(4, 10))) + list(rng.choice(WORDS[sentiment], rng.integers(1, 4)))
        rng.shuffle(words)
        text = " ".join(words).capitalize() + rng.choice([".", "!", "!!", "..."])
        out.append((text, sentiment))
    return out


def patients(rows: int, seed: int) -> list[list]:
    """Numeric columns on very different scales, a string category and a target that depends on both."""
    rng = np.random.default_rng(seed)
    age = rng.integers(29, 78, rows)
    chol = rng.normal(245, 50, rows).round()
    thalach = rng.normal(150, 22, rows).round()
    oldpeak = rng.exponential(1.0, rows).round(1)
    thal = rng.choice(["normal", "fixed", "reversible"], rows, p=[0.55, 0.1, 0.35])
    score = 0.04 * (age - 54) + 0.01 * (chol - 245) - 0.03 * (thalach - 150) + 0.8 * oldpeak
    score += np.where(thal == "reversible", 1.5, np.where(thal == "fixed", 0.8, -1.0)) + rng.normal(0, 0.5, rows)
    target = (score > 0.6).astype(int)
    return [[int(a), c, t, o, h, int(y)] for a, c, t, o, h, y in zip(age, chol, thalach, oldpeak, thal, target)]


def stripes(rows: int = 48, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=rows).astype(np.int32)
    images = rng.integers(0, 8, size=(rows, 32, 32, 3)).astype(np.float32)
    for image, label in zip(images, labels):
        at = rng.integers(4, 28)
        colour = rng.integers(128, 256, size=3)
        if label == 0:
            image[at - 2 : at + 2, :, :] = colour
        else:
            image[:, at - 2 : at + 2, :] = colour
    return images, labels


def write_csv(path: Path, header: list[str], rows) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    x, y = binary()
    names = ["f1", "f2", "f3", "f4"]
    write_csv(HERE / "binary.csv", names + ["target"], [list(r) + [t] for r, t in zip(x.tolist(), y.tolist())])
    new_x, _ = binary(rows=20, seed=1)
    write_csv(HERE / "binary-new.csv", names, new_x.tolist())

    a_names = [f"a{i}" for i in range(1, 7)]
    b_names = [f"b{i}" for i in range(1, 4)]
    a, b, label = two_branch()
    write_csv(
        HERE / "two_branch.csv",
        a_names + b_names + ["label"],
        [ra + rb + [t] for ra, rb, t in zip(a.tolist(), b.tolist(), label.tolist())],
    )
    a, b, _ = two_branch(rows=12, seed=11)
    write_csv(HERE / "two_branch-new.csv", a_names + b_names, [ra + rb for ra, rb in zip(a.tolist(), b.tolist())])

    f_names = [f"f{i}" for i in range(1, 9)]
    x, kind, value = multihead()
    write_csv(
        HERE / "multihead.csv",
        f_names + ["kind", "value"],
        [r + [k, v] for r, k, v in zip(x.tolist(), kind.tolist(), value.tolist())],
    )
    x, _, _ = multihead(rows=12, seed=12)
    write_csv(HERE / "multihead-new.csv", f_names, x.tolist())

    images, labels = shapes()
    np.savez_compressed(HERE / "shapes.npz", x=images, y=labels)
    images, _ = shapes(rows=12, seed=13)
    np.savez_compressed(HERE / "shapes-new.npz", x=images)

    images, labels = stripes()
    np.savez_compressed(HERE / "stripes.npz", x=images, y=labels)
    images, _ = stripes(rows=6, seed=15)
    np.savez_compressed(HERE / "stripes-new.npz", x=images)

    left, right, same = pairs()
    np.savez_compressed(HERE / "pairs.npz", left=left, right=right, same=same)
    left, right, _ = pairs(rows=12, seed=14)
    np.savez_compressed(HERE / "pairs-new.npz", left=left, right=right)

    shape_images(HERE / "shape_images" / "train", per_class=50, seed=5)
    shape_images(HERE / "shape_images" / "new", per_class=4, seed=15, labelled=False)

    write_csv(HERE / "reviews.csv", ["review", "sentiment"], reviews(rows=300, seed=6))
    write_csv(HERE / "reviews-new.csv", ["id", "review"], [[f"r{i:02d}", text] for i, (text, _) in enumerate(reviews(rows=12, seed=16))])

    columns = ["age", "chol", "thalach", "oldpeak", "thal", "target"]
    write_csv(HERE / "patients.csv", columns, patients(rows=300, seed=7))
    write_csv(HERE / "patients-new.csv", ["id"] + columns[:-1], [[1000 + i] + row[:-1] for i, row in enumerate(patients(rows=12, seed=17))])


if __name__ == "__main__":
    main()
