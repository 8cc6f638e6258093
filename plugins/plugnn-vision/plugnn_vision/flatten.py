r"""Flatten: ``(N, *shape) -> (N, prod(shape))``, a reshape of the C-ordered batch (no copy).

``∂L/∂X`` is ``G`` reshaped back to ``(N, *shape)``. (plugnn's dense layer flattens its input by
itself; this layer makes the step explicit, as in Keras' ``Flatten``.)
"""

from __future__ import annotations

import math

import attrs

from plugnn import BuildContext, LayerSpec, hookimpl
from plugnn.layers import ParameterFreeLayer
from plugnn.protocols import Array


@attrs.frozen
class Flatten(LayerSpec):
    """Flatten each sample to a vector; has no settings."""

    @classmethod
    def example_input_shapes(cls) -> list[tuple[int, ...]]:
        return [(3, 4, 2), (5,), (2, 1, 3)]


class FlattenLayer(ParameterFreeLayer):
    def __init__(self, spec: Flatten, input_shape: tuple[int, ...], ctx: BuildContext) -> None:
        super().__init__(spec, input_shape, ctx)
        self.input_shape = tuple(input_shape)
        self.output_shape = (math.prod(input_shape),)

    def forward(self, x: Array, *, training: bool = False) -> Array:
        return x.reshape(len(x), *self.output_shape)

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        return grad_out.reshape(len(grad_out), *self.input_shape) if input_grad else None


@hookimpl
def plugnn_register_layers(register) -> None:
    register("flatten", Flatten, FlattenLayer)
