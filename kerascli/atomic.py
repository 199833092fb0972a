"""Atomic files: every artifact kerascli writes goes through here.

A crash leaves the previous version of a file or none, never half of one:
every file is written to a temporary file in the same directory, flushed,
fsynced and renamed over the target, with the mode the umask gives (or the
replaced file's). A failed write is one line naming the file; the temporary
files a killed process leaves are removed by the next write of the same file.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import json
import math
import os
import re
import socket
import stat
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

from kerascli.errors import KerasCliError, UsageError

# Errors that mean the write itself failed (not a bug of the code writing): one line naming the file.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENAMETOOLONG}
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
_TEMP = re.compile(r"\.tmp-(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-")
_umask_lock = threading.Lock()


def temp_beside(target: str | os.PathLike) -> Path:
    """Creates an empty temporary file in `target`'s directory and returns its path.

    The name keeps `target`'s suffix (Keras insists on `.keras`), starts with
    a dot (a listing does not show it) and records this host and process:
    temporary files of `target` that a killed process left behind are removed
    here, by the next write of the same file.

    Raises:
        UsageError: `target` is a directory.
        KerasCliError: its directory cannot be created or written (the message says why).
    """
    target = Path(target)
    if target.is_dir():
        raise UsageError(f"cannot write {target}: it is a directory; give a file name")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(target.parent, target)
        prefix = f".{target.stem[:80]}.tmp-{_HOST}-{os.getpid()}-"
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=target.suffix, dir=target.parent)
    except OSError as exc:
        raise KerasCliError(f"cannot write {target}: {reason(exc)}") from None
    os.close(fd)
    return Path(tmp)


def commit(tmp: str | os.PathLike, target: str | os.PathLike) -> None:
    """Fsyncs the finished temporary file `tmp`, gives it its final mode and renames it over `target`.

    The mode is the one a plain `open()` would give a new file (0666 less
    the umask: 0644 by default, not `mkstemp`'s 0600), or the mode of the
    file it replaces.
    """
    target = Path(target)
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    os.chmod(tmp, mode)
    os.replace(tmp, target)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path beside `target`; renames it over `target` on success.

    A failed write (disk full, read-only file system, a directory in the way)
    is a `KerasCliError` naming `target`, and `target` is left as it was.
    """
    target = Path(target)
    tmp_path = None
    try:
        tmp_path = temp_beside(target)
        yield tmp_path
        commit(tmp_path, target)
    except OSError as exc:
        if exc.errno in _WRITE_ERRNOS or exc.filename in (str(tmp_path), str(target)):
            raise KerasCliError(f"cannot write {target}: {reason(exc)}") from None
        raise
    except BaseException:  # a signal may have come before temp_beside returned the file it made
        remove_own_temps(target)
        raise
    finally:
        if tmp_path is not None:
            tmp_path.unlink(missing_ok=True)


def remove_stale_temps(folder: Path, target: Path | None = None) -> None:
    """Removes the temporary files in `folder` (of `target` only, when given) of dead processes of this host.

    A file of another host (a shared file system) or of a live process is left alone.
    """
    if target is not None:
        pattern = f".{glob.escape(target.stem[:80])}.tmp-*{glob.escape(target.suffix)}"
    else:
        pattern = ".*.tmp-*"
    try:
        candidates = list(Path(folder).glob(pattern))
    except OSError:
        return
    for path in candidates:
        match = _TEMP.search(path.name)
        if match and match["host"] == _HOST and not _alive(int(match["pid"])):
            path.unlink(missing_ok=True)


def remove_own_temps(target: str | os.PathLike) -> None:
    """Removes this process's temporary files of `target` (and of `target.<part>.<suffix>` siblings).

    A signal can land after `temp_beside` created a file and before its
    caller recorded it; an aborting writer calls this so that nothing is left.
    """
    target = Path(target)
    pattern = f".{glob.escape(target.stem[:80])}*.tmp-{_HOST}-{os.getpid()}-*"
    with contextlib.suppress(OSError):
        for path in target.parent.glob(pattern):
            path.unlink(missing_ok=True)


def reason(exc: OSError) -> str:
    """What an `OSError` means for the file being written, in a few words."""
    if isinstance(exc, IsADirectoryError):
        return "it is a directory"
    if isinstance(exc, (NotADirectoryError, FileExistsError)):  # mkdir(exist_ok=True) of a file: FileExistsError
        return "a parent of it is a file, not a directory"
    return exc.strerror or str(exc)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by another user
        return True
    return True


def _umask() -> int:
    with _umask_lock:  # reading the umask means setting it: put it straight back
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def write_text(target: str | os.PathLike, text: str) -> None:
    """Writes `text` to `target` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(target: str | os.PathLike, data: Any) -> None:
    """Writes `data` as indented JSON, atomically; NaN/inf become null."""
    write_text(target, json.dumps(_jsonable(data), indent=2, allow_nan=False) + "\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        try:
            value = value.item()
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def staging_dir(target: str | os.PathLike) -> Path:
    """Creates an empty hidden directory beside `target`, to fill and then `replace_dir` over it."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))


def replace_dir(staging: str | os.PathLike, target: str | os.PathLike) -> None:
    """Renames the finished directory `staging` to `target`, replacing an existing `target` whole.

    The old directory is first renamed aside and removed only once the new
    one is in place: a crash leaves the old directory or the new one (and
    perhaps a hidden leftover), never a mixture.
    """
    import shutil

    staging, target = Path(staging), Path(target)
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
        os.replace(target, old / target.name)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
