"""One atomic, link-refusing file writer for everything plugnn saves (text, csv, png, npz).

:func:`atomic_writer` hands out a binary stream on a fresh temporary file beside the target,
created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` relative to the opened folder, so it can never land
on a planted link. On success the data is flushed to disk and renamed over the target in one step
(``os.replace``), so a crash at any moment leaves either the old file or the new one, never half
of one. A symbolic link (or anything but a regular file) already standing where the target goes is
refused, not followed and not replaced. Temporary files are named ``.<name>.<random>.tmp``;
:func:`clean_stale` removes those a killed process left behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from plugnn.errors import PlugnnError

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
DIRECTORY = getattr(os, "O_DIRECTORY", 0)


class UnsafePathError(PlugnnError):
    """A file plugnn was about to write is a symbolic link, a folder or a special file."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def open_folder(folder: Path) -> int:
    """A file descriptor of the existing folder ``folder`` (``O_DIRECTORY``), for ``*at`` calls."""
    try:
        return os.open(folder, os.O_RDONLY | DIRECTORY)
    except NotADirectoryError:
        raise UnsafePathError(f"{folder}: not a folder") from None


def check_target(folder_fd: int, name: str, where: Path) -> None:
    """Refuse ``name`` in the folder when it exists as anything but a regular file (links included)."""
    try:
        info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise UnsafePathError(f"{where}: is a symbolic link; plugnn never writes through links, remove it first")
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePathError(f"{where}: exists and is not a regular file; plugnn will not replace it")


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """Write ``path`` atomically: yield a binary stream, then flush, fsync and rename it into place.

    If the block raises, the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    folder_fd = open_folder(path.parent)
    temporary = f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        check_target(folder_fd, path.name, path)
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o666, dir_fd=folder_fd)
        try:
            with os.fdopen(handle, "wb") as stream:
                yield stream
                stream.flush()
                os.fsync(stream.fileno())
            check_target(folder_fd, path.name, path)
            os.replace(temporary, path.name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=folder_fd)
            raise
    finally:
        os.close(folder_fd)


def write_bytes(path: Path, data: bytes) -> None:
    """``data`` to ``path`` atomically (see :func:`atomic_writer`)."""
    with atomic_writer(path) as stream:
        stream.write(data)


def write_text(path: Path, text: str) -> None:
    """``text`` as UTF-8 to ``path`` atomically (see :func:`atomic_writer`)."""
    write_bytes(path, text.encode("utf-8"))


def clean_stale(folder: Path) -> list[str]:
    """Remove the temporary files of writes cut short in ``folder``; returns their names."""
    removed = []
    for stale in Path(folder).glob(".*.tmp"):
        if stale.is_symlink() or stale.is_file():  # a link is removed itself, never followed
            stale.unlink(missing_ok=True)
            removed.append(stale.name)
    return removed
