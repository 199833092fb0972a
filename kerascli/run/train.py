"""`train`: validate, build, compile and fit a config's model; write a new run directory.

Training reads as the steps a user would list, each a function below:

    plan        validate the config, choose the seed and the distribution
    start       import Keras on the chosen backend, with kerascli's levers
    load_data   training and validation arrays (labels and encoded columns)
    build       the Keras model from the spec
    check       inputs, targets and classes against the model, before fitting
    adapt       preprocessing layers without state, on the training rows
    compile     optimizer, loss, metrics, steps per execution
    callbacks   the config's Keras callbacks, their paths in the (planned) run directory
    open_run    the run directory: config.yaml, labels.json, vocabularies.json, run.json
    fit         `model.fit` with the checkpoint, timing and progress callbacks
    save        model.keras, history.json, metrics.json, run.json completed

Everything that can be checked is checked before the run directory is
created: an invalid config or data leaves nothing behind. Ctrl-C stops after
the current batch with a checkpoint of the last completed epoch (see
`kerascli.run.interrupt`): from the moment the run directory is created, a
signal never raises, so `run.json` always ends "interrupted".
"""

from __future__ import annotations

import contextlib
import os
import random
import tempfile
from pathlib import Path
from typing import Callable

from kerascli.atomic import write_json, write_text
from kerascli.config import spec
from kerascli.engine import backend, distribution, speed
from kerascli.engine.initialization import build_optimizer
from kerascli.engine.keras_import import enable_compilation_cache, load_keras
from kerascli.engine.tensorflow_probe import set_random_seed
from kerascli.errors import ConfigError, Problem
from kerascli.run import fitting, inputs, runinfo, signals
from kerascli.run.fitting import fit_and_save
from kerascli.run.monitors import check_monitors
from kerascli.run.rundir import (
    RunLock,
    check_output_dir,
    create_run_dir,
    planned_run_dir,
    removed_on_failure,
    resume_config,
)
from kerascli.run.session import Hooks, Training, TrainResult
from kerascli.run.validating import validate


def train(
    path,
    overrides=(),
    backend_cli=None,
    output_dir=None,
    console=None,
    quiet=False,
    cluster=None,
    resume=None,
    on_warning: Callable[[Problem], None] | None = None,
    hooks: Hooks | None = None,
) -> TrainResult:
    """Validates, builds, compiles and fits the model of config `path`.

    Args:
        path: the config file (ignored with `resume`).
        overrides: `--set KEY=VALUE` strings.
        backend_cli: the `--backend` option.
        output_dir: the base directory for runs (default: `output.dir`).
        console: the rich console the progress display draws on.
        quiet: no progress display.
        cluster: a `distribution.Cluster` when this is one process of a
            multi-process run; only process 0 writes the run directory (the
            others return a `TrainResult` whose `run_dir` is None).
        resume: a run directory to continue (its `config.yaml` replaces `path`).
        on_warning: called with each config warning.
        hooks: what a caller running many trainings adds (see `Hooks`).

    Returns:
        The `TrainResult`. The Keras distribution a config sets lasts for
        this call only.
    """
    with contextlib.ExitStack() as held:
        try:
            if resume is not None:
                path = resume_config(resume)
                held.enter_context(RunLock(resume))  # a run still training refuses a second writer
            t = plan(path, overrides, backend_cli, cluster, on_warning)
            t.hooks = hooks or Hooks()
            if resume is None and t.plan.writer and t.hooks.run_dir is None:
                check_output_dir(_base(t, output_dir), t.cfg.name or t.doc.path.stem)
            start(t)
            load_data(t)
            from kerascli.model.precision import use_policy

            with use_policy(t.cfg.dtype_policy):  # Keras' policy is global: set for this run only
                build(t, on_warning, resume)
                check(t)
                adapt(t, quiet)
                compile_model(t)
                make_callbacks(t, output_dir, resume)
                guard = signals.SignalGuard()  # a caller that handles signals itself (tune) leaves it inactive
                if t.hooks.signals:
                    held.enter_context(guard)  # before the run directory exists: a signal never raises after
                open_run(t, resume, held)
                return fit_and_save(t, console, quiet, resume, guard)
        finally:
            distribution.release()


def plan(path, overrides, backend_cli, cluster, on_warning) -> Training:
    """Validates the config and fixes the seed, the backend and the distribution plan."""
    timer = runinfo.Timer()
    with timer.phase("validate"):
        checked = validate(path, overrides)
        for warning in checked.warnings:
            if on_warning is not None:
                on_warning(warning)
        doc, cfg = checked.doc, checked.cfg
        name = backend.resolve(backend_cli, cfg.backend)
        dist_plan = distribution.Plan(doc, cfg, cluster, name)
    seed = cfg.seed if cfg.seed is not None else random.SystemRandom().randrange(2**31)
    return Training(doc, cfg, dist_plan, seed, timer, name)


def start(t: Training) -> None:
    """Imports Keras on the plan's backend, with kerascli's speed levers, and seeds it."""
    with t.timer.phase("import"):
        t.keras = load_keras(t.backend_name)
        t.plan.initialize(t.keras)
        t.settings = {
            "compilation_cache": enable_compilation_cache(t.keras.backend.backend()),
            "fast_pool": speed.fast_pool(t.cfg.compile.fast_pool),
            "xla_flags": os.environ.get("XLA_FLAGS", ""),
        }
    set_random_seed(t.keras, t.seed)


def load_data(t: Training) -> None:
    """Training and validation arrays, sharded for this process."""
    from kerascli import data
    from kerascli.model.adapt import check_stack

    check_stack(t.cfg, t.doc, t.keras.backend.backend())  # layers this install cannot run: before reading data
    with t.timer.phase("load_data"):
        t.labels, t.vocabularies = data.Labels(), data.Vocabularies()
        t.train_data, t.validation = inputs.load_training_data(t.doc, t.cfg, t.seed, t.labels, t.vocabularies)
        t.plan.apply(t.keras, t.cfg.fit.batch_size, t.cfg.fit.validation_batch_size)  # before the model is built
        t.adapt_rows = t.train_data  # every process adapts on all training rows: their states must agree
        t.train_data, t.validation = t.plan.shard(t.train_data, "train"), t.plan.shard(t.validation, "validation")


def build(t: Training, on_warning=None, resume=None) -> None:
    """The Keras model, its inputs shaped like the training data; `model.weights_from` loaded."""
    from kerascli.model import precision, warm_start
    from kerascli.model.functional import build_model

    with t.timer.phase("build"):
        shapes, dtypes = inputs.input_signature(t.train_data)
        t.model = build_model(t.cfg.model, t.doc, shapes, dtypes, blocks=t.cfg.blocks)
        t.plan.check_layout(t.model)
        for message in precision.output_warnings(t.model, t.cfg.model.output_names()):
            if on_warning is not None:
                on_warning(t.doc.problem(("dtype_policy",), message))
        if t.cfg.model.weights_from is not None and resume is None:  # a resumed run loads its checkpoint
            t.warm_start = warm_start.warm_start(t.model, t.cfg.model.weights_from, t.doc)
            if on_warning is not None:
                on_warning(t.doc.problem(("model", "weights_from"), warm_start.describe(t.warm_start)))


def check(t: Training) -> None:
    """Inputs, callback packages, targets and classes against the model, before anything is written."""
    from kerascli import data
    from kerascli.data import predictions
    from kerascli.model.callbacks import check_callback_packages

    with t.timer.phase("build"):
        inputs.check_inputs(t.model, t.train_data, t.doc)
        if t.cfg.fit.phases:
            from kerascli.run import phases

            phases.check(t.model, t.cfg, t.doc)
        check_callback_packages(t.cfg, t.doc)
        if t.cfg.tracking is not None and t.cfg.tracking.mlflow is not None:
            from kerascli.run.tracking import check_installed

            check_installed(t.cfg.tracking.mlflow, t.doc)
        inputs.check_targets(t.model, t.cfg, t.doc, t.train_data)
        kinds = predictions.classifier_outputs(t.cfg, t.cfg.model.output_names())
        data.check_classes(t.model, t.train_data, kinds, t.doc, ("data", "train"))
        if t.validation is not None:
            split = isinstance(t.cfg.data.validation, spec.Split)
            data.check_classes(t.model, t.validation, kinds, t.doc, ("data", "train" if split else "validation"))


def adapt(t: Training, quiet: bool) -> None:
    """Preprocessing layers given no state, adapted on the training rows only (see `kerascli.model.adapt`).

    In a multi-process run every process adapts on the whole training set,
    not its shard, so that all replicas hold the same state.
    """
    import sys

    from kerascli.model.adapt import adapt_model

    log = None if quiet else lambda line: sys.stderr.write(line + "\n")
    with t.timer.phase("adapt"):
        rows = t.adapt_rows if t.adapt_rows is not None else t.train_data
        t.adapted = adapt_model(t.model, t.cfg, t.doc, rows, batch_size=max(t.cfg.fit.batch_size or 32, 256), log=log)
    t.adapt_rows = None  # the shard is what fit reads


def compile_model(t: Training) -> None:
    """`model.compile` with the config's arguments and kerascli's steps per execution."""
    from kerascli.model.compiling import compile_arguments
    from kerascli.model.objects import clean

    with t.timer.phase("build"):
        compile_args = compile_arguments(t.cfg, t.model, t.doc)
        steps = speed.steps_per_epoch(
            len(t.train_data), t.plan.local_batch(t.cfg.fit.batch_size), t.cfg.fit.steps_per_epoch
        )
        compile_args["steps_per_execution"] = t.settings["steps_per_execution"] = speed.steps_per_execution(
            t.cfg.compile.steps_per_execution,
            t.keras.backend.backend(),
            steps,
            [getattr(t.keras.callbacks, c.type, None) for c in t.cfg.fit.callbacks],
        )
        t.compile_args = compile_args  # phases recompile with their own optimizer
        try:
            t.model.compile(**compile_args)
        except Exception as exc:  # noqa: BLE001 - Keras' compile raises several types
            raise ConfigError(
                [t.doc.problem(("compile",), f"Keras rejected the compile arguments: {clean(exc)}")]
            ) from None
        build_optimizer(t.model)  # its slots in one compiled program, not one per shape in `fit`
        t.class_weight = inputs.class_weight(t.cfg.fit.class_weight, t.labels, t.doc)


def _base(t: Training, output_dir) -> Path:
    return Path(output_dir) if output_dir else Path(t.cfg.output.dir)


def make_callbacks(t: Training, output_dir, resume) -> None:
    """The config's callbacks, built (and so checked by Keras) before the run directory exists.

    Their paths point into the planned run directory, which `open_run`
    creates. Processes other than 0 write into a scratch directory that is
    removed at the end: every process must still run the same steps (saving a
    distributed model runs collectives).
    """
    from kerascli.model.callbacks import make_callbacks as build_callbacks

    if not t.plan.writer:
        t.run_dir = Path(tempfile.mkdtemp(prefix="kerascli-process-"))
    elif resume is not None:
        t.run_dir = Path(resume)
    else:
        t.run_dir = planned_run_dir(_base(t, output_dir), t.cfg.name or t.doc.path.stem, t.hooks.run_dir)
    t.callbacks = build_callbacks(t.cfg, t.doc, t.run_dir)
    fitting.check_epochs(t)
    check_monitors(t)


def open_run(t: Training, resume, held: contextlib.ExitStack) -> None:
    """Creates (or reopens, on resume) the run directory and writes what is known before fitting.

    The new run is locked for this process (held until `train` returns), and
    removed again if its first files cannot be written (a full disk): no
    empty run is left behind.
    """
    new = t.plan.writer and resume is None
    if new:
        create_run_dir(t.run_dir)
        held.enter_context(RunLock(t.run_dir))
    resolved = runinfo.resolved_config(t.doc, t.cfg, t.seed)
    text = runinfo.config_text(resolved)
    with removed_on_failure(t.run_dir) if new else contextlib.nullcontext():
        write_text(t.run_dir / "config.yaml", text)
        if t.labels:
            write_json(t.run_dir / "labels.json", dict(t.labels))
        if t.vocabularies:
            write_json(t.run_dir / "vocabularies.json", t.vocabularies.to_json())
    t.run_info = runinfo.started(t.keras, t.doc, t.seed, text)
    with t.timer.phase("fingerprint"):
        t.run_info.update(runinfo.provenance(t.doc, resolved))
    previous = runinfo.read(t.run_dir) if resume is not None else {}
    # A resumed run keeps where it came from (its config.yaml is what the resume read).
    t.run_info.update({k: previous[k] for k in ("started", "config_files", "source") if k in previous})
    t.run_info["adapted"] = t.adapted
    t.run_info.update(t.hooks.run_info)
    if t.warm_start is not None:
        t.run_info["warm_start"] = t.warm_start
    from kerascli.engine.plugins import LOADED

    if LOADED:  # so that validating the config without --plugin can name the module
        t.run_info["plugins"] = dict(LOADED)
    if t.cfg.dtype_policy is not None:  # Keras' compile() wraps a mixed_float16 model's optimizer
        scaled = isinstance(t.model.optimizer, t.keras.optimizers.LossScaleOptimizer)
        t.run_info["dtype_policy"] = {"name": t.cfg.dtype_policy, "loss_scale": scaled}
    t.run_info["inputs"] = inputs.recorded_columns(t.doc, t.cfg)
    if t.plan.active:
        t.run_info["distribution"] = t.plan.describe()
    start_tracking(t, resolved, previous.get("tracking", {}).get("mlflow"))
    if new:  # a resumed run's run.json is rewritten once its checkpoint is restored (fit_and_save)
        with removed_on_failure(t.run_dir):
            write_json(t.run_dir / "run.json", t.run_info)


def start_tracking(t: Training, resolved: dict, previous: dict | None) -> None:
    """Starts (or, on resume, continues) the MLflow run a `tracking.mlflow` section asks for; a failure only warns."""
    mlflow = t.cfg.tracking.mlflow if t.cfg.tracking is not None else None
    if mlflow is None or not t.plan.writer:
        return
    from kerascli.run.tracking import MlflowTracker

    t.tracker = MlflowTracker(mlflow, resolved["name"])
    record = t.tracker.start(t.run_dir, resolved, t.run_info, previous)
    if record is not None:
        t.run_info["tracking"] = {"mlflow": record}
