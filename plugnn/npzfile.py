"""Safe array files: ``.npz`` written atomically with a format version and a checksum, read without pickle.

Writing goes through :func:`plugnn.atomicfile.atomic_writer`: a temporary file in the same folder,
flushed to disk, then renamed over the target in one step, so a crash at any moment leaves either
the old file or the new one, never half of one, and never through a planted link. Reading uses
``allow_pickle=False`` and rejects a truncated, altered or wrong-version file with a clear message.
"""

from __future__ import annotations

import hashlib
import math
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np

from plugnn.atomicfile import atomic_writer
from plugnn.errors import PlugnnError
from plugnn.memory import ensure_fits
from plugnn.readers import UnreadableFileError, open_binary, parse, refuse_unknown

FORMAT_VERSION = 1

DAMAGE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    zlib.error,
    struct.error,
    ValueError,
    OverflowError,
    KeyError,
    NotImplementedError,
    RuntimeError,
    SyntaxError,
    tokenize.TokenError,
)
"""What :mod:`zipfile` and numpy's ``.npy`` reader raise on damaged bytes: a bad zip structure, an
unsupported compression method or zip version (``NotImplementedError``), an "encrypted" flag
(``RuntimeError``), a header that is not a Python literal (``SyntaxError``, ``tokenize.TokenError``),
cut or corrupt deflate data. One-byte mutants of model files raise each of them."""


class CorruptFileError(PlugnnError):
    """A model or checkpoint file is truncated, altered, of another version, or not plugnn's."""


def checksum(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over every array's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def write_npz(path: Path, kind: str, arrays: Mapping[str, np.ndarray]) -> None:
    """Atomically write ``arrays`` to ``path`` with ``kind``, the format version and a checksum."""
    payload = {name: np.asarray(value) for name, value in arrays.items()}
    if any(value.dtype.hasobject for value in payload.values()):
        raise PlugnnError("refusing to save object arrays: they would need pickle to load")
    payload["__kind__"] = np.array(kind)
    payload["__version__"] = np.array(FORMAT_VERSION)
    payload["__checksum__"] = np.array(checksum(payload))
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path) as stream:
        np.savez(stream, **cast(dict[str, Any], payload))  # numpy's stubs type **kwds against allow_pickle


def _check_members(path: Path, archive: zipfile.ZipFile, error: type[PlugnnError] = CorruptFileError) -> None:
    """Every member's ``.npy`` header against its stored size, and the total against free memory.

    Runs before :func:`numpy.load`, which would allocate whatever shape a crafted header claims.
    """
    npy = np.lib.format
    total = 0
    for info in archive.infolist():
        with archive.open(info) as entry:
            version = npy.read_magic(entry)
            read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
            shape, _, dtype = read_header(entry)
            if dtype.hasobject:
                raise error(f"{path}: {info.filename} holds pickled objects, which plugnn never loads")
            claimed = math.prod(shape) * dtype.itemsize
            stored = info.file_size - entry.tell()
            if claimed != stored:
                raise error(
                    f"{path}: {info.filename} claims shape {shape} of {dtype} ({claimed} bytes) but stores {stored}"
                )
        total += info.file_size
    ensure_fits(2 * total, f"{path}: {total} bytes of arrays")


def read_arrays(path: Path, error: type[PlugnnError] = CorruptFileError) -> dict[str, np.ndarray]:
    """Every array of any ``.npz`` file, its headers and size checked first; never unpickles.

    Refuses a FIFO, device or folder, a file that is not a zip archive, a member whose header
    claims more data than it stores or pickled objects, and more than memory holds, raising
    ``error`` with one line naming the file.
    """
    stream = open_binary(path, error)
    with stream:
        if not zipfile.is_zipfile(stream):
            raise error(f"{path}: not a readable .npz file, truncated or damaged (no zip archive found)")
        try:
            with zipfile.ZipFile(stream) as archive:
                _check_members(path, archive, error)
            stream.seek(0)
            with np.load(stream, allow_pickle=False) as data:
                return {name: data[name] for name in data.files}
        except DAMAGE as exc:
            reason = f"a .npy header: {exc.args[0]}" if isinstance(exc, tokenize.TokenError) else exc
            raise error(f"{path}: not a readable .npz file, truncated or damaged ({reason})") from None


def read_npz(path: Path, kind: str) -> dict[str, np.ndarray]:
    """Read and verify a file written by :func:`write_npz`; never unpickles.

    Refuses what :func:`read_arrays` refuses, a wrong kind or version and a checksum mismatch, each
    with one line naming the file.
    """
    arrays = read_arrays(path)
    stored = str(arrays.pop("__checksum__", ""))
    if str(arrays.get("__kind__", "")) != kind:
        raise CorruptFileError(f"{path}: not a plugnn {kind} file")
    stamp = arrays.get("__version__")
    version = int(stamp) if stamp is not None and stamp.shape == () and stamp.dtype.kind in "iu" else -1
    if version > FORMAT_VERSION:
        raise CorruptFileError(
            f"{path}: written by a newer plugnn (format version {version}; this plugnn reads version "
            f"{FORMAT_VERSION}): upgrade plugnn to load it"
        )
    if version != FORMAT_VERSION:
        raise CorruptFileError(f"{path}: format version {version} but this plugnn reads version {FORMAT_VERSION}")
    if stored != checksum(arrays):
        raise CorruptFileError(f"{path}: checksum mismatch, the file was altered or damaged")
    return {name: value for name, value in arrays.items() if not name.startswith("__")}


def member(
    path: Path, arrays: Mapping[str, np.ndarray], name: str, kinds: str, ndim: int, *, finite: bool = True
) -> np.ndarray:
    """``arrays[name]`` checked to exist with ``ndim`` dimensions, a dtype kind in ``kinds`` (numpy's
    letters: ``"f"`` float, ``"iu"`` integer, ``"U"`` text) and, for floats, finite values."""
    if name not in arrays:
        raise CorruptFileError(f"{path}: not a complete plugnn file, it lacks the array {name!r}")
    value = arrays[name]
    if value.ndim != ndim or value.dtype.kind not in kinds:
        raise CorruptFileError(
            f"{path}: {name!r} should be {ndim}-D of kind {kinds!r}, got shape {value.shape} dtype {value.dtype}"
        )
    if finite and value.dtype.kind == "f" and not np.all(np.isfinite(value)):
        raise CorruptFileError(f"{path}: {name!r} holds NaN or Inf")
    return value


def member_json(path: Path, arrays: Mapping[str, np.ndarray], name: str) -> Any:
    """The JSON text stored as ``arrays[name]``, parsed with bounded nesting."""
    try:
        return parse(str(member(path, arrays, name, "U", 0)), "json", f"{path}: {name!r}")
    except UnreadableFileError as exc:
        raise CorruptFileError(str(exc)) from None


def refuse_unknown_members(
    path: Path, arrays: Mapping[str, np.ndarray], known: Iterable[str], prefixes: tuple[str, ...] = ()
) -> None:
    """Refuse arrays a plugnn file of this kind never holds (as unknown keys of a spec file are)."""
    try:
        refuse_unknown(str(path), arrays, known, prefixes, what="array")
    except UnreadableFileError as exc:
        raise CorruptFileError(str(exc)) from None
