"""`evaluate` and `predict`: a trained run on its test data, or on new data."""

from __future__ import annotations

from pathlib import Path

from kerascli.atomic import write_json
from kerascli.config import spec
from kerascli.config.tables import PREDICTION_SUFFIXES, PREDICTIONS_FILE
from kerascli.data.columns import select_recorded
from kerascli.engine.tensors import tensor_name
from kerascli.errors import ConfigError, KerasCliError, Problem, UsageError
from kerascli.run import signals
from kerascli.run.inputs import load_arguments, load_training_data
from kerascli.run.outputs import check_output
from kerascli.run.run_json import read_run_json
from kerascli.run.rundir import RunContext, open_run


def _input_names(ctx: RunContext) -> list[str]:
    return [tensor_name(t) for t in ctx.model.inputs]


def evaluate(target=None, overrides=(), backend_cli=None, batch_size=None) -> tuple[Path, dict[str, float]]:
    """Loss and metrics of a run on its test data (default: its validation data).

    Returns:
        `(run_dir, metrics)`; the metrics are also written to the run's
        `metrics.json` under `test`.
    """
    ctx = open_run(target, overrides, backend_cli)
    signals.raise_pending()  # a signal swallowed while Keras was imported: stop before the work
    from kerascli import data
    from kerascli.data.streaming import feed

    metrics_file = ctx.run_dir / "metrics.json"
    existing = read_run_json(metrics_file)  # a damaged file is reported before the work, not after

    arrays, source = _evaluation_data(ctx, data.Labels(ctx.labels))
    data.check_inputs(ctx.model, arrays.x, ctx.doc, ("data", source, "x"))
    test_feed = feed(arrays, batch_size=batch_size or ctx.cfg.evaluate.batch_size, budget=ctx.cfg.data.memory_budget)
    try:
        metrics = ctx.model.evaluate(
            test_feed.x, test_feed.y, batch_size=test_feed.batch_size, return_dict=True, verbose=0
        )
    except Exception as exc:  # noqa: BLE001
        from kerascli.model.objects import clean

        raise KerasCliError(f"evaluation failed: {clean(exc)}") from None
    metrics = {k: float(v) for k, v in metrics.items()}
    existing["test"] = metrics
    existing["test_source"] = source
    write_json(metrics_file, existing)
    return ctx.run_dir, metrics


def _evaluation_data(ctx: RunContext, labels):
    """The arrays `evaluate` runs on and where they come from: `test` or `validation`."""
    from kerascli import data
    from kerascli.data.strings import model_string_inputs

    cfg, doc = ctx.cfg, ctx.doc
    names = load_arguments(
        cfg, labels, ctx.vocabularies, input_names=_input_names(ctx), string_inputs=model_string_inputs(ctx.model)
    )
    if cfg.data.test is not None:
        source = select_recorded(cfg.data.test.like(cfg.data.train), ctx.inputs, doc, ("data", "test"))
        return data.load(source, doc, ("data", "test"), **names), "test"
    if isinstance(cfg.data.validation, spec.Split):
        return load_training_data(doc, cfg, ctx.seed, labels, ctx.vocabularies)[1], "validation"
    if cfg.data.validation is not None:
        source = select_recorded(cfg.data.validation.like(cfg.data.train), ctx.inputs, doc, ("data", "validation"))
        return data.load(source, doc, ("data", "validation"), **names), "validation"
    raise ConfigError(
        [doc.problem(("data",), "nothing to evaluate on: the config has neither data.test nor data.validation")]
    )


def predict(
    target=None, overrides=(), backend_cli=None, batch_size=None, input_path=None, output_path=None, force=False
) -> tuple[Path, int]:
    """Predictions of a run on `--input` (or `data.predict`), written to a file.

    Args:
        force: replace an existing `output_path` (never the input itself).

    Returns:
        `(predictions_file, rows)`.
    """
    if output_path is not None:
        check_output(output_path, option="--output", suffixes=PREDICTION_SUFFIXES, force=force, inputs=(input_path,))
    ctx = open_run(target, overrides, backend_cli)
    signals.raise_pending()  # a signal swallowed while Keras was imported: stop before the work
    from kerascli.data import predictions
    from kerascli.data.predicting import predict_to_file

    cfg = ctx.cfg
    doc = ctx.doc if input_path is None else CommandLineInput(ctx.doc, input_path)
    source = _predict_source(cfg, input_path).like(cfg.data.train)
    if source.x == (cfg.data.train.x if cfg.data.train else None):  # the training columns, by name
        source = select_recorded(source, ctx.inputs, doc, ("data", "predict"))
    outputs = cfg.model.output_names()
    target_file = Path(output_path) if output_path else ctx.run_dir / PREDICTIONS_FILE
    if source.path is not None:  # data.predict's own file: never overwritten either
        check_output(
            target_file,
            option="--output",
            suffixes=PREDICTION_SUFFIXES,
            force=True,
            inputs=(ctx.doc.base_dir / source.path,),
        )
    try:  # streamed: chunks read, predicted and appended to the file one by one
        rows = predict_to_file(
            ctx.model,
            source,
            doc,
            ("data", "predict"),
            target=target_file,
            batch_size=batch_size or cfg.predict.batch_size,
            output_names=outputs,
            labels=ctx.labels,
            kinds=predictions.classifier_outputs(cfg, outputs),
            encodings=cfg.data.encoded(),
            vocabularies=ctx.vocabularies,
            target_names=predictions.target_columns(cfg.data.train, outputs),
        )
    except KerasCliError:
        raise
    except Exception as exc:  # noqa: BLE001
        from kerascli.model.objects import clean

        raise KerasCliError(f"prediction failed: {clean(exc)}") from None
    return target_file, rows


class CommandLineInput:
    """The run's config document, except that problems point at the `--input` file.

    A column missing from `predict --input new.csv` is about `new.csv`, not
    about the line of the run's `config.yaml` that named the training file.

    Args:
        doc: the run's config document (paths are still relative to it).
        path: the `--input` file, as the user typed it.
    """

    def __init__(self, doc, path):
        self._doc = doc
        self.path = str(path)

    def problem(self, key, message: str) -> Problem:
        """A problem at `--input`; a message that starts by naming the same file does not name it twice."""
        for named in (self.path, Path(self.path).name):
            if message.startswith(f"{named}: "):
                message = message[len(named) + 2 :]
                break
        return Problem(self.path, 0, 0, "--input", message)

    def __getattr__(self, name):
        return getattr(self._doc, name)


def _predict_source(cfg: spec.Config, input_path) -> spec.Source:
    """`--input` (with the columns the config's predict or train source names), else `data.predict`."""
    if input_path is not None:
        template = cfg.data.predict or cfg.data.train
        if template is not None and template.path is None:
            template = None  # its x/y name files, not columns of the --input file
        return spec.Source(
            path=str(Path(input_path).resolve()),
            x=template.x if template else None,
            y=template.y if template else None,
            keep=cfg.data.predict.keep if cfg.data.predict is not None else None,
        )
    if cfg.data.predict is not None:
        return cfg.data.predict
    raise UsageError("nothing to predict: pass --input PATH or set data.predict in the config")
