"""Parameter counts of keras.applications models built from YAML vs Keras itself.

Each application is built twice in this process: from a kerascli config (a
node `{type: X, ...}`, through `validate` and the builder) and by calling
`keras.applications.X(...)` with the same arguments; the counts must match.
Run: python benchmarks/applications.py
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

CASES = [
    ("MobileNetV2", {"alpha": 0.35, "include_top": False}),
    ("MobileNet", {"alpha": 0.25, "include_top": False}),
    ("MobileNetV3Small", {"include_top": False}),
    ("ResNet50", {"include_top": False, "pooling": "avg"}),
    ("DenseNet121", {"include_top": True, "classes": 10}),
]
SHAPE = (32, 32, 3)


def from_yaml(name: str, args: dict, folder: Path) -> int:
    import yaml

    from kerascli.model.functional import build_model
    from kerascli.run.validating import validate

    node = {"name": "backbone", "type": name, "weights": None, **args}
    config = {"name": "count", "model": {"inputs": {"image": {"shape": list(SHAPE)}}, "layers": [node]}}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    checked = validate(path)
    model = build_model(checked.cfg.model, checked.doc)
    return model.get_layer("backbone").count_params()


def main() -> None:
    import keras

    print(f"keras {keras.__version__}, input {SHAPE}, weights=None; load average {os.getloadavg()[0]:.1f}")
    print("| application | arguments | from YAML | keras.applications | equal |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for name, args in CASES:
            start = time.perf_counter()
            ours = from_yaml(name, args, Path(folder))
            theirs = getattr(keras.applications, name)(weights=None, input_shape=SHAPE, **args).count_params()
            shown = ", ".join(f"{k}={v}" for k, v in args.items())
            print(
                f"| {name} | {shown} | {ours:,} | {theirs:,} | {'yes' if ours == theirs else 'NO'} |"
                f"  ({time.perf_counter() - start:.0f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
