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
- `pairs.npz`: pairs of 8-feature vectors `left` / `right` drawn around 4
  cluster centres; `same` is 1 when both come from the same cluster
  (shared_encoder.yaml).

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

    left, right, same = pairs()
    np.savez_compressed(HERE / "pairs.npz", left=left, right=right, same=same)
    left, right, _ = pairs(rows=12, seed=14)
    np.savez_compressed(HERE / "pairs-new.npz", left=left, right=right)


if __name__ == "__main__":
    main()
