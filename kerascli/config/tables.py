"""Small tables several stages share, each written once.

Keras-free: the config checks, the JSON Schema, the catalogue generator, the
model builder, the data readers and the run directory all read them here.
"""

# Data files by suffix: tables (CSV/Parquet columns), every file a source may name.
TABLE_SUFFIXES = (".csv", ".parquet")
FILE_SUFFIXES = (".csv", ".parquet", ".npz", ".npy")
# What `predict --output` can write.
PREDICTION_SUFFIXES = (".csv", ".parquet", ".npy")

# Catalogue kinds -> the singular noun messages and schema names use.
SINGULAR = {
    "layers": "layer",
    "optimizers": "optimizer",
    "schedules": "schedule",
    "losses": "loss",
    "metrics": "metric",
    "callbacks": "callback",
    "activations": "activation",
    "initializers": "initializer",
    "regularizers": "regularizer",
    "constraints": "constraint",
    "applications": "application",
}

# Constructor arguments whose values are Keras objects, by name suffix (`kernel_initializer`):
# identifiers are a name or {type: ...}; activations are names.
IDENTIFIER_KINDS = (
    ("initializer", "initializers"),
    ("regularizer", "regularizers"),
    ("constraint", "constraints"),
)
NESTED_KINDS = (("activation", "activations"), *IDENTIFIER_KINDS)

# Callback arguments that are file paths; they must stay inside the run directory.
CALLBACK_PATH_ARGS = ("filepath", "filename", "log_dir", "backup_dir", "directory")

# The files kerascli writes into a run directory.
RUN_FILES = (
    "config.yaml",
    "model.keras",
    "history.json",
    "metrics.json",
    "run.json",
    "labels.json",
    "vocabularies.json",
)
CHECKPOINT_DIR = "checkpoint"  # kerascli's own per-epoch checkpoint (kerascli.run.interrupt)
PREDICTIONS_FILE = "predictions.csv"  # `predict`'s default output
PLOT_FILE = "learning_curves.png"  # `plot`'s and `train --plot`'s default output
# Everything a callback's path must never name: kerascli owns these names in a run directory.
RUN_OWNED = (*RUN_FILES, CHECKPOINT_DIR, PREDICTIONS_FILE, PLOT_FILE)

# Exported names that a config cannot use safely, per kind. Excluding a name
# excludes its class, so its aliases go too.
EXCLUDED = {
    "layers": {
        "Layer": "abstract base class",
        "Wrapper": "abstract base class of wrappers",
        "InputLayer": "models declare inputs separately",
        "Lambda": "needs a Python callable",
        "TFSMLayer": "loads a TensorFlow SavedModel (code)",
        "JaxLayer": "wraps a Python JAX function",
        "FlaxLayer": "wraps a Python Flax module",
        "TorchModuleWrapper": "wraps a Python torch module",
        "Input": "a function, not a layer: declare inputs in model.inputs",
        "InputSpec": "describes inputs, not a layer",
    },
    "optimizers": {
        "Optimizer": "abstract base class",
        "LossScaleOptimizer": "needs an inner optimizer object",
        "MultiOptimizer": "needs optimizer objects mapped to layers",
    },
    "schedules": {"LearningRateSchedule": "abstract base class"},
    "losses": {
        "Loss": "abstract base class",
        "LossFunctionWrapper": "needs a Python callable",
    },
    "metrics": {
        "Metric": "abstract base class",
        "MeanMetricWrapper": "needs a Python callable",
        "Reduce": "needs a Python reduction callable (not exported in 3.15)",
    },
    "callbacks": {
        "Callback": "abstract base class",
        "CallbackList": "container built by fit()",
        "History": "added by fit() itself",
        "ProgbarLogger": "added by fit() itself",
        "LambdaCallback": "needs Python callables",
        "LearningRateScheduler": "needs a Python callable",
    },
    "activations": {},
    "initializers": {"Initializer": "abstract base class"},
    "regularizers": {"Regularizer": "abstract base class"},
    "constraints": {"Constraint": "abstract base class"},
    "applications": {},
}
