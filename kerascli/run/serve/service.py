"""A run loaded for serving: its signature, a predict function for one batch, the decoder.

The decoding is `kerascli predict`'s own (`kerascli.data.predictions.table`):
a classifier's label (decoded to the training strings) and one probability per
class, other outputs one value per unit, `<output>.`-prefixed when there are
several; a served row holds the same keys as a row of `predictions.csv`.
"""

from __future__ import annotations

import numpy as np

from kerascli.data import predictions
from kerascli.run.export.signature import signature
from kerascli.run.export.verify import outputs_by_name


class Service:
    """The model of a run and what serving it needs.

    Args:
        ctx: the opened run (`kerascli.run.rundir.RunContext`).
    """

    def __init__(self, ctx):
        self.model = ctx.model
        self.signature = signature(ctx)
        self.name = self.signature["name"]
        self.inputs = self.signature["inputs"]
        self.labels = ctx.labels
        names = [output["name"] for output in self.signature["outputs"]]
        self.kinds = predictions.classifier_outputs(ctx.cfg, names)
        self.target_names = predictions.target_columns(ctx.cfg.data.train, names)  # headers, as `predict` names them

    def predict(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The model on one batch (`predict_on_batch`: jitted once per batch size, no per-call setup)."""
        feed = arrays if len(arrays) > 1 else next(iter(arrays.values()))
        return outputs_by_name(self.model, self.model.predict_on_batch(feed))

    def decode(self, outputs: dict[str, np.ndarray]) -> list[dict]:
        """Predictions as rows: the columns `kerascli predict` writes, by name."""
        headers, columns = predictions.table(outputs, self.labels, self.kinds, self.target_names)
        return [dict(zip(headers, values)) for values in zip(*(column.tolist() for column in columns))]

    def example(self) -> dict[str, np.ndarray]:
        """One row of zeros per input (for warm-up)."""
        return {spec["name"]: np.zeros((1, *spec["shape"][1:]), dtype=spec["dtype"]) for spec in self.inputs}

    def description(self) -> str:
        """The OpenAPI description: what a row holds and what comes back."""
        lines = [f"Predictions of the kerascli run `{self.signature['run']}`.", "", "A row holds:"]
        for spec in self.inputs:
            what = (
                ", ".join(spec["columns"])
                if spec["columns"]
                else f"`{spec['name']}`: an array of shape {spec['shape'][1:]}"
            )
            lines.append(f"- input `{spec['name']}` ({spec['dtype']}): {what}")
        lines += ["", "A prediction holds:"]
        for output in self.signature["outputs"]:
            classes = f", classes {', '.join(output['classes'])}" if output["classes"] else ""
            lines.append(f"- output `{output['name']}` ({output['kind']}{classes}): {', '.join(output['columns'])}")
        return "\n".join(lines)
