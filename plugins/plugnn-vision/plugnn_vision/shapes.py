"""The shape rule every image layer shares: a per-sample input ``(H, W, C)``, or a ShapeError naming the fix."""

from __future__ import annotations

from plugnn import ShapeError


def image_shape(input_shape: tuple[int, ...], layer: str) -> tuple[int, int, int]:
    """``(H, W, C)`` of an image layer's per-sample input, or :class:`plugnn.ShapeError` with the fix."""
    if len(input_shape) == 3:
        height, width, channels = input_shape
        return height, width, channels
    if len(input_shape) == 1:
        fix = (
            "images come as (H, W, C): move the flatten (or dense) layer after the last convolution or pooling "
            "layer, or give the data its image shape"
        )
    else:
        fix = "channels-last images (H, W, C) are expected"
    raise ShapeError(f"{layer} needs a per-sample input of shape (H, W, C), got {input_shape}; {fix}")
