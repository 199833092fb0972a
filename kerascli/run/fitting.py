"""The `fit` and `save` phases of `train`: callbacks, `model.fit`, the final metrics, the artifacts."""

from __future__ import annotations

from kerascli.atomic import atomic_path, write_json
from kerascli.engine import speed
from kerascli.engine.tensorflow_probe import save_model
from kerascli.errors import ConfigError, KerasCliError
from kerascli.run import interrupt
from kerascli.run.profiling import EpochTimer, fit_summary
from kerascli.run.progress import RichProgress
from kerascli.run.session import Training, TrainResult, discard_scratch
from kerascli.run.signals import Interrupted, SignalGuard


def fit_and_save(t: Training, console, quiet: bool, resume, guard: SignalGuard) -> TrainResult:
    """Fits the compiled model of `t` into its run directory and saves the results.

    A signal, a diverged loss or a Keras error marks `run.json` as
    interrupted or failed (with the epochs done) before it is raised. `guard`
    is active from before the run directory exists: a signal never raises in
    here, it stops `fit` after the current batch (or before it starts).
    """
    checkpointer = interrupt.Checkpointer(t.run_dir, guard, save_epochs=t.hooks.checkpoints)
    checkpointer.set_model(t.model)
    runner = None
    if t.cfg.fit.phases:
        from kerascli.run.phases import PhaseRunner

        runner = PhaseRunner(t, checkpointer)
        runner.resume_at(interrupt.read_state(resume) if resume is not None else None)
    epochs_done = checkpointer.restore(resume) if resume is not None else 0
    if resume is not None:
        t.run_info["resumed_from_epoch"] = epochs_done
    guard.on_exit = lambda: _record_failure(t, Interrupted("stopped at once by a second signal"), checkpointer)
    epoch_timer = EpochTimer()
    callbacks = [*t.callbacks, checkpointer, epoch_timer, *t.hooks.callbacks]
    if t.tracker is not None:  # after the checkpointer, which decides whether an epoch completed
        t.tracker.completed_epochs = lambda: checkpointer.epochs_done
        callbacks.append(t.tracker)
    progress = None if quiet else RichProgress(console)
    if progress is not None:
        callbacks.append(progress)
    try:
        if resume is not None:
            write_json(t.run_dir / "run.json", t.run_info)
        history = None
        if not guard.stopped:
            with t.timer.phase("fit"):
                if runner is not None:
                    history = runner.fit(lambda start, end, cbs: _fit(t, cbs, start, end), callbacks, guard, progress)
                else:
                    history = _fit(t, callbacks, max(t.cfg.fit.initial_epoch, epochs_done))
        interrupt.check_outcome(guard, checkpointer, t.run_dir)
        # The whole run's epochs, those before a --resume included.
        history.history, history.epoch = checkpointer.history, list(range(checkpointer.epochs_done))
        with t.timer.phase("evaluate"):
            metrics = final_metrics(t, history)
        with t.timer.phase("save"):
            _save(t, history, metrics)
    except BaseException as exc:
        _record_failure(t, exc, checkpointer)
        if t.tracker is not None:
            t.tracker.finish(t.run_dir, t.run_info["status"])
        if isinstance(exc, (KeyboardInterrupt, KerasCliError)):
            raise
        from kerascli.model.objects import clean

        raise KerasCliError(f"training failed: {clean(exc)} (run directory: {t.run_dir})") from exc
    finally:
        guard.on_exit = None
        discard_scratch(t)
    return _completed(t, history, metrics, checkpointer, epoch_timer)


def check_epochs(t: Training) -> None:
    """`fit.initial_epoch` must leave epochs to train, `steps_per_epoch` must fit the data.

    Keras trains nothing when `initial_epoch >= epochs` and stops at the end of
    the data when `steps_per_epoch` asks for more batches than it holds (the
    run then ends "completed" with an empty history).

    Raises:
        ConfigError: at the key that makes the run train nothing.
    """
    fit = t.cfg.fit
    problems = []
    if fit.initial_epoch >= fit.epochs:
        problems.append(
            t.doc.problem(
                ("fit", "initial_epoch"),
                f"initial_epoch {fit.initial_epoch} leaves no epoch to train: expected less than epochs ({fit.epochs})",
            )
        )
    if fit.steps_per_epoch:
        batches = -(-len(t.train_data) // t.plan.local_batch(fit.batch_size))
        if fit.steps_per_epoch > batches:
            problems.append(
                t.doc.problem(
                    ("fit", "steps_per_epoch"),
                    f"steps_per_epoch {fit.steps_per_epoch} is more than the {batches} batch(es) of "
                    f"{fit.batch_size} rows that the {len(t.train_data)} training rows make: "
                    f"expected at most {batches}",
                )
            )
    if fit.validation_steps and t.validation is not None:
        size = fit.validation_batch_size or fit.batch_size
        batches = -(-len(t.validation) // t.plan.local_batch(size))
        if fit.validation_steps > batches:
            problems.append(
                t.doc.problem(
                    ("fit", "validation_steps"),
                    f"validation_steps {fit.validation_steps} is more than the {batches} batch(es) of "
                    f"{size} rows that the {len(t.validation)} validation rows make: expected at most {batches}",
                )
            )
    if problems:
        raise ConfigError(problems)


def _fit(t: Training, callbacks: list, initial_epoch: int, epochs: int | None = None):
    """`model.fit` on the in-memory arrays or the streamed dataset (see `data.streaming.fit_feeds`)."""
    from kerascli.data.streaming import fit_feeds

    fit, local = t.cfg.fit, t.plan.local_batch
    train_feed, val_feed = fit_feeds(
        t.train_data,
        t.validation,
        batch_size=local(fit.batch_size),
        validation_batch_size=local(fit.validation_batch_size),
        shuffle=fit.shuffle,
        seed=t.seed,
        budget=t.cfg.data.memory_budget,
    )
    t.val_feed = val_feed
    t.settings["fused_steps"] = speed.fused_steps(t.model)  # after compile: a phase recompiles
    return t.model.fit(
        train_feed.x,
        train_feed.y,
        epochs=fit.epochs if epochs is None else epochs,
        batch_size=train_feed.batch_size,
        shuffle=train_feed.shuffle,
        class_weight=t.class_weight,
        callbacks=callbacks,
        initial_epoch=initial_epoch,
        steps_per_epoch=fit.steps_per_epoch,
        validation_data=val_feed.validation_data if val_feed else None,
        validation_steps=fit.validation_steps,
        validation_batch_size=local(fit.validation_batch_size),
        validation_freq=fit.validation_freq,
        verbose=0,
    )


def final_metrics(t: Training, history) -> dict:
    """The metrics `metrics.json` records: the last epoch's validation figures, or a final evaluate."""
    if t.validation is None:
        return {k: v[-1] for k, v in history.history.items() if v and k != "phase"}
    metrics = last_validation(history, t.cfg)
    if metrics is None:
        val_feed = t.val_feed
        # The validation batch size reuses the test step fit already compiled.
        metrics = t.model.evaluate(val_feed.x, val_feed.y, batch_size=val_feed.batch_size, return_dict=True, verbose=0)
    return metrics


def last_validation(history, cfg) -> dict | None:
    """The last epoch's validation metrics, when they are what a final `evaluate` would give.

    They are when validation ran after the last epoch and no callback
    restored other weights at the end of training; then a second pass over
    the validation data is saved.
    """
    fit = cfg.fit
    if not history.epoch or (history.epoch[-1] + 1) % fit.validation_freq or fit.validation_steps:
        return None
    if any(c.kwargs.get("restore_best_weights") for c in cfg.fit.callbacks):
        return None
    values = {k[len("val_") :]: v[-1] for k, v in history.history.items() if k.startswith("val_") and v}
    return values or None


def _save(t: Training, history, metrics: dict) -> None:
    with atomic_path(t.run_dir / "model.keras") as tmp:
        save_model(t.keras, t.model, tmp)
    write_json(t.run_dir / "history.json", history.history)
    write_json(t.run_dir / "metrics.json", {"validation" if t.validation is not None else "train": metrics})


def _record_failure(t: Training, exc: BaseException, checkpointer) -> None:
    from kerascli.model.objects import clean

    try:  # the last completed epoch kept in memory: a failed or stopped run can be resumed from it
        checkpointer.flush()
    except Exception as flush_error:  # noqa: BLE001 - a full disk must not hide the first error
        import sys

        sys.stderr.write(f"cannot write the checkpoint: {clean(flush_error)}\n")
    interrupted = isinstance(exc, (KeyboardInterrupt, Interrupted))
    t.run_info.update(
        status="interrupted" if interrupted else "failed",
        epochs=checkpointer.epochs_done,
        error=clean(exc),
        timings=t.timer.report(),
    )
    interrupt.write_quietly(t.run_dir / "run.json", t.run_info)


def _completed(t: Training, history, metrics: dict, checkpointer, epoch_timer) -> TrainResult:
    fit, batch = t.cfg.fit, t.plan.local_batch(t.cfg.fit.batch_size)
    profile = {
        "epoch_seconds": epoch_timer.seconds,
        "compile_seconds": epoch_timer.compile_seconds,
        "settings": t.settings,
        **fit_summary(epoch_timer.seconds, len(t.train_data), fit.steps_per_epoch, batch),
    }
    t.run_info.update(
        status="completed",
        epochs=checkpointer.epochs_done,
        compile_seconds=epoch_timer.compile_seconds,
        timings=t.timer.report(),
        profile=profile,
    )
    source = "validation" if t.validation is not None else "train"
    if not t.plan.writer:
        return TrainResult(None, history.history, metrics, t.run_info["timings"], profile, source)
    write_json(t.run_dir / "run.json", t.run_info)
    checkpointer.discard()
    if t.tracker is not None:
        t.tracker.finish(t.run_dir, "completed")
    return TrainResult(t.run_dir, history.history, metrics, t.run_info["timings"], profile, source)
