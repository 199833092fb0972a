"""`compile()` arguments from the config's `compile:` section, keyed per output where needed."""

from __future__ import annotations

import difflib
from typing import Any

from kerascli.config.document import Document, Key
from kerascli.config.spec import Config
from kerascli.errors import ConfigError
from kerascli.model.objects import resolve_object


def compile_arguments(config: Config, model, doc: Document) -> dict[str, Any]:
    """The keyword arguments of `model.compile()` that `config.compile` describes."""
    spec = config.compile
    out_names = list(model.output_names) if isinstance(model.output, dict) else []
    multi = isinstance(model.output, dict) and len(model.output) > 1
    args: dict[str, Any] = {
        "optimizer": resolve_object("optimizers", spec.optimizer, doc, ("compile", "optimizer")),
        "jit_compile": spec.jit_compile,
        # `auto` is kerascli's: the runner replaces it with a number (kerascli.engine.speed).
        "steps_per_execution": 1 if spec.steps_per_execution == "auto" else spec.steps_per_execution,
    }
    loss = spec.loss
    if isinstance(loss, dict):
        _check_output_keys(loss, out_names, doc, ("compile", "loss"))
        args["loss"] = {k: resolve_object("losses", v, doc, ("compile", "loss", k)) for k, v in loss.items()}
    elif loss is not None:
        value = resolve_object("losses", loss, doc, ("compile", "loss"))
        args["loss"] = {k: value for k in model.output} if multi else value
    metrics = spec.metrics
    if isinstance(metrics, dict):
        _check_output_keys(metrics, out_names, doc, ("compile", "metrics"))
        args["metrics"] = {
            k: [
                resolve_object("metrics", m, doc, ("compile", "metrics", k))
                for m in (v if isinstance(v, list) else [v])
            ]
            for k, v in metrics.items()
        }
    elif metrics is not None:
        if multi:
            # Keras rejects a flat list on a multi-output model ("tuple arity
            # mismatch"); apply it to every output, fresh objects for each.
            args["metrics"] = {
                k: [resolve_object("metrics", m, doc, ("compile", "metrics", i)) for i, m in enumerate(metrics)]
                for k in model.output
            }
        else:
            args["metrics"] = [
                resolve_object("metrics", m, doc, ("compile", "metrics", i)) for i, m in enumerate(metrics)
            ]
    if spec.loss_weights is not None:
        if isinstance(spec.loss_weights, dict):
            _check_output_keys(spec.loss_weights, out_names, doc, ("compile", "loss_weights"))
        args["loss_weights"] = spec.loss_weights
    return args


def _check_output_keys(mapping: dict, out_names: list[str], doc: Document, key: Key) -> None:
    problems = []
    for name in mapping:
        if name not in out_names:
            hint = difflib.get_close_matches(name, out_names, n=1)
            expected = (
                f"outputs are: {', '.join(out_names)}"
                if out_names
                else "the model has a single output; give a single value, not a mapping"
            )
            problems.append(
                doc.problem(
                    key + (name,),
                    f"'{name}' is not a model output; {expected}" + (f" (did you mean '{hint[0]}'?)" if hint else ""),
                )
            )
    if problems:
        raise ConfigError(problems)
