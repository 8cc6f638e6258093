"""What the standard augmentations share: the image check, and scratch arrays kept between batches.

Each batch an augmentation writes into arrays it keeps (its output, a padded copy), grown when a
batch is larger or of another dtype: allocating half a megabyte per batch would cost more than the
work (fresh pages fault in one by one), and the protocol lets the output be reused until the next call.
"""

from __future__ import annotations

import numpy as np

from plugnn.errors import ShapeError
from plugnn.protocols import Array, Shape


def image_shape(sample_shape: Shape) -> tuple[int, int, int]:
    """``(H, W, C)`` of channels-last image samples, or a :class:`ShapeError` naming the shape."""
    if len(sample_shape) != 3:
        raise ShapeError(
            f"got sample shape {sample_shape}, needs (H, W, C) images (channels-last); it moves pixels, "
            "which flat features do not have: give it image data, or remove it from train.augment"
        )
    height, width, channels = sample_shape
    return height, width, channels


class Scratch:
    """An array of ``(n, *shape)`` for batches of up to ``n`` samples, kept and grown as batches come.

    ``fill`` is what a new array holds (the padding of a zero-padded copy stays zero when only its
    interior is written).
    """

    def __init__(self, shape: tuple[int, ...], fill: float | None = None) -> None:
        self.shape, self.fill = shape, fill
        self._array: Array = np.empty((0, *shape), dtype=np.float32)

    def get(self, n: int, dtype: np.dtype) -> Array:
        """The first ``n`` rows, of ``dtype`` (contiguous)."""
        if len(self._array) < n or self._array.dtype != dtype:
            make = np.empty if self.fill is None else np.zeros
            self._array = make((n, *self.shape), dtype=dtype)
        return self._array[:n]
