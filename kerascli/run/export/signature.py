"""What a consumer of an exported or served run needs to call it and decode its outputs.

`signature(ctx)` describes the run's inputs (names, shapes, dtypes, and the
table columns each one is made of, in order), its outputs (names, shapes,
whether a classifier, the class vocabulary, the columns `kerascli predict`
writes for it) and the preprocessing contract. `kerascli export` writes it as
`signature.json` beside the artifact; `kerascli serve` answers it on
`GET /metadata` and builds its request model from it.

The input columns are read from the run's training source as `evaluate` and
`predict` read them (the config's `data.train.x` selection resolved against
the file's header), since the run does not record them itself.
"""

from __future__ import annotations

import platform

import numpy as np

from kerascli import __version__
from kerascli.config.tables import FILE_SUFFIXES, TABLE_SUFFIXES
from kerascli.data import predictions
from kerascli.data.loading import input_selections, selections
from kerascli.data.readers import Reader
from kerascli.data.selection import names_of
from kerascli.engine.tensors import tensor_name

PREPROCESSING = {
    "rows": "one value per input column; columns are read by name, in the order inputs[].columns lists them",
    "dtype": "each input is cast to its dtype (float32 for table columns), as `kerascli predict` reads a CSV",
    "scaling": "none outside the model: any normalization is a layer inside the artifact",
    "array_inputs": "an input without columns takes the whole array of its shape (batch first)",
}
DECODING = {
    "categorical": "label = classes[argmax(output)]; p_<class> = output[:, i]",
    "binary": "label = classes[1] if output > 0.5 else classes[0]; p_<classes[1]> = output",
    "regression": "the output values as they are (one column per unit)",
}


def input_columns(ctx) -> dict[str, list[str] | None]:
    """The table columns of each model input, from the training source (None: an array input)."""
    names = [tensor_name(t) for t in ctx.model.inputs]
    source = ctx.cfg.data.train
    if source is None or source.path is None:
        return dict.fromkeys(names)
    key = ("data", "train")
    reader = Reader(source, ctx.doc, key)
    if reader.kind not in TABLE_SUFFIXES:
        return dict.fromkeys(names)
    x_sel, y_sel = selections(source, reader)
    targets = names_of(y_sel)
    columns = {}
    for name, selection in input_selections(x_sel, names, ctx.doc, key).items():
        if isinstance(selection, str) and selection.lower().endswith(FILE_SUFFIXES):
            columns[name] = None  # the input is its own file, not columns of the table
        else:
            columns[name] = reader.column_names(selection, key + ("x",), targets)
    return columns


def describe_inputs(ctx) -> list[dict]:
    """`[{name, shape, dtype, columns}]` in the model's input order."""
    columns = input_columns(ctx)
    return [
        {"name": tensor_name(t), "shape": list(t.shape), "dtype": str(t.dtype), "columns": columns.get(tensor_name(t))}
        for t in ctx.model.inputs
    ]


def describe_outputs(ctx) -> list[dict]:
    """`[{name, shape, kind, classes, columns}]` in the model's output order."""
    names = list(ctx.model.output_names)
    kinds = predictions.classifier_outputs(ctx.cfg, names)
    targets = predictions.target_columns(ctx.cfg.data.train, names)
    shapes = dict(zip(names, (list(t.shape) for t in ctx.model.outputs)))
    described = []
    for name in names:
        sample = np.zeros((1, *[d or 1 for d in shapes[name][1:]]), dtype=np.float32)
        vocab = ctx.labels.get(name)
        prefix = f"{name}." if len(names) > 1 else ""  # as `kerascli predict` names the columns of several outputs
        headers, _ = predictions.columns(name, sample, vocab, kinds.get(name), prefix, targets.get(name))
        if headers[0] != f"{prefix}label":
            kind, classes = "regression", None
        elif len(headers) == 2:  # label, p_<positive class>
            kind, classes = predictions.BINARY, vocab if vocab and len(vocab) == 2 else ["0", "1"]
        else:
            kind, classes = predictions.CATEGORICAL, [h[len(f"{prefix}p_") :] for h in headers[1:]]
        described.append({"name": name, "shape": shapes[name], "kind": kind, "classes": classes, "columns": headers})
    return described


def signature(ctx) -> dict:
    """The run's signature: inputs, outputs, preprocessing, decoding, versions."""
    from kerascli.engine.keras_import import load_keras

    keras = load_keras()
    outputs = describe_outputs(ctx)
    return {
        "run": str(ctx.run_dir),
        "name": ctx.cfg.name or ctx.run_dir.parent.name,
        "inputs": describe_inputs(ctx),
        "outputs": outputs,
        "preprocessing": PREPROCESSING,
        "decoding": {kind: DECODING[kind] for kind in dict.fromkeys(o["kind"] for o in outputs)},
        "versions": {
            "kerascli": __version__,
            "keras": keras.__version__,
            "backend": keras.backend.backend(),
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
    }
