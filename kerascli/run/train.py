"""train / evaluate / predict: data, model, fit and the run directory.

This module imports Keras only inside the functions that need it, after the
backend is chosen, so `validate` and the CLI's start-up stay fast.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from kerascli import __version__
from kerascli.config import checks, spec
from kerascli.config import document as config
from kerascli.engine import backend, distribution, speed
from kerascli.errors import ConfigError, KerasCliError, UsageError
from kerascli.run.rundir import latest_run, new_run_dir, write_json, write_text


def validate(path: str | os.PathLike, overrides: list[str] = ()) -> tuple[config.Document, spec.Config]:
    """Parses and checks a config without importing Keras.

    Returns:
        `(document, config)`.

    Raises:
        ConfigError: every problem found, each with its line and column.
    """
    doc = config.load(path, overrides)
    warnings: list = []
    problems = checks.check(doc, warnings=warnings)
    try:
        cfg = spec.from_document(doc)
    except ConfigError as exc:
        raise ConfigError(_dedupe(exc.problems + problems)) from None
    if problems:
        raise ConfigError(_dedupe(problems))
    for warning in warnings:
        sys.stderr.write(dataclasses.replace(warning, message=f"warning: {warning.message}").render() + "\n")
    return doc, cfg


def _dedupe(problems):
    seen, out = set(), []
    for p in problems:
        if (p.line, p.col, p.path, p.message) not in seen:
            seen.add((p.line, p.col, p.path, p.message))
            out.append(p)
    return out


@dataclasses.dataclass
class TrainResult:
    """What `train` produced."""

    run_dir: Path
    history: dict[str, list[float]]
    metrics: dict[str, float]
    timings: dict[str, float]
    profile: dict = dataclasses.field(default_factory=dict)


class Timer:
    """Collects wall-clock seconds per phase, for `run.json`."""

    def __init__(self):
        self.timings: dict[str, float] = {}
        self._start = time.perf_counter()

    def phase(self, name: str):
        timer = self

        class _Phase:
            def __enter__(self):
                self.t = time.perf_counter()

            def __exit__(self, *exc):
                timer.timings[name] = round(timer.timings.get(name, 0.0) + time.perf_counter() - self.t, 4)

        return _Phase()

    def total(self) -> float:
        return round(time.perf_counter() - self._start, 4)


def _import_keras(cfg: spec.Config, backend_cli: str | None):
    name = backend.resolve(backend_cli, cfg.backend)
    backend.activate(name)
    speed.add_xla_flags(name)
    return speed.import_keras()  # deliberately late: the backend is set above


def _resolved_config(doc: config.Document, cfg: spec.Config, seed: int) -> dict:
    """The config with defaults filled, the seed fixed and data paths absolute."""
    data = cfg.model_dump(mode="json", exclude_none=True, warnings=False)
    data["name"] = cfg.name or doc.path.stem
    data["seed"] = seed
    for role, source in (data.get("data") or {}).items():
        if not isinstance(source, dict):
            continue
        if "path" in source:
            source["path"] = str((doc.base_dir / source["path"]).resolve())
        for axis in ("x", "y"):
            value = source.get(axis)
            if isinstance(value, str) and ("path" not in source or value.lower().endswith((".npy", ".npz", ".csv", ".parquet"))):
                source[axis] = str((doc.base_dir / value).resolve())
    return data


def _versions(keras) -> dict[str, str]:
    import numpy as np

    return {
        "kerascli": __version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def load_training_data(doc, cfg: spec.Config, seed: int, labels):
    """Training and validation `Arrays` as the config describes them."""
    from kerascli import data

    if cfg.data.train is None:
        raise ConfigError([doc.problem(("data",), "missing required key 'train': the training data source")])
    input_names = list(cfg.model.inputs) if cfg.model.inputs else None
    outputs = cfg.model.output_names()
    train = data.load(cfg.data.train, doc, ("data", "train"), input_names=input_names,
                      output_names=outputs, labels=labels, fit_labels=True)
    validation = None
    if isinstance(cfg.data.validation, spec.Split):
        train, validation = data.split(train, cfg.data.validation.split, seed, doc, ("data", "validation", "split"))
    elif cfg.data.validation is not None:
        validation = data.load(cfg.data.validation.like(cfg.data.train), doc, ("data", "validation"), input_names=input_names,
                               output_names=outputs, labels=labels)
    return train, validation


def train(path, overrides=(), backend_cli=None, output_dir=None, console=None, quiet=False, cluster=None,
          resume=None) -> TrainResult:
    """Validates, builds, compiles and fits the model of config `path` (see `_train`).

    The Keras distribution a config sets lasts for this call only.
    """
    try:
        return _train(path, overrides, backend_cli, output_dir, console, quiet, cluster, resume)
    finally:
        distribution.release()


def _train(path, overrides, backend_cli, output_dir, console, quiet, cluster, resume) -> TrainResult:
    """Validates, builds, compiles and fits the model of config `path`.

    Everything that can be checked is checked before the run directory is
    created: an invalid config or data leaves nothing behind. Ctrl-C stops
    after the current batch with a checkpoint of the last completed epoch
    (see `kerascli.run.interrupt`).

    Args:
        cluster: a `distribution.Cluster` when this is one process of a
            multi-process run; only process 0 writes the run directory (the
            others return a `TrainResult` whose `run_dir` is None).
        resume: a run directory to continue (its `config.yaml` replaces `path`).

    Returns:
        The `TrainResult`.
    """
    if resume is not None:
        path = _resume_config(resume)
    timer = Timer()
    with timer.phase("validate"):
        doc, cfg = validate(path, overrides)
        plan = distribution.Plan(doc, cfg, cluster, backend.resolve(backend_cli, cfg.backend))
    with timer.phase("import"):
        keras = _import_keras(cfg, backend_cli)
        plan.initialize(keras)
        settings = {"compilation_cache": speed.enable_compilation_cache(keras.backend.backend()),
                    "fast_pool": speed.fast_pool(cfg.compile.fast_pool),
                    "xla_flags": os.environ.get("XLA_FLAGS", "")}
    from kerascli import data
    from kerascli.model import objects as build
    from kerascli.run.profiling import EpochTimer, fit_summary
    from kerascli.run.progress import RichProgress

    seed = cfg.seed if cfg.seed is not None else random.SystemRandom().randrange(2**31)
    keras.utils.set_random_seed(seed)
    labels = data.Labels()
    with timer.phase("load_data"):
        train_data, validation = load_training_data(doc, cfg, seed, labels)
        plan.apply(keras, cfg.fit.batch_size, cfg.fit.validation_batch_size)  # before the model is built
        train_data, validation = plan.shard(train_data, "train"), plan.shard(validation, "validation")
    with timer.phase("build"):
        shapes, dtypes = _input_signature(train_data)
        model = build.build_model(cfg.model, doc, shapes, dtypes, blocks=cfg.blocks)
        plan.check_layout(model)
        _check_inputs(model, train_data, doc)
        build.check_callback_packages(cfg, doc)
        _check_targets(model, cfg, doc, train_data)
        from kerascli.data import predictions

        kinds = predictions.classifier_outputs(cfg, cfg.model.output_names())
        data.check_classes(model, train_data, kinds, doc, ("data", "train"))
        if validation is not None:
            split = isinstance(cfg.data.validation, spec.Split)
            data.check_classes(model, validation, kinds, doc, ("data", "train" if split else "validation"))
        compile_args = build.compile_arguments(cfg, model, doc)
        steps = speed.steps_per_epoch(len(train_data), plan.local_batch(cfg.fit.batch_size), cfg.fit.steps_per_epoch)
        compile_args["steps_per_execution"] = settings["steps_per_execution"] = speed.steps_per_execution(
            cfg.compile.steps_per_execution, keras.backend.backend(), steps,
            [getattr(keras.callbacks, c.type, None) for c in cfg.fit.callbacks])
        try:
            model.compile(**compile_args)
        except Exception as exc:  # noqa: BLE001 - Keras' compile raises several types
            raise ConfigError([doc.problem(("compile",), f"Keras rejected the compile arguments: {build.clean(exc)}")]) from None
        class_weight = _class_weight(cfg.fit.class_weight, labels, doc)
    resolved = _resolved_config(doc, cfg, seed)
    base = Path(output_dir) if output_dir else Path(cfg.output.dir)
    # Processes other than 0 write into a scratch directory that is removed at the end: every
    # process must still run the same steps (saving a distributed model runs collectives).
    if not plan.writer:
        run_dir = Path(tempfile.mkdtemp(prefix="kerascli-process-"))
    else:
        run_dir = Path(resume) if resume is not None else new_run_dir(base, resolved["name"])
    config_text = yaml.safe_dump(resolved, sort_keys=False)
    write_text(run_dir / "config.yaml", config_text)
    if labels:
        write_json(run_dir / "labels.json", dict(labels))
    run_info = {
        "status": "running",
        "versions": _versions(keras),
        "seed": seed,
        "config_file": str(doc.path),
        "config_sha256": hashlib.sha256(config_text.encode()).hexdigest(),
        "command": sys.argv,
    }
    if plan.active:
        run_info["distribution"] = plan.describe()
    from kerascli.run import interrupt

    guard = interrupt.SignalGuard()
    checkpointer = interrupt.Checkpointer(run_dir, guard)
    checkpointer.set_model(model)
    epochs_done = checkpointer.restore(resume) if resume is not None else 0
    if resume is not None:
        run_info["resumed_from_epoch"] = epochs_done
    write_json(run_dir / "run.json", run_info)
    callbacks = build.make_callbacks(cfg, doc, run_dir) + [checkpointer]
    epoch_timer = EpochTimer()
    callbacks.append(epoch_timer)
    if not quiet:
        callbacks.append(RichProgress(console))
    fit = cfg.fit
    # In memory when the data fits data.memory_budget, else streamed from its memory map.
    train_feed, val_feed = data.fit_feeds(train_data, validation, batch_size=plan.local_batch(fit.batch_size),
                                          validation_batch_size=plan.local_batch(fit.validation_batch_size),
                                          shuffle=fit.shuffle, seed=seed, budget=cfg.data.memory_budget)
    try:
        with timer.phase("fit"), guard:
            history = model.fit(
                train_feed.x, train_feed.y,
                epochs=fit.epochs, batch_size=train_feed.batch_size, shuffle=train_feed.shuffle,
                class_weight=class_weight, callbacks=callbacks,
                initial_epoch=max(fit.initial_epoch, epochs_done), steps_per_epoch=fit.steps_per_epoch,
                validation_data=val_feed.validation_data if val_feed else None,
                validation_steps=fit.validation_steps, validation_batch_size=plan.local_batch(fit.validation_batch_size),
                validation_freq=fit.validation_freq, verbose=0,
            )
        interrupt.check_outcome(guard, checkpointer, run_dir)
        # The whole run's epochs, those before a --resume included.
        history.history, history.epoch = checkpointer.history, list(range(checkpointer.epochs_done))
        with timer.phase("evaluate"):
            if validation is None:
                metrics = {k: v[-1] for k, v in history.history.items() if v}
            else:
                metrics = _last_validation(history, fit, cfg)
            if metrics is None:
                # The validation batch size reuses the test step fit already compiled.
                metrics = model.evaluate(val_feed.x, val_feed.y, batch_size=val_feed.batch_size, return_dict=True, verbose=0)
        with timer.phase("save"):
            from kerascli.run.rundir import atomic_path

            with atomic_path(run_dir / "model.keras") as tmp:
                model.save(tmp)
            write_json(run_dir / "history.json", history.history)
            write_json(run_dir / "metrics.json", {"validation" if validation is not None else "train": metrics})
    except BaseException as exc:
        interrupted = isinstance(exc, (KeyboardInterrupt, interrupt.Interrupted))
        run_info.update(status="interrupted" if interrupted else "failed", epochs=checkpointer.epochs_done,
                        error=build.clean(exc), timings={**timer.timings, "total": timer.total()})
        interrupt.write_quietly(run_dir / "run.json", run_info)
        if isinstance(exc, (KeyboardInterrupt, KerasCliError)):
            raise
        raise KerasCliError(f"training failed: {build.clean(exc)} (run directory: {run_dir})") from exc
    finally:
        if not plan.writer:
            shutil.rmtree(run_dir, ignore_errors=True)
    profile = {"epoch_seconds": epoch_timer.seconds, "settings": settings,
               **fit_summary(epoch_timer.seconds, len(train_data), fit.steps_per_epoch, plan.local_batch(fit.batch_size))}
    run_info.update(status="completed", epochs=checkpointer.epochs_done, timings={**timer.timings, "total": timer.total()},
                    profile=profile)
    if not plan.writer:
        return TrainResult(None, history.history, metrics, run_info["timings"], profile)
    write_json(run_dir / "run.json", run_info)
    checkpointer.discard()
    return TrainResult(run_dir, history.history, metrics, run_info["timings"], profile)


def _last_validation(history, fit, cfg) -> dict | None:
    """The last epoch's validation metrics, when they are what a final `evaluate` would give.

    They are when validation ran after the last epoch and no callback
    restored other weights at the end of training; then a second pass over
    the validation data is saved.
    """
    if not history.epoch or (history.epoch[-1] + 1) % fit.validation_freq or fit.validation_steps:
        return None
    if any(c.kwargs.get("restore_best_weights") for c in cfg.fit.callbacks):
        return None
    values = {k[len("val_"):]: v[-1] for k, v in history.history.items() if k.startswith("val_") and v}
    return values or None


def _resume_config(run_dir) -> Path:
    """The config of a run to resume (`RUN_DIR/config.yaml`)."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file() or not (run_dir / "run.json").is_file():
        raise UsageError(f"cannot resume {run_dir}: not a run directory (it has no config.yaml and run.json)")
    status = json.loads((run_dir / "run.json").read_text(encoding="utf-8")).get("status")
    if status == "completed":
        raise UsageError(f"cannot resume {run_dir}: the run has completed; train a new run instead")
    return run_dir / "config.yaml"


def _class_weight(class_weight, labels, doc):
    """`class_weight` with string labels mapped to their encoded integers."""
    if not class_weight:
        return None
    vocab = next(iter(labels.values()), None) if labels else None
    out, problems = {}, []
    for key, weight in class_weight.items():
        if isinstance(key, str) and not key.isdigit():
            if not vocab or key not in vocab:
                known = f"; the labels are: {', '.join(vocab)}" if vocab else "; the targets are not string labels"
                problems.append(doc.problem(("fit", "class_weight", key), f"'{key}' is not a class label of the training data{known}"))
                continue
            out[vocab.index(key)] = weight
        else:
            out[int(key)] = weight
    if problems:
        raise ConfigError(problems)
    return out


def _check_inputs(model, arrays, doc) -> None:
    """Checks the data's sample shapes against the model inputs (given in the config)."""
    from kerascli.data import check_inputs

    check_inputs(model, arrays.x, doc, ("data", "train", "x"), ("model", "inputs") if doc.data.get("model", {}).get("inputs") else None)


def _check_targets(model, cfg, doc, arrays) -> None:
    """Targets that cannot match their output are an error, not a silent broadcast."""
    from kerascli.model.targets import check_targets

    outputs = model.output if isinstance(model.output, dict) else {cfg.model.output_names()[0]: model.output}
    check_targets(doc, cfg.compile.loss, {k: tuple(t.shape[1:]) for k, t in outputs.items()}, arrays.y)


def _input_signature(arrays) -> tuple[dict[str, tuple], dict[str, str]]:
    """Per-input sample shapes and dtypes of the data (floats train as float32)."""
    import numpy as np

    shapes = {k: v.shape[1:] for k, v in arrays.x.items()}
    dtypes = {k: ("float32" if np.issubdtype(v.dtype, np.floating) else str(v.dtype)) for k, v in arrays.x.items()}
    return shapes, dtypes


def summary(path, overrides=(), backend_cli=None) -> dict[str, Any]:
    """Builds the model of config `path` without training; returns its layers and parameter counts.

    Input shapes come from `model.inputs`, or else from the training data.
    """
    doc, cfg = validate(path, overrides)
    _import_keras(cfg, backend_cli)
    from kerascli import data
    from kerascli.config import blocks
    from kerascli.model import objects as build
    from kerascli.model.summary import describe

    shapes = dtypes = None
    if cfg.model.inputs is None:
        train_data, _ = load_training_data(doc, cfg, cfg.seed or 0, data.Labels())
        shapes, dtypes = _input_signature(train_data)
    model = build.build_model(cfg.model, doc, shapes, dtypes, blocks=cfg.blocks)
    block_of = blocks.instance_blocks(cfg.model.layers, cfg.model.node_names(), set(cfg.blocks))
    return describe(model, block_of)


# -- evaluate / predict ----------------------------------------------------

@dataclasses.dataclass
class RunContext:
    """A trained run, ready to evaluate or predict."""

    run_dir: Path
    doc: config.Document
    cfg: spec.Config
    model: Any
    labels: dict[str, list[str]]
    seed: int


def find_run(target: str | None, overrides=()) -> tuple[Path, config.Document, spec.Config]:
    """Resolves `RUN_OR_CONFIG`: a run directory, a config file, or the latest run."""
    if target is None:
        run_dir = latest_run("runs")
        if run_dir is None:
            raise UsageError("no run found under ./runs; train one first (kerascli train CONFIG) or pass a run directory")
        target_path = run_dir
    else:
        target_path = Path(target)
        if not target_path.exists():
            raise UsageError(f"no such run directory or config file: {target}")
    if target_path.is_dir():
        if not (target_path / "model.keras").is_file():
            latest = latest_run(target_path) or latest_run(target_path.parent, target_path.name)
            if latest is None:
                raise UsageError(f"{target_path} is not a finished run (it has no model.keras)")
            target_path = latest
        doc, cfg = validate(target_path / "config.yaml", overrides)
        return target_path, doc, cfg
    doc, cfg = validate(target_path, overrides)
    name = cfg.name or doc.path.stem
    run_dir = latest_run(cfg.output.dir, name)
    if run_dir is None:
        raise UsageError(f"no finished run of '{name}' under {cfg.output.dir}/; train it first: kerascli train {target}")
    return run_dir, doc, cfg


def open_run(target: str | None, overrides=(), backend_cli=None) -> RunContext:
    """Loads a run's model (safe mode) and vocabularies."""
    run_dir, doc, cfg = find_run(target, overrides)
    keras = _import_keras(cfg, backend_cli)
    # Loading builds the layers (running their initializers) before the saved
    # weights replace them: the cache spares those compiles on every load.
    speed.enable_compilation_cache(keras.backend.backend())
    speed.fast_pool(cfg.compile.fast_pool)
    try:
        model = keras.saving.load_model(run_dir / "model.keras", safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - a corrupt file raises many types
        raise KerasCliError(f"cannot load {run_dir / 'model.keras'}: {exc}") from None
    labels_file = run_dir / "labels.json"
    labels = json.loads(labels_file.read_text()) if labels_file.is_file() else {}
    seed = cfg.seed
    if seed is None:
        run_json = run_dir / "run.json"
        seed = json.loads(run_json.read_text()).get("seed", 0) if run_json.is_file() else 0
    return RunContext(run_dir, doc, cfg, model, labels, seed)


def _input_names(ctx: RunContext) -> list[str]:
    return [t.name.split(":")[0] for t in ctx.model.inputs]


def _output_names(ctx: RunContext) -> list[str]:
    return ctx.cfg.model.output_names()


def evaluate(target=None, overrides=(), backend_cli=None, batch_size=None) -> tuple[Path, dict[str, float]]:
    """Loss and metrics of a run on its test data (default: its validation data).

    Returns:
        `(run_dir, metrics)`; the metrics are also written to the run's
        `metrics.json` under `test`.
    """
    ctx = open_run(target, overrides, backend_cli)
    from kerascli import data

    cfg, doc = ctx.cfg, ctx.doc
    labels = data.Labels(ctx.labels)
    input_names = _input_names(ctx)
    outputs = _output_names(ctx)
    if cfg.data.test is not None:
        arrays = data.load(cfg.data.test.like(cfg.data.train), doc, ("data", "test"), input_names=input_names, output_names=outputs, labels=labels)
        source = "test"
    elif isinstance(cfg.data.validation, spec.Split):
        _, arrays = load_training_data(doc, cfg, ctx.seed, labels)
        source = "validation"
    elif cfg.data.validation is not None:
        arrays = data.load(cfg.data.validation.like(cfg.data.train), doc, ("data", "validation"), input_names=input_names, output_names=outputs, labels=labels)
        source = "validation"
    else:
        raise ConfigError([doc.problem(("data",), "nothing to evaluate on: the config has neither data.test nor data.validation")])
    data.check_inputs(ctx.model, arrays.x, doc, ("data", source, "x"))
    test_feed = data.feed(arrays, batch_size=batch_size or cfg.evaluate.batch_size, budget=cfg.data.memory_budget)
    try:
        metrics = ctx.model.evaluate(test_feed.x, test_feed.y, batch_size=test_feed.batch_size, return_dict=True, verbose=0)
    except Exception as exc:  # noqa: BLE001
        from kerascli.model.objects import clean

        raise KerasCliError(f"evaluation failed: {clean(exc)}") from None
    metrics = {k: float(v) for k, v in metrics.items()}
    metrics_file = ctx.run_dir / "metrics.json"
    existing = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    existing["test"] = metrics
    existing["test_source"] = source
    write_json(metrics_file, existing)
    return ctx.run_dir, metrics


def predict(target=None, overrides=(), backend_cli=None, batch_size=None, input_path=None, output_path=None) -> tuple[Path, int]:
    """Predictions of a run on `--input` (or `data.predict`), written to a file.

    Returns:
        `(predictions_file, rows)`.
    """
    ctx = open_run(target, overrides, backend_cli)
    from kerascli import data
    from kerascli.data import predictions

    cfg, doc = ctx.cfg, ctx.doc
    if input_path is not None:
        template = cfg.data.predict or cfg.data.train
        if template is not None and template.path is None:
            template = None  # its x/y name files, not columns of the --input file
        source = spec.Source(path=str(Path(input_path).resolve()), x=template.x if template else None,
                             y=template.y if template else None)
    elif cfg.data.predict is not None:
        source = cfg.data.predict
    else:
        raise UsageError("nothing to predict: pass --input PATH or set data.predict in the config")
    source = source.like(cfg.data.train)
    outputs = _output_names(ctx)
    target_file = Path(output_path) if output_path else ctx.run_dir / "predictions.csv"
    try:  # streamed: chunks read, predicted and appended to the file one by one
        rows = data.predict_to_file(ctx.model, source, doc, ("data", "predict"), target=target_file,
                                    batch_size=batch_size or cfg.predict.batch_size, output_names=outputs,
                                    labels=ctx.labels, kinds=predictions.classifier_outputs(cfg, outputs))
    except KerasCliError:
        raise
    except Exception as exc:  # noqa: BLE001
        from kerascli.model.objects import clean

        raise KerasCliError(f"prediction failed: {clean(exc)}") from None
    return target_file, rows
