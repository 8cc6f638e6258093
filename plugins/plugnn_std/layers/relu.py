r"""The rectified linear unit, element-wise. ``(N, *shape) -> (N, *shape)``.

.. math::

    Y = \max(X, 0), \qquad \frac{\partial L}{\partial X} = G \odot [X > 0]

(the sub-gradient at 0 is taken as 0, as in PyTorch). Both passes are :mod:`plugnn.kernels.activation`'s,
in blocks of rows on the run's threads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs
import numpy as np

from plugnn import LayerSpec, hookimpl
from plugnn.kernels import activation as kernels
from plugnn.layers import ParameterFreeLayer
from plugnn.protocols import Array
from plugnn.registry import Register

if TYPE_CHECKING:
    from plugnn.export import OnnxGraph


@attrs.frozen
class ReLU(LayerSpec):
    """ReLU activation; has no settings."""


class ReLULayer(ParameterFreeLayer):
    """Runtime ReLU: keeps its output ``Y``; ``Y > 0`` exactly where ``X > 0``."""

    def forward(self, x: Array, *, training: bool = False) -> Array:
        y = self._y = np.empty_like(x)
        kernels.relu(x, y)
        return y

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        if not input_grad:
            return None
        kernels.relu_backward(grad_out, self._y)  # the protocol lets us reuse grad_out
        return grad_out


@hookimpl
def plugnn_register_layers(register: Register) -> None:
    register("relu", ReLU, ReLULayer)


def to_onnx(layer: ReLULayer, spec: ReLU, x: str, graph: OnnxGraph) -> str:
    """ONNX ``Relu``."""
    return graph.node("Relu", [x])


@hookimpl
def plugnn_register_onnx_converters(register: Callable[[str, Callable[..., str]], None]) -> None:
    register("relu", to_onnx)
