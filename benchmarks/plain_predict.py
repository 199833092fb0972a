"""Predictions written by hand in Keras: load a model, predict, save a .npy file.

python benchmarks/plain_predict.py MODEL.keras INPUT.npy OUTPUT.npy BATCH_SIZE
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

model_path, input_path, output_path, batch_size = sys.argv[1:5]
model = keras.saving.load_model(model_path)
x = np.load(input_path)
np.save(output_path, model.predict(x, batch_size=int(batch_size), verbose=0))
