r"""Hyperbolic tangent, element-wise. ``(N, *shape) -> (N, *shape)``.

.. math:: Y = \tanh X, \qquad \partial L/\partial X = G \odot (1 - Y^2)
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
class Tanh(LayerSpec):
    """tanh activation; has no settings."""


class TanhLayer(ParameterFreeLayer):
    def forward(self, x: Array, *, training: bool = False) -> Array:
        self._y = np.tanh(x)
        return self._y

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        return grad_out * (1 - self._y * self._y) if input_grad else None


@hookimpl
def plugnn_register_layers(register) -> None:
    register("tanh", Tanh, TanhLayer)


def to_onnx(layer: TanhLayer, spec: Tanh, x: str, graph: OnnxGraph) -> str:
    """ONNX ``Tanh``."""
    return graph.node("Tanh", [x])


@hookimpl
def plugnn_register_onnx_converters(register) -> None:
    register("tanh", to_onnx)
