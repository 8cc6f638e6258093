r"""Random shift: each image moved by up to ``pixels`` rows and columns, ``(N, H, W, C) -> (N, H, W, C)``.

For every sample, offsets :math:`d_y, d_x` are drawn uniformly from :math:`\{-k, \dots, k\}`
(``k = pixels``, independently per axis) and

.. math::

    \mathrm{out}[n, i, j, :] = x[n, i + d_y, j + d_x, :],

where a source outside the image is filled by ``mode``: ``"constant"`` zeros, ``"edge"`` the
nearest edge pixel, ``"reflect"`` the image mirrored at its edge without repeating the edge pixel
(numpy's ``pad`` modes). With zeros this is torchvision's ``RandomCrop(size, padding=k)`` (pad by
``k``, crop at a random offset) and Keras' ``RandomTranslation`` by whole pixels.

Computed as that crop: the batch is copied into a padded array (kept between batches), whose rows
are then read as overlapping windows (a strided view, :math:`2k + 1` windows of ``W·C`` values per
padded row); one fancy index picks row :math:`i + d_y + k` and window :math:`d_x + k` for each
sample, copying whole image rows. Blocks of samples go to the run's threads
(:func:`plugnn.parallel.for_rows`).
"""

from __future__ import annotations

import attrs
import numpy as np
from numpy.lib.stride_tricks import as_strided

from plugnn import validators as v
from plugnn.errors import FieldError
from plugnn.hookspecs import hookimpl
from plugnn.parallel import for_rows
from plugnn.protocols import Array, Shape
from plugnn.registry import Register
from plugnn.specs import AugmentationSpec
from plugnn_std.augmentations.pixels import Scratch, image_shape

MODES = ("constant", "edge", "reflect")


@attrs.frozen
class RandomShift(AugmentationSpec):
    """Shift each image by up to ``pixels`` (< its height and width) in each direction; ``mode`` fills the edge."""

    pixels: int = attrs.field(validator=[v.integer, v.positive])
    mode: str = attrs.field(default="constant", validator=v.one_of(MODES))

    @classmethod
    def examples(cls) -> list[RandomShift]:
        return [cls(2), cls(1, "edge"), cls(4, "reflect")]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"pixels": 0}, {"pixels": -2}, {"pixels": 1.5}, {"pixels": 2, "mode": "wrap"}]

    @classmethod
    def invalid_input_shapes(cls) -> list[tuple[int, ...]]:
        return [(64,), (8, 8)]


def fill_border(padded: Array, k: int, mode: str) -> None:
    """Fill the ``k``-wide border of ``padded`` ``(n, H + 2k, W + 2k, C)`` from its interior, in place:
    ``"edge"`` repeats the outermost rows and columns, ``"reflect"`` mirrors the ones inside them."""
    for axis in (1, 2):  # rows first; the columns then also fill the corners
        view = np.moveaxis(padded, axis, 0)
        size = view.shape[0] - 2 * k
        if mode == "edge":
            view[:k] = view[k]
            view[k + size :] = view[k + size - 1]
        else:  # padded index k - j mirrors k + j; k + size - 1 + j mirrors k + size - 1 - j
            view[:k] = view[2 * k : k : -1]
            view[k + size :] = view[k + size - 2 : size - 2 : -1]


class RandomShiftAugmentation:
    """Draws each sample's crop corner and copies the crop's rows out of a padded copy (module docstring)."""

    def __init__(self, spec: RandomShift, sample_shape: Shape) -> None:
        height, width, channels = image_shape(sample_shape)
        if spec.pixels >= min(height, width):
            raise FieldError(
                "pixels", f"must be less than the images' height and width, {height} x {width} (got {spec.pixels})"
            )
        self.spec, self.shape = spec, (height, width, channels)
        k = spec.pixels
        self._padded = Scratch((height + 2 * k, width + 2 * k, channels), fill=0.0)
        self._out = Scratch((height, width, channels))

    def __call__(self, x: Array, rng: np.random.Generator) -> Array:
        n, (height, width, channels), k = len(x), self.shape, self.spec.pixels
        corner = rng.integers(0, 2 * k + 1, size=(2, n))  # of each crop in the padded image: 0..2k
        padded, out = self._padded.get(n, x.dtype), self._out.get(n, x.dtype)
        row_length = width * channels

        def work(rows: slice) -> None:
            block = padded[rows]
            block[:, k : k + height, k : k + width] = x[rows]
            if self.spec.mode != "constant":
                fill_border(block, k, self.spec.mode)
            s_sample, s_row, s_pixel, s_value = block.strides
            windows = as_strided(  # (b, H + 2k, 2k + 1, W·C): window q of a padded row starts at pixel q
                block,
                shape=(len(block), height + 2 * k, 2 * k + 1, row_length),
                strides=(s_sample, s_row, s_pixel, s_value),
                writeable=False,
            )
            first = np.arange(len(block))[:, None]
            picked = windows[first, corner[0, rows, None] + np.arange(height), corner[1, rows, None]]
            out[rows] = picked.reshape(-1, height, width, channels)

        for_rows(work, n, padded[:1].nbytes)
        return out


@hookimpl
def plugnn_register_augmentations(register: Register) -> None:
    register("random_shift", RandomShift, RandomShiftAugmentation)
