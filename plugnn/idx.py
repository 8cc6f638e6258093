"""A reader for the IDX format of MNIST and Fashion-MNIST (gzipped or not), with clear errors.

An IDX file is a 4-byte magic number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian uint32
dimensions, then the data in row-major order. MNIST uses type ``0x08`` (unsigned byte): images are
``(N, 28, 28)`` (ndim 3) and labels ``(N,)`` (ndim 1).
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from plugnn.errors import DataError
from plugnn.memory import ensure_fits
from plugnn.readers import open_binary

UNSIGNED_BYTE = 0x08
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
"""The four standard file names (each may also end in ``.gz``)."""


GZIP_MAX_RATIO = 1032
"""Deflate's largest possible expansion: a gzip file of ``n`` bytes decodes to at most about ``1032 n``."""


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Read one unsigned-byte IDX file of ``ndim`` dimensions, checking magic, dimensions and length.

    The shape in the header is checked against the file's size (for ``.gz``, against the most a
    file of that size can decode to) and the available memory before anything is allocated; a
    ``.gz`` file is decompressed as a stream, so only the decoded data is ever held in memory.
    FIFOs, devices and folders are refused without blocking.
    """
    raw = open_binary(path, DataError)
    compressed = path.suffix == ".gz"
    file_size = os.fstat(raw.fileno()).st_size
    try:
        with raw, gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw as stream:
            magic = stream.read(4)
            if len(magic) < 4 or magic[0] != 0 or magic[1] != 0:
                raise DataError(f"{path}: not an IDX file (bad magic number {magic.hex() or 'empty'})")
            if magic[2] != UNSIGNED_BYTE:
                raise DataError(
                    f"{path}: IDX data type 0x{magic[2]:02x} is not supported (expected 0x08, unsigned byte)"
                )
            if magic[3] != ndim:
                raise DataError(f"{path}: expected {ndim} dimension(s), the header says {magic[3]}")
            dims = stream.read(4 * ndim)
            header = 4 + 4 * ndim
            if len(dims) < 4 * ndim:
                raise DataError(f"{path}: truncated header ({4 + len(dims)} bytes, need {header})")
            shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
            need = math.prod(shape)
            if compressed and need > GZIP_MAX_RATIO * file_size:
                raise DataError(
                    f"{path}: header promises shape {shape} ({header + need} bytes) but a {file_size}-byte gzip "
                    f"file decodes to at most about {GZIP_MAX_RATIO * file_size} bytes"
                )
            if not compressed and need != file_size - header:
                raise DataError(
                    f"{path}: header promises shape {shape} ({header + need} bytes) but the file has {file_size} bytes"
                )
            ensure_fits(5 * need, f"{path}: shape {shape} as uint8 and float32")
            data = np.empty(need, dtype=np.uint8)
            filled = 0
            while filled < data.size and (count := stream.readinto(data.data[filled:])):
                filled += count
            extra = len(stream.read(1 << 20))
    except (EOFError, OSError, zlib.error) as exc:  # a damaged or cut-off gzip stream
        raise DataError(f"{path}: cannot be read, truncated or damaged ({exc})") from None
    if filled != data.size or extra:
        size = f"{header + filled} bytes" if not extra else f"more than {header + filled} bytes"
        raise DataError(f"{path}: header promises shape {shape} ({header + data.size} bytes) but the file has {size}")
    return data.reshape(shape)


def find_file(folder: Path, stem: str) -> Path:
    """``folder/stem`` or ``folder/stem.gz``, whichever exists."""
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.exists():  # anything but a regular file is refused with its kind by read_idx
            return candidate
    raise DataError(f"{folder}: missing {stem} (or {stem}.gz); an IDX folder holds {', '.join(FILES.values())}")


def read_idx_folder(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(train_images, train_labels, test_images, test_labels)`` from a folder of the four files."""
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder (expected one holding the four IDX files)")
    arrays = {key: read_idx(find_file(folder, stem), 1 if key.endswith("labels") else 3) for key, stem in FILES.items()}
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if len(images) != len(labels):
            raise DataError(f"{folder}: {len(images)} {part} images but {len(labels)} {part} labels")
        if len(images) == 0:
            raise DataError(f"{folder}: no {part} images (the IDX files hold 0 samples)")
    return arrays["train_images"], arrays["train_labels"], arrays["test_images"], arrays["test_labels"]
