"""Per-sample shapes: checking them, writing them, and checking what a layer factory built.

A shape is the shape of ONE sample, without the batch axis: ``(784,)`` for flat features,
``(28, 28, 1)`` for a channels-last image. An int ``D`` given where a shape is expected means ``(D,)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plugnn.errors import PlugnnError, ShapeError
from plugnn.protocols import Layer, Shape

PROTOCOL_HELP = "see docs/writing-plugins.md, 'The layer protocol'"


def as_shape(value: Any, what: str = "input_shape") -> Shape:
    """``value`` as a tuple of positive ints (an int ``D`` is ``(D,)``); :class:`ShapeError` otherwise."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    dims = tuple(value) if isinstance(value, (tuple, list)) else None
    if not dims or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 1 for d in dims):
        raise ShapeError(
            f"{what}: expected a per-sample shape, a tuple of positive integers such as (784,) or (28, 28, 1), "
            f"got {value!r}"
        )
    return tuple(int(d) for d in dims)


def batch_of(shape: Shape) -> str:
    """``(N, 8, 8, 1)``: a batch of samples of ``shape``, as messages and summaries write it."""
    return "(" + ", ".join(["N", *map(str, shape)]) + ")"


def check_built(layer: Any, where: str, plugin: str) -> Shape:
    """The output shape of a layer a factory just built; a clear error when it breaks the protocol.

    ``where`` is ``layers[3] (conv2d)``. A layer of the v0.1 protocol (``out_features``, no
    ``output_shape``) is named as such, so its author knows what to change.
    """
    if not hasattr(layer, "output_shape"):
        if hasattr(layer, "out_features"):
            raise PlugnnError(
                f"{where}, from plugin {plugin!r}: follows the v0.1 layer protocol (out_features); a plugnn 0.2 "
                f"layer is built for an input_shape tuple and declares output_shape, a tuple; {PROTOCOL_HELP}"
            )
        raise PlugnnError(f"{where}, from plugin {plugin!r}: the built layer has no output_shape; {PROTOCOL_HELP}")
    if not isinstance(layer, Layer):
        missing = [n for n in ("params", "grads", "buffers", "forward", "backward") if not hasattr(layer, n)]
        raise PlugnnError(
            f"{where}, from plugin {plugin!r}: not a plugnn Layer, it lacks {', '.join(missing)} "
            f"(a layer without buffers sets self.buffers = {{}}); {PROTOCOL_HELP}"
        )
    try:
        return as_shape(layer.output_shape, "output_shape")
    except ShapeError as exc:
        raise PlugnnError(f"{where}, from plugin {plugin!r}: {exc}") from None
