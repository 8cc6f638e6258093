"""Safe array files: ``.npz`` written atomically with a format version and a checksum, read without pickle.

Writing goes through :func:`plugnn.atomicfile.atomic_writer`: a temporary file in the same folder,
flushed to disk, then renamed over the target in one step, so a crash at any moment leaves either
the old file or the new one, never half of one, and never through a planted link. Reading uses
``allow_pickle=False`` and rejects a truncated, altered or wrong-version file with a clear message.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np

from plugnn.atomicfile import atomic_writer
from plugnn.errors import PlugnnError

FORMAT_VERSION = 1


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


def read_npz(path: Path, kind: str) -> dict[str, np.ndarray]:
    """Read and verify a file written by :func:`write_npz`; never unpickles."""
    if path.is_file() and not zipfile.is_zipfile(path):
        raise CorruptFileError(f"{path}: not a readable .npz file, truncated or damaged (no zip archive found)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise CorruptFileError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise CorruptFileError(f"{path}: not a readable .npz file, truncated or damaged ({exc})") from None
    except ValueError as exc:  # allow_pickle=False refusing an object array
        raise CorruptFileError(f"{path}: holds pickled objects, which plugnn never loads ({exc})") from None
    stored = str(arrays.pop("__checksum__", ""))
    if str(arrays.get("__kind__", "")) != kind:
        raise CorruptFileError(f"{path}: not a plugnn {kind} file")
    version = int(arrays.get("__version__", -1))
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
