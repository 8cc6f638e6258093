"""Reading files a user hands plugnn: regular files only, sizes checked first, UTF-8, bounded nesting.

A FIFO, a device or a folder given where a file is expected would hang or fail deep inside a
parser; :func:`open_regular` opens without blocking (``O_NONBLOCK``) and refuses anything but a
regular file with one line. Text must be UTF-8; JSON and TOML documents may nest at most
:data:`MAX_DEPTH` levels, so a crafted file cannot exhaust the interpreter's stack.
"""

from __future__ import annotations

import io
import json
import os
import stat
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from plugnn.errors import PlugnnError

MAX_DEPTH = 32
"""The deepest nesting of tables/arrays a spec or JSON document may have (plugnn's own use 4)."""

MAX_TEXT_BYTES = 1 << 20
"""The largest spec, fingerprint or other text file plugnn reads (1 MiB; recipes are under 2 KiB)."""

_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a folder",
    stat.S_IFSOCK: "a socket",
}


class UnreadableFileError(PlugnnError):
    """A file is not a regular file, too large, not UTF-8, or nested too deeply.

    ``source`` names the file and ``reason`` says what is wrong; the message is ``source: reason``.
    """

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source, self.reason = source, reason


def open_regular(path: Path) -> int:
    """A read-only descriptor of ``path`` once it is known to be a regular file (links are followed).

    Raises :class:`FileNotFoundError` for a missing file and :class:`UnreadableFileError` for a
    FIFO, device, socket or folder, without blocking on any of them.
    """
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    mode = os.fstat(handle).st_mode
    if not stat.S_ISREG(mode):
        os.close(handle)
        raise UnreadableFileError(str(path), f"is {_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}, not a file")
    os.set_blocking(handle, True)
    return handle


def open_binary(path: Path, error: type[PlugnnError]) -> io.BufferedReader:
    """``path`` opened for binary reading once it is known to be a regular file (:func:`open_regular`).

    A missing file, a FIFO, device or folder raise ``error`` (e.g. :class:`plugnn.DataError`) with one line.
    """
    try:
        return os.fdopen(open_regular(path), "rb")
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except UnreadableFileError as exc:
        raise error(str(exc)) from None


def read_bytes(path: Path, limit: int = MAX_TEXT_BYTES) -> bytes:
    """The bytes of the regular file ``path``, refused (before reading) when larger than ``limit``."""
    handle = open_regular(path)
    with os.fdopen(handle, "rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > limit:
            raise UnreadableFileError(str(path), f"{size} bytes, more than the {limit} plugnn reads from such a file")
        return stream.read(limit + 1)[:limit]


def decode_utf8(data: bytes, source: str) -> str:
    """``data`` as UTF-8 text, or one line saying where it is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(
            source, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from None


def read_text(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """A regular UTF-8 text file of at most ``limit`` bytes."""
    return decode_utf8(read_bytes(path, limit), str(path))


def depth(value: Any) -> int:
    """How deeply ``value`` nests dicts and lists (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children)
    return deepest


def parse(text: str, fmt: str, source: str) -> Any:
    """``text`` as ``"json"`` or ``"toml"``, nested at most :data:`MAX_DEPTH` levels."""
    too_deep = f"nested more than {MAX_DEPTH} levels deep; plugnn refuses it"
    try:
        data = json.loads(text) if fmt == "json" else tomllib.loads(text)
    except RecursionError:
        raise UnreadableFileError(source, too_deep) from None
    except ValueError as exc:  # TOMLDecodeError, JSONDecodeError, an integer of more than 4300 digits
        raise UnreadableFileError(source, f"not valid {fmt.upper()}: {exc}") from None
    if depth(data) > MAX_DEPTH:
        raise UnreadableFileError(source, too_deep)
    return data


def refuse_unknown(
    source: str, found: Iterable[str], known: Iterable[str], prefixes: tuple[str, ...] = (), what: str = "key"
) -> None:
    """Refuse names in ``found`` that are neither in ``known`` nor start with one of ``prefixes``.

    Stored files are read as strictly as spec files: a field plugnn did not write is damage or a
    file of another program, never silently ignored. The message names the first few unknown ones
    and what the file may hold.
    """
    allowed = set(known)
    unknown = sorted(name for name in found if name not in allowed and not name.startswith(prefixes))
    if unknown:
        listed = ", ".join(repr(name) for name in unknown[:3]) + (", ..." if len(unknown) > 3 else "")
        holds = ", ".join([*sorted(allowed), *(f"{prefix}*" for prefix in prefixes)])
        raise UnreadableFileError(source, f"unknown {what}(s) {listed}; it may hold {holds}")
