r"""Random erasing: a random rectangle of each image set to ``value``, ``(N, H, W, C) -> (N, H, W, C)``.

Zhong et al., "Random Erasing Data Augmentation" (AAAI 2020), as torchvision's ``RandomErasing``
draws it. Each image is erased with probability ``probability``; its rectangle covers a fraction
of the image's area drawn uniformly from ``[min_area, max_area]``, with an aspect ratio ``h / w``
drawn log-uniformly from ``[min_aspect, max_aspect]``:

.. math::

    h = \mathrm{round}\sqrt{A\,r}, \qquad w = \mathrm{round}\sqrt{A / r}, \qquad
    A = a \cdot H W,\ a \sim U[a_{\min}, a_{\max}],\ \log r \sim U[\log r_{\min}, \log r_{\max}],

drawn again, up to :data:`ATTEMPTS` times, until ``h < H`` and ``w < W`` (an image with no such draw
is left alone); its top-left corner is uniform over the positions where it fits. Every channel of
the rectangle is set to ``value``. Keras' ``RandomErasing`` and the "Cutout" of DeVries & Taylor
(2017, a square of fixed size) are close relatives.

All draws for a batch are made at once (``(N, ATTEMPTS)`` attempts), the rectangles become row and
column masks, and the batch is copied with the masked pixels set, in blocks of samples on the run's
threads (:func:`plugnn.parallel.for_rows`).
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np

from plugnn import validators as v
from plugnn.checks import MAX_INPUT_MAGNITUDE  # a fill beyond what inputs may hold
from plugnn.errors import FieldError
from plugnn.hookspecs import hookimpl
from plugnn.parallel import for_rows
from plugnn.protocols import Array, Shape
from plugnn.registry import Register
from plugnn.specs import AugmentationSpec
from plugnn_std.augmentations.pixels import Scratch, image_shape

ATTEMPTS = 10
"""Draws of a rectangle per image before it is left alone (torchvision's number)."""


def _not_below(low: str) -> v.Validator:
    """The field is at least the field ``low`` of the same spec (an upper bound of a range)."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value < getattr(instance, low):
            raise FieldError(attribute.name, f"must be >= {low} = {getattr(instance, low)!r} (got {value!r})")

    return check


@attrs.frozen
class RandomErasing(AugmentationSpec):
    """Erase a rectangle of ``min_area``–``max_area`` of each image (with ``probability``), aspect
    ratio ``h / w`` in ``min_aspect``–``max_aspect``, to ``value``; torchvision's defaults."""

    probability: float = attrs.field(default=0.5, validator=v.in_range(0.0, 1.0, include_high=True))
    min_area: float = attrs.field(default=0.02, validator=[v.positive, v.in_range(0.0, 1.0)])
    max_area: float = attrs.field(default=0.33, validator=[v.positive, v.in_range(0.0, 1.0), _not_below("min_area")])
    min_aspect: float = attrs.field(default=0.3, validator=v.positive)
    max_aspect: float = attrs.field(default=3.3, validator=[v.positive, _not_below("min_aspect")])
    value: float = attrs.field(default=0.0, validator=v.magnitude_at_most(MAX_INPUT_MAGNITUDE))

    @classmethod
    def examples(cls) -> list[RandomErasing]:
        return [cls(), cls(probability=1.0, min_area=0.1, max_area=0.5, value=0.5), cls(min_aspect=1.0, max_aspect=1.0)]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [
            {"probability": 1.5},
            {"min_area": 0.0},
            {"max_area": 1.0},
            {"min_area": 0.3, "max_area": 0.2},
            {"min_aspect": -1.0},
            {"min_aspect": 2.0, "max_aspect": 0.5},
            {"value": float("nan")},
            {"value": 1e40},
        ]

    @classmethod
    def invalid_input_shapes(cls) -> list[tuple[int, ...]]:
        return [(64,), (8, 8)]


class RandomErasingAugmentation:
    """Draws every image's rectangle (module docstring), then copies the batch with it set to ``value``."""

    def __init__(self, spec: RandomErasing, sample_shape: Shape) -> None:
        self.spec, self.shape = spec, image_shape(sample_shape)
        self._out = Scratch(self.shape)

    def rectangles(self, n: int, rng: np.random.Generator) -> tuple[Array, Array, Array, Array]:
        """``(top, left, h, w)`` ``(n,)`` of each image's rectangle (``h = w = 0``: not erased)."""
        spec, (height, width, _) = self.spec, self.shape
        erased = rng.random(n) < spec.probability
        area = height * width * rng.uniform(spec.min_area, spec.max_area, size=(n, ATTEMPTS))
        aspect = np.exp(rng.uniform(math.log(spec.min_aspect), math.log(spec.max_aspect), size=(n, ATTEMPTS)))
        h, w = np.rint(np.sqrt(area * aspect)).astype(np.int64), np.rint(np.sqrt(area / aspect)).astype(np.int64)
        fits = (h < height) & (w < width)
        first, samples = fits.argmax(axis=1), np.arange(n)  # the first attempt that fits (0 if none does)
        kept = erased & fits[samples, first]
        h, w = h[samples, first] * kept, w[samples, first] * kept
        top, left = rng.integers(0, height - h + 1), rng.integers(0, width - w + 1)
        return top, left, h, w

    def __call__(self, x: Array, rng: np.random.Generator) -> Array:
        n, (height, width, _) = len(x), self.shape
        top, left, h, w = self.rectangles(n, rng)
        rows, cols = np.arange(height), np.arange(width)
        inside_rows = (rows >= top[:, None]) & (rows < (top + h)[:, None])  # (n, H)
        inside_cols = (cols >= left[:, None]) & (cols < (left + w)[:, None])  # (n, W)
        out, value = self._out.get(n, x.dtype), x.dtype.type(self.spec.value)

        def work(block: slice) -> None:
            out[block] = x[block]
            mask = inside_rows[block, :, None, None] & inside_cols[block, None, :, None]  # (b, H, W, 1)
            np.copyto(out[block], value, where=mask)

        for_rows(work, n, out[:1].nbytes)
        return out


@hookimpl
def plugnn_register_augmentations(register: Register) -> None:
    register("random_erasing", RandomErasing, RandomErasingAugmentation)
