r"""Logistic sigmoid, element-wise. ``(N, *shape) -> (N, *shape)``.

.. math:: Y = \sigma(X) = \tfrac12 (1 + \tanh(X/2)), \qquad \partial L/\partial X = G \odot Y (1 - Y)

The tanh form never overflows, unlike :math:`1/(1+e^{-X})` for large negative ``X``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import numpy as np

from plugnn import LayerSpec, hookimpl
from plugnn.layers import ParameterFreeLayer
from plugnn.protocols import Array

if TYPE_CHECKING:
    from plugnn.export import OnnxGraph


@attrs.frozen
class Sigmoid(LayerSpec):
    """Sigmoid activation; has no settings."""


class SigmoidLayer(ParameterFreeLayer):
    def forward(self, x: Array, *, training: bool = False) -> Array:
        y = np.tanh(x * 0.5)
        y += 1
        y *= 0.5
        self._y = y
        return y

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        return grad_out * self._y * (1 - self._y) if input_grad else None


@hookimpl
def plugnn_register_layers(register) -> None:
    register("sigmoid", Sigmoid, SigmoidLayer)


def to_onnx(layer: SigmoidLayer, spec: Sigmoid, x: str, graph: OnnxGraph) -> str:
    """ONNX ``Sigmoid``."""
    return graph.node("Sigmoid", [x])


@hookimpl
def plugnn_register_onnx_converters(register) -> None:
    register("sigmoid", to_onnx)
