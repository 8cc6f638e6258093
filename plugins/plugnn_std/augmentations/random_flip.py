r"""Random flip: each image mirrored with probability ``probability``, ``(N, H, W, C) -> (N, H, W, C)``.

``axis = "horizontal"`` mirrors left and right, :math:`\mathrm{out}[n, i, j] = x[n, i, W - 1 - j]`
for the samples drawn (each with probability ``probability``, 0.5 by default), the others are
copied unchanged; ``"vertical"`` mirrors top and bottom; ``"both"`` draws each axis on its own.
Keras' ``RandomFlip`` and torchvision's ``RandomHorizontalFlip`` / ``RandomVerticalFlip``.

The batch is copied, then the samples drawn for each way of flipping (at most three: vertical,
horizontal, both) are copied again from a reversed view of the batch, in blocks of samples on the
run's threads (:func:`plugnn.parallel.for_rows`).
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import validators as v
from plugnn.hookspecs import hookimpl
from plugnn.parallel import for_rows
from plugnn.protocols import Array, Shape
from plugnn.registry import Register
from plugnn.specs import AugmentationSpec
from plugnn_std.augmentations.pixels import Scratch, image_shape

AXES = ("horizontal", "vertical", "both")
FLIPPED = {1: (1,), 2: (2,), 3: (1, 2)}
"""The image axes each way of flipping reverses, by code: 1 vertical, 2 horizontal, 3 both."""


@attrs.frozen
class RandomFlip(AugmentationSpec):
    """Mirror each image along ``axis`` (horizontal, vertical or both) with ``probability``."""

    axis: str = attrs.field(default="horizontal", validator=v.one_of(AXES))
    probability: float = attrs.field(default=0.5, validator=v.in_range(0.0, 1.0, include_high=True))

    @classmethod
    def examples(cls) -> list[RandomFlip]:
        return [cls(), cls("vertical", 0.3), cls("both")]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"axis": "diagonal"}, {"probability": 1.5}, {"probability": -0.1}]

    @classmethod
    def invalid_input_shapes(cls) -> list[tuple[int, ...]]:
        return [(64,), (8, 8)]


class RandomFlipAugmentation:
    """Draws one coin per sample and axis, then copies each sample from the view of its flip."""

    def __init__(self, spec: RandomFlip, sample_shape: Shape) -> None:
        self.spec = spec
        self._out = Scratch(image_shape(sample_shape))

    def __call__(self, x: Array, rng: np.random.Generator) -> Array:
        n = len(x)
        if self.spec.axis == "both":
            coins = rng.random((2, n)) < self.spec.probability
            code = coins[0] * 1 + coins[1] * 2
        else:
            code = (rng.random(n) < self.spec.probability) * (1 if self.spec.axis == "vertical" else 2)
        out = self._out.get(n, x.dtype)

        def work(rows: slice) -> None:
            block, source, codes = out[rows], x[rows], code[rows]
            block[...] = source
            for flip, axes in FLIPPED.items():
                picked = np.flatnonzero(codes == flip)
                if len(picked):
                    block[picked] = np.flip(source[picked], axes)

        for_rows(work, n, out[:1].nbytes)
        return out


@hookimpl
def plugnn_register_augmentations(register: Register) -> None:
    register("random_flip", RandomFlip, RandomFlipAugmentation)
