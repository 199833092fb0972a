"""String class labels ↔ integers, with a vocabulary fitted on the training data.

The vocabulary (sorted labels) is saved with the run as `labels.json`, so
evaluate and predict encode and decode with the training's own mapping.
"""

from __future__ import annotations

import numpy as np

from kerascli.config.document import Document, Key
from kerascli.data.arrays import Labels
from kerascli.data.selection import listing
from kerascli.errors import DataError, excerpt


def encode(values, name: str, labels: Labels, fit: bool, doc: Document, key: Key):
    """Encodes string class labels of output `name` to int32 with its vocabulary.

    Numeric targets pass through unchanged (memory maps stay mapped).

    Raises:
        DataError: a label the vocabulary does not know.
    """
    is_text = values.dtype.kind in "USO"
    if not is_text and name not in labels:
        return values
    values = np.asarray(values).astype(str)
    if fit and name not in labels:
        labels[name] = sorted(set(values.tolist()))
    vocab = labels.get(name)
    if vocab is None:
        raise DataError(doc.problem(key, f"targets of '{name}' are strings but the run has no vocabulary for them"))
    index = {label: i for i, label in enumerate(vocab)}
    unknown = sorted(set(values.tolist()) - set(index))
    if unknown:
        raise DataError(
            doc.problem(
                key,
                f"label(s) {', '.join(map(excerpt, unknown[:5]))} of '{name}' were not seen in training; "
                f"known: {listing([str(v) for v in vocab])}",
            )
        )
    return np.array([index[v] for v in values.tolist()], dtype=np.int32)
