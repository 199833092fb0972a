"""`kerascli.run.progress`: the rich progress display during fit."""

import io

import numpy as np
from rich.console import Console

from kerascli.run.progress import RichProgress, format_logs


def test_logs_are_formatted_in_a_stable_short_form():
    assert format_logs({"loss": 0.123456, "accuracy": 0.5}) == "loss 0.1235 · accuracy 0.5000"


def test_each_epoch_gets_a_line_with_its_metrics():
    from kerascli.engine.keras_import import load_keras

    keras = load_keras()
    out = io.StringIO()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((8, 2), "float32"), np.ones((8, 1), "float32")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[RichProgress(Console(file=out, width=120))])
    lines = [line for line in out.getvalue().splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in lines] == ["1/2", "2/2"]
    assert all("loss " in line for line in lines)


def test_the_batch_bar_says_compiling_until_the_first_step_has_run():
    from kerascli.engine.keras_import import load_keras
    from kerascli.run.progress import COMPILING

    keras = load_keras()
    progress = RichProgress(Console(file=io.StringIO(), width=120))
    seen = []

    class Watch(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(progress._progress.tasks[1].description)

        def on_train_batch_end(self, batch, logs=None):
            seen.append(progress._progress.tasks[1].description)

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=1)
    x, y = np.ones((8, 2), "float32"), np.ones((8, 1), "float32")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0, callbacks=[progress, Watch()])
    assert seen == [COMPILING, "batch", "batch"]
