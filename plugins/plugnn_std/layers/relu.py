r"""The rectified linear unit, element-wise. ``(N, *shape) -> (N, *shape)``.

.. math::

    Y = \max(X, 0), \qquad \frac{\partial L}{\partial X} = G \odot [X > 0]

(the sub-gradient at 0 is taken as 0, as in PyTorch). Both passes run in blocks of rows on the
run's threads (:func:`plugnn.parallel.for_rows`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs
import numpy as np

from plugnn import LayerSpec, hookimpl
from plugnn.layers import ParameterFreeLayer
from plugnn.parallel import for_rows
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
        for_rows(lambda rows: np.maximum(x[rows], 0, out=y[rows]), len(x), x[:1].nbytes)
        return y

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        if not input_grad:
            return None
        y = self._y

        def mask(rows: slice) -> None:
            np.multiply(grad_out[rows], y[rows] > 0, out=grad_out[rows])  # the protocol lets us reuse grad_out

        for_rows(mask, len(y), y[:1].nbytes)
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
