"""Iris written by hand in Keras: the scripts `kerascli train`, `evaluate` and `predict` of configs/iris.yaml replace.

    python benchmarks/plain_iris.py OUTPUT_DIR                      # train
    python benchmarks/plain_iris.py evaluate MODEL.keras            # on configs/data/iris-test.csv
    python benchmarks/plain_iris.py predict MODEL.keras OUTPUT.csv  # on configs/data/iris-new.csv

train: same data, seeded shuffled 30% validation split, model, optimizer,
batch size and epochs as configs/iris.yaml; evaluates on the validation data
and saves the model, as `kerascli train` does. evaluate: loads the model and
evaluates it on the test rows at the config's batch size (128), printing the
metrics. predict: loads the model, predicts the new rows (batch 128) and
writes each row's label and class probabilities as CSV, as `kerascli predict`
does.
"""

import csv
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow.csv  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "configs", "data")
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
CLASSES = ["setosa", "versicolor", "virginica"]  # sorted, as kerascli's labels.json holds them


def read(name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The features of configs/data/NAME as float32, and the class indices when it has `species`."""
    table = pyarrow.csv.read_csv(os.path.join(DATA, name))
    x = np.stack([table.column(c).to_numpy() for c in FEATURES], axis=1).astype("float32")
    if "species" not in table.column_names:
        return x, None
    species = table.column("species").to_numpy(zero_copy_only=False).astype(str)
    return x, np.array([CLASSES.index(s) for s in species], dtype="int32")


def train(out_dir: str) -> None:
    keras.utils.set_random_seed(42)
    x, y = read("iris.csv")
    order = np.random.default_rng(42).permutation(len(x))
    n_val = int(0.3 * len(x))
    x_val, y_val = x[order[:n_val]], y[order[:n_val]]
    x_train, y_train = x[order[n_val:]], y[order[n_val:]]
    model = keras.Sequential(
        [
            keras.Input(shape=(4,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=50, batch_size=16, validation_data=(x_val, y_val), verbose=0)
    print(model.evaluate(x_val, y_val, batch_size=16, return_dict=True, verbose=0))
    model.save(os.path.join(out_dir, "model.keras"))


def evaluate(model_path: str) -> None:
    model = keras.saving.load_model(model_path, safe_mode=True)
    x, y = read("iris-test.csv")
    print(model.evaluate(x, y, batch_size=128, return_dict=True, verbose=0))


def predict(model_path: str, output: str) -> None:
    model = keras.saving.load_model(model_path, safe_mode=True)
    x, _ = read("iris-new.csv")
    probabilities = model.predict(x, batch_size=128, verbose=0)
    with open(output, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", *(f"p_{c}" for c in CLASSES)])
        for row in probabilities:
            writer.writerow([CLASSES[int(row.argmax())], *(f"{p:.6g}" for p in row)])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "evaluate":
        evaluate(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == "predict":
        predict(sys.argv[2], sys.argv[3])
    else:
        train(sys.argv[1] if len(sys.argv) > 1 else ".")
