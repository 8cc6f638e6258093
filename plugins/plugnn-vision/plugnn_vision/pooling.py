r"""Pooling layers, channels-last: ``max_pool2d`` and ``avg_pool2d`` ``(N, H, W, C) -> (N, H', W', C)``,
``global_avg_pool2d`` ``(N, H, W, C) -> (N, C)``.

Windows are ``p × p`` moved by stride ``s`` (``s = p`` when not given), ``H' = (H − p) // s + 1``:
rows and columns no window reaches are dropped (Keras' "valid" pooling, so 11 rows pool to 5).
The maths and the tie rule of max pooling are in :mod:`plugnn_vision.ops.pooling`. Global average
pooling is ``Y[n, c] = (1/HW) Σ_{i,j} X[n, i, j, c]`` and ``∂L/∂X[n, i, j, c] = G[n, c] / HW``.
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import BuildContext, LayerSpec, ShapeError, hookimpl
from plugnn import validators as v
from plugnn.protocols import Array
from plugnn_vision.ops import pooling
from plugnn_vision.shapes import image_shape


def _optional_positive_int(instance: object, attribute: attrs.Attribute[object], value: object) -> None:
    if value is not None:
        v.integer(instance, attribute, value)
        v.positive(instance, attribute, value)


@attrs.frozen
class Pool2D(LayerSpec):
    """The settings of a window pool: ``pool_size × pool_size`` windows moved by ``stride`` (default: ``pool_size``)."""

    pool_size: int = attrs.field(default=2, validator=[v.integer, v.positive])
    stride: int | None = attrs.field(default=None, validator=_optional_positive_int)

    @classmethod
    def examples(cls) -> list[Pool2D]:
        return [cls(), cls(pool_size=3, stride=2), cls(pool_size=2, stride=1)]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"pool_size": 0}, {"pool_size": 1.5}, {"stride": 0}, {"stride": -2}]

    @classmethod
    def example_input_shapes(cls) -> list[tuple[int, ...]]:
        return [(4, 5, 2), (7, 7, 1), (3, 6, 3)]

    @classmethod
    def invalid_input_shapes(cls) -> list[tuple[int, ...]]:
        return [(64,), (1, 1, 2), (6, 6)]


@attrs.frozen
class MaxPool2D(Pool2D):
    """Max over ``pool_size × pool_size`` windows moved by ``stride`` (default: ``pool_size``)."""


@attrs.frozen
class AvgPool2D(Pool2D):
    """Mean over ``pool_size × pool_size`` windows moved by ``stride`` (default: ``pool_size``)."""


class _Pool2DLayer:
    """Shared set-up of the window pools: the output shape, or a ShapeError when a window does not fit."""

    name = ""

    def __init__(self, spec: Pool2D, input_shape: tuple[int, ...], ctx: BuildContext) -> None:
        height, width, channels = image_shape(input_shape, self.name)
        self.pool = spec.pool_size
        self.stride = spec.stride if spec.stride is not None else spec.pool_size
        if self.pool > min(height, width):
            raise ShapeError(
                f"pool {self.pool}x{self.pool} is larger than the input {tuple(input_shape)}; "
                "use a smaller pool_size or fewer pooling layers before it"
            )
        self.input_shape = (height, width, channels)
        rows, cols = ((size - self.pool) // self.stride + 1 for size in (height, width))
        self.output_shape = (rows, cols, channels)
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.buffers: dict[str, Array] = {}


class MaxPool2DLayer(_Pool2DLayer):
    name = "max_pool2d"

    def forward(self, x: Array, *, training: bool = False) -> Array:
        y, self._winner = pooling.max_pool(x, self.pool, self.stride)
        return y

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        if not input_grad:
            return None
        shape = (len(grad_out), *self.input_shape)
        return pooling.max_pool_backward(grad_out, self._winner, shape, self.pool, self.stride)


class AvgPool2DLayer(_Pool2DLayer):
    name = "avg_pool2d"

    def forward(self, x: Array, *, training: bool = False) -> Array:
        return pooling.avg_pool(x, self.pool, self.stride)

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        if not input_grad:
            return None
        return pooling.avg_pool_backward(grad_out, (len(grad_out), *self.input_shape), self.pool, self.stride)


@attrs.frozen
class GlobalAvgPool2D(LayerSpec):
    """The mean of each channel over the whole image; has no settings."""

    @classmethod
    def example_input_shapes(cls) -> list[tuple[int, ...]]:
        return [(3, 4, 2), (1, 1, 3), (5, 5, 1)]

    @classmethod
    def invalid_input_shapes(cls) -> list[tuple[int, ...]]:
        return [(64,), (4, 4)]


class GlobalAvgPool2DLayer:
    def __init__(self, spec: GlobalAvgPool2D, input_shape: tuple[int, ...], ctx: BuildContext) -> None:
        self.input_shape = image_shape(input_shape, "global_avg_pool2d")
        self.output_shape = (self.input_shape[2],)
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.buffers: dict[str, Array] = {}

    def forward(self, x: Array, *, training: bool = False) -> Array:
        return x.mean(axis=(1, 2))

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        if not input_grad:
            return None
        height, width, _ = self.input_shape
        dx = np.empty((len(grad_out), *self.input_shape), dtype=grad_out.dtype)
        dx[...] = (grad_out * grad_out.dtype.type(1 / (height * width)))[:, None, None, :]
        return dx


@hookimpl
def plugnn_register_layers(register) -> None:
    register("max_pool2d", MaxPool2D, MaxPool2DLayer)
    register("avg_pool2d", AvgPool2D, AvgPool2DLayer)
    register("global_avg_pool2d", GlobalAvgPool2D, GlobalAvgPool2DLayer)
