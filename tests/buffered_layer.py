r"""A small layer with a buffer, for the tests of buffers, modes and the conformance kit.

``center``: per channel (the last axis), training mode subtracts the batch mean and moves a running
mean towards it, inference mode subtracts the running mean (batch norm without the scaling):

.. math::

    \text{training: } Y = X - \bar X,\ r \leftarrow (1 - m) r + m \bar X, \qquad
    \partial L/\partial X = G - \bar G; \qquad
    \text{inference: } Y = X - r,\ \partial L/\partial X = G

with the means over every axis but the last.
"""

from __future__ import annotations

import attrs
import numpy as np

import plugnn


@attrs.frozen
class Center(plugnn.LayerSpec):
    momentum: float = 0.5

    @classmethod
    def example_input_shapes(cls) -> list[tuple[int, ...]]:
        return [(4,), (3, 2, 2)]


class CenterLayer:
    def __init__(self, spec: Center, input_shape: tuple[int, ...], ctx: plugnn.BuildContext) -> None:
        self.momentum = spec.momentum
        self.output_shape = input_shape
        self.params, self.grads = {}, {}
        self.buffers = {"mean": np.zeros(input_shape[-1], dtype=ctx.dtype)}
        self._training = False

    def forward(self, x, *, training=False):
        self._training = training
        axes = tuple(range(x.ndim - 1))
        if not training:
            return x - self.buffers["mean"]
        mean = x.mean(axis=axes)
        self.buffers["mean"] *= 1 - self.momentum
        self.buffers["mean"] += self.momentum * mean
        return x - mean

    def backward(self, grad_out, *, input_grad=True):
        if not input_grad:
            return None
        if not self._training:
            return grad_out
        return grad_out - grad_out.mean(axis=tuple(range(grad_out.ndim - 1)))


class CenterPlugin:
    @plugnn.hookimpl
    def plugnn_register_layers(self, register):
        register("center", Center, CenterLayer)


def registry_with(*plugins: object) -> plugnn.Registry:
    """plugnn's own components plus ``plugins``."""
    return plugnn.load_registry(strict=True, third_party=False, extra_plugins=list(plugins))
