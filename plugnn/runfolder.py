"""Run folders: claimed once, locked while a process works in them.

A run folder belongs to one process at a time. :func:`claim_new` creates it (or takes an empty one
given as ``--out``) and :func:`locked` guards ``--resume``; both hold an exclusive advisory lock
(``fcntl.flock``) on ``.plugnn.lock`` inside the folder for as long as the block runs. The kernel
releases the lock when the process exits in any way, SIGKILL included, so a crashed run never
leaves a folder locked; a block that ends (a finished run, an error) removes the lock file too. A
second process is refused at once with the holder's pid; the emptiness check of a new folder runs
under the lock, so two runs given the same ``--out`` cannot both pass it.
Files inside are written with :mod:`plugnn.atomicfile`.

Run and sweep folders never nest (:func:`refuse_nesting`): a run or a sweep inside a run folder or a
sweep folder is refused, except a sweep's own trials, each a run folder directly inside it.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from plugnn.atomicfile import NOFOLLOW, UnsafePathError, open_folder
from plugnn.errors import PlugnnError

LOCK_NAME = ".plugnn.lock"
SWEEP_FILE = "sweep.json"
RUN_MARKERS = (LOCK_NAME, "fingerprint.json", "checkpoint.npz")
"""Files only plugnn writes into a run folder: a folder holding one (and no sweep.json) is a run's."""

_SWEEP_OF_TRIAL: contextvars.ContextVar[Path | None] = contextvars.ContextVar("sweep_of_trial", default=None)


class RunFolderBusyError(PlugnnError):
    """Another process holds the run folder's lock."""


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[Path]:
    """Hold ``folder``'s exclusive lock for the block; refuse at once if another process holds it.

    The lock file is removed when the block ends (a finished run leaves none behind), while the lock
    is still held. A process that opened the file just before it was removed and locks it afterwards
    holds a lock on a file no longer in the folder: it sees so (the name leads to another file, or to
    none) and starts over, so two processes never both hold the folder.
    """
    folder_fd = open_folder(folder)
    try:
        handle = _lock_file(folder, folder_fd)
        try:
            yield folder
        finally:
            with contextlib.suppress(FileNotFoundError):  # a folder that removed itself (claim_new)
                os.unlink(LOCK_NAME, dir_fd=folder_fd)
            os.close(handle)  # closing the descriptor releases the lock
    finally:
        os.close(folder_fd)


def _lock_file(folder: Path, folder_fd: int) -> int:
    """A descriptor of ``folder``'s lock file, exclusively locked and still the file under its name."""
    while True:
        try:
            handle = os.open(LOCK_NAME, os.O_RDWR | os.O_CREAT | NOFOLLOW, 0o666, dir_fd=folder_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafePathError(f"{folder / LOCK_NAME}: is a symbolic link; remove it") from None
            raise
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(handle)
            raise RunFolderBusyError(
                f"{folder}: in use by another plugnn process (pid {holder}); wait for it to end or stop it"
            ) from None
        if _same_file(handle, folder_fd):
            os.ftruncate(handle, 0)
            os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
            return handle
        os.close(handle)  # locked a file its holder removed on leaving: try the name again


def _same_file(handle: int, folder_fd: int) -> bool:
    """Whether the lock file's name in the folder still leads to the file ``handle`` holds."""
    try:
        named = os.stat(LOCK_NAME, dir_fd=folder_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(handle)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def folder_kind(folder: Path) -> str | None:
    """``"sweep"`` or ``"run"`` when ``folder`` is one of plugnn's, else None."""
    if (folder / SWEEP_FILE).is_file():
        return "sweep"
    if any((folder / name).exists() for name in RUN_MARKERS):
        return "run"
    return None


@contextlib.contextmanager
def trial_of(sweep_folder: Path) -> Iterator[None]:
    """For the block, a run folder directly inside ``sweep_folder`` (a trial of that sweep) is allowed."""
    token = _SWEEP_OF_TRIAL.set(sweep_folder.resolve())
    try:
        yield
    finally:
        _SWEEP_OF_TRIAL.reset(token)


def refuse_nesting(folder: Path, what: str) -> None:
    """Refuse ``folder`` (a new ``what``: ``"run"`` or ``"sweep"``) inside another run or sweep folder.

    A sweep's trials, run folders directly inside it, are made inside :func:`trial_of`.
    """
    target = folder.resolve()
    trial_sweep = _SWEEP_OF_TRIAL.get()
    for parent in target.parents:
        if what == "run" and parent == trial_sweep == target.parent:
            continue
        kind = folder_kind(parent)
        if kind is not None:
            raise PlugnnError(
                f"{folder}: inside the {kind} folder {parent}; a {what} folder never goes inside a run or sweep "
                "folder: choose an --out outside it"
            )


def _is_empty(folder: Path) -> bool:
    return all(entry.name == LOCK_NAME for entry in folder.iterdir())


@contextlib.contextmanager
def claim_new(out: str | Path | None, name: str) -> Iterator[Path]:
    """Create and lock a new run folder for the block: ``out``, or ``runs/<name>-<timestamp>``.

    An existing ``out`` must be an empty folder: plugnn never overwrites a run. If the block fails
    before writing anything, the folder is removed again (when this call created it).
    """
    parent_created = False
    refuse_nesting(Path(out) if out is not None else Path("runs") / name, "run")
    if out is not None:
        folder = Path(out)
        if folder.exists() and not folder.is_dir():
            raise PlugnnError(f"{folder} exists and is not a folder; choose another --out")
        created = not folder.exists()
        if not created and not _is_empty(folder):  # refused before the lock file is created in it
            raise PlugnnError(
                f"{folder} already exists and is not empty; plugnn never overwrites a run, choose another --out"
            )
        folder.mkdir(parents=True, exist_ok=True)
    else:
        parent_created = not Path("runs").exists()
        folder, created = _new_timestamped(name), True
    with locked(folder):
        if not _is_empty(folder):
            raise PlugnnError(
                f"{folder} already exists and is not empty; plugnn never overwrites a run, choose another --out"
            )
        try:
            yield folder
        except BaseException:
            if created and _is_empty(folder):
                (folder / LOCK_NAME).unlink(missing_ok=True)
                folder.rmdir()
                if out is None and parent_created:
                    with contextlib.suppress(OSError):
                        folder.parent.rmdir()
            raise


def _new_timestamped(name: str) -> Path:
    base = Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    for attempt in range(1, 1000):
        folder = base if attempt == 1 else base.with_name(f"{base.name}-{attempt}")
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            continue
    raise PlugnnError(f"cannot find a free run folder name next to {base}")
