"""Writing small IDX files for tests."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def write_idx_folder(
    folder: Path, n_train: int = 60, n_test: int = 20, side: int = 6, gz: bool = True, seed: int = 0
) -> Path:
    """Four IDX files of a learnable toy problem: the class is which horizontal band is bright."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for part, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 3, n)
        images = rng.integers(0, 60, (n, side, side))
        for i, label in enumerate(labels):
            images[i, 2 * label : 2 * label + 2, :] += 180
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            data = idx_bytes(array)
            name = f"{part}-{kind}-ubyte"
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (folder / name).write_bytes(data)
    return folder
