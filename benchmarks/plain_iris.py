"""Iris, 50 epochs, written by hand in Keras: the script `kerascli train configs/iris.yaml` replaces.

Same data, seeded shuffled 30% validation split, model, optimizer, batch size
and epochs as configs/iris.yaml; evaluates on the validation data and saves
the model, as `kerascli train` does.

    python benchmarks/plain_iris.py OUTPUT_DIR
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow.csv  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
out_dir = sys.argv[1] if len(sys.argv) > 1 else "."

keras.utils.set_random_seed(42)
table = pyarrow.csv.read_csv(os.path.join(HERE, "..", "configs", "data", "iris.csv"))
features = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
x = np.stack([table.column(c).to_numpy() for c in features], axis=1).astype("float32")
species = table.column("species").to_numpy(zero_copy_only=False).astype(str)
classes = sorted(set(species))
y = np.array([classes.index(s) for s in species], dtype="int32")

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
    optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
)
model.fit(x_train, y_train, epochs=50, batch_size=16, validation_data=(x_val, y_val), verbose=0)
print(model.evaluate(x_val, y_val, batch_size=16, return_dict=True, verbose=0))
model.save(os.path.join(out_dir, "model.keras"))
