"""Run directories: create one, find the latest, open a finished one, resume an unfinished one.

A new run is checked before any work (a file or a broken link as the output
directory, a read-only file system, a name too long for a directory) and is
removed again if even its first files cannot be written; the one process
writing a run holds its lock (`RunLock`), so a second `--resume` of a run
still training is refused. The JSON files of a run are read as objects or
reported as damaged, one line each.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import errno
import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterator

from kerascli.atomic import reason, remove_stale_temps
from kerascli.config.document import Document
from kerascli.config.spec import Config
from kerascli.engine import backend, speed
from kerascli.engine.keras_import import load_keras
from kerascli.errors import KerasCliError, UsageError
from kerascli.run.run_json import read_run_json
from kerascli.run.validating import Checked, validate


def safe_name(name: str) -> str:
    """A run name that cannot leave the output directory."""
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]", "_", name).lstrip(".")
    return cleaned or "run"


MAX_NAME = 200  # characters of a run name: it names a directory, and file systems stop at 255 bytes


def check_output_dir(base: str | os.PathLike, name: str) -> None:
    """Checks, before any work, that runs named `name` can be created under `base`.

    Raises:
        UsageError: `base` (or a parent) is a file or a broken symbolic link,
            is read-only, or `name` is too long for a directory name.
    """
    if len(safe_name(name).encode()) > MAX_NAME:
        raise UsageError(
            f"run name '{safe_name(name)[:40]}...' is {len(name)} characters long; a run name names a "
            f"directory and is at most {MAX_NAME}: set a shorter 'name' in the config"
        )
    path = Path(base).absolute()
    for folder in [path, *path.parents]:
        if folder.is_symlink() and not folder.exists():
            raise UsageError(f"output directory {base}: {folder} is a broken symbolic link (to {os.readlink(folder)})")
        if folder.exists():
            if not folder.is_dir():
                raise UsageError(f"output directory {base}: {folder} is a file, not a directory")
            if os.statvfs(folder).f_flag & os.ST_RDONLY:
                raise UsageError(f"output directory {base}: {folder} is on a read-only file system")
            return


def new_run_dir(base: str | os.PathLike, name: str, exact: str | os.PathLike | None = None) -> Path:
    """Creates `base/name/<timestamp>/` (or `exact`), suffixed `-1`, `-2`... if taken; never reuses a directory.

    Temporary files that killed runs left in earlier runs of `name` are removed.

    Raises:
        KerasCliError: the directory cannot be created (the message says why).
    """
    if exact is None:
        check_output_dir(base, name)
    return create_run_dir(planned_run_dir(base, name, exact))


def planned_run_dir(base: str | os.PathLike, name: str, exact: str | os.PathLike | None = None) -> Path:
    """The path `new_run_dir` would create now; `create_run_dir` creates it later.

    The callbacks are built with their paths in the run directory before the
    directory exists, so that a callback Keras rejects leaves nothing behind.

    Raises:
        KerasCliError: 1000 runs of `name` started this second.
    """
    if exact is not None:
        parent, stamp = Path(exact).parent, Path(exact).name
    else:
        parent, stamp = Path(base) / safe_name(name), datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for attempt in range(1000):
        candidate = parent / (stamp if attempt == 0 else f"{stamp}-{attempt}")
        if not candidate.exists():
            return candidate
    raise KerasCliError(f"cannot create a new run directory under {parent}: 1000 runs started this second")


def create_run_dir(path: Path) -> Path:
    """Creates the `planned_run_dir` `path`, and cleans the temporaries of killed runs beside it.

    Raises:
        KerasCliError: another run took `path` meanwhile, or it cannot be created.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for earlier in path.parent.iterdir():
            if earlier.is_dir():
                remove_stale_temps(earlier)
        path.mkdir()
    except FileExistsError:
        raise KerasCliError(f"another run created {path} at the same moment; train again") from None
    except OSError as exc:
        raise KerasCliError(f"cannot create a run directory under {path.parent}: {reason(exc)}") from None
    return path


@contextlib.contextmanager
def removed_on_failure(run_dir: Path) -> Iterator[Path]:
    """Removes the new `run_dir` (and what is in it) if the block fails: no empty run is left behind."""
    try:
        yield run_dir
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise


class RunLock:
    """An exclusive lock on a run directory, held by the one process writing it.

    A second `train --resume` of a run that is still training gets a clear
    error instead of two processes writing the same files. The lock is the
    kernel's `flock` on the directory itself (no file is added to the run),
    so a killed process releases it. Where the file system has no such locks
    the run is written unlocked, as before.

    Args:
        run_dir: the run directory.
    """

    def __init__(self, run_dir: str | os.PathLike):
        self.run_dir = Path(run_dir)
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        try:
            import fcntl
        except ImportError:  # Windows: no flock
            return self
        try:
            fd = os.open(self.run_dir, os.O_RDONLY)
        except OSError as exc:
            raise KerasCliError(f"cannot lock {self.run_dir}: {reason(exc)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise UsageError(
                    f"{self.run_dir} is in use: another kerascli process is training it; "
                    f"wait for it to finish (or stop it) first"
                ) from None
            return self  # no locks on this file system
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None


def is_run_dir(path: Path) -> bool:
    """Whether `path` holds a finished run (a config and a model)."""
    return (path / "config.yaml").is_file() and (path / "model.keras").is_file()


def latest_run(base: str | os.PathLike, name: str | None = None) -> Path | None:
    """The most recent run under `base` (of run `name` when given), or None."""
    base = Path(base)
    parents = [base / safe_name(name)] if name else [p for p in base.glob("*") if p.is_dir()]
    runs = [r for p in parents if p.is_dir() for r in p.iterdir() if r.is_dir() and is_run_dir(r)]
    if not runs:
        return None
    return max(runs, key=lambda r: ((r / "model.keras").stat().st_mtime, r.name))


def resume_config(run_dir) -> Path:
    """The config of a run to resume (`RUN_DIR/config.yaml`).

    Raises:
        UsageError: `run_dir` is not a run directory, or the run completed.
    """
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file() or not (run_dir / "run.json").is_file():
        raise UsageError(f"cannot resume {run_dir}: not a run directory (it has no config.yaml and run.json)")
    status = read_run_json(run_dir / "run.json").get("status")
    if status == "completed":
        raise UsageError(f"cannot resume {run_dir}: the run has completed; train a new run instead")
    return run_dir / "config.yaml"


def find_run(target: str | None, overrides=()) -> tuple[Path, Checked]:
    """Resolves `RUN_OR_CONFIG`: a run directory, a config file, or the latest run.

    Returns:
        `(run_dir, checked)`: the finished run and its validated config.
    """
    if target is None:
        run_dir = latest_run("runs")
        if run_dir is None:
            raise UsageError(
                "no run found under ./runs; train one first (kerascli train CONFIG) or pass a run directory"
            )
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
        return target_path, validate(target_path / "config.yaml", overrides)
    checked = validate(target_path, overrides)
    name = checked.cfg.name or checked.doc.path.stem
    run_dir = latest_run(checked.cfg.output.dir, name)
    if run_dir is None:
        raise UsageError(
            f"no finished run of '{name}' under {checked.cfg.output.dir}/; train it first: kerascli train {target}"
        )
    return run_dir, checked


@dataclasses.dataclass
class RunContext:
    """A trained run, ready to evaluate or predict."""

    run_dir: Path
    doc: Document
    cfg: Config
    model: Any
    labels: dict[str, list[str]]
    seed: int
    vocabularies: Any = None
    inputs: dict = dataclasses.field(default_factory=dict)  # run.json's training input columns (data.columns)


def open_run(target: str | None, overrides=(), backend_cli=None) -> RunContext:
    """Loads a run's model (safe mode) and vocabularies."""
    run_dir, checked = find_run(target, overrides)
    doc, cfg = checked.doc, checked.cfg
    load_keras(backend.resolve(backend_cli, cfg.backend))
    speed.fast_pool(cfg.compile.fast_pool)
    from kerascli.model.saved import load_run_model

    model = load_run_model(run_dir / "model.keras")
    labels_file = run_dir / "labels.json"
    labels = read_labels(labels_file)
    run_json = run_dir / "run.json"
    info = read_run_json(run_json)
    seed = cfg.seed
    if seed is None:
        seed = info.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise KerasCliError(
                f"{run_json}: 'seed' holds {seed!r:.40}, expected an integer; the run directory is damaged"
            )
    from kerascli.data.vocabulary import Vocabularies

    vocab_file = run_dir / "vocabularies.json"
    vocabularies = Vocabularies.from_json(read_run_json(vocab_file))
    return RunContext(run_dir, doc, cfg, model, labels, seed, vocabularies, info.get("inputs") or {})


def read_labels(path: Path) -> dict[str, list]:
    """A run's class vocabularies (`labels.json`): output name -> list of labels; {} when it has none."""
    labels = read_run_json(path)
    for name, vocab in labels.items():
        if not isinstance(vocab, list) or not all(
            isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in vocab
        ):
            raise KerasCliError(
                f"{path}: '{name}' holds {str(vocab)[:40]}, expected a list of class labels; the run directory is damaged"
            )
    return labels
