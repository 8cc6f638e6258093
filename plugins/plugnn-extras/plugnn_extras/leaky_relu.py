r"""Leaky ReLU, element-wise. ``(N, *shape) -> (N, *shape)``.

.. math::

    Y = \begin{cases} X & X > 0 \\ \alpha X & \text{otherwise} \end{cases}, \qquad
    \partial L/\partial X = G \odot \begin{cases} 1 & X > 0 \\ \alpha & \text{otherwise} \end{cases}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import numpy as np

from plugnn import LayerSpec, hookimpl
from plugnn import validators as v
from plugnn.layers import ParameterFreeLayer
from plugnn.protocols import Array

if TYPE_CHECKING:
    from plugnn.export import OnnxGraph


@attrs.frozen
class LeakyReLU(LayerSpec):
    """Leaky ReLU with negative ``slope`` α in [0, 1) (0.01 by default)."""

    slope: float = attrs.field(default=0.01, validator=v.in_range(0.0, 1.0))

    @classmethod
    def examples(cls) -> list[LeakyReLU]:
        return [cls(), cls(slope=0.2)]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"slope": 1.0}, {"slope": -0.1}]


class LeakyReLULayer(ParameterFreeLayer):
    def forward(self, x: Array, *, training: bool = False) -> Array:
        self._scale = np.where(x > 0, 1, self.spec.slope).astype(x.dtype)
        return x * self._scale

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        return grad_out * self._scale if input_grad else None


@hookimpl
def plugnn_register_layers(register) -> None:
    register("leaky_relu", LeakyReLU, LeakyReLULayer)


def to_onnx(layer: LeakyReLULayer, spec: LeakyReLU, x: str, graph: OnnxGraph) -> str:
    """ONNX ``LeakyRelu`` with ``alpha`` = the slope."""
    return graph.node("LeakyRelu", [x], alpha=float(spec.slope))


@hookimpl
def plugnn_register_onnx_converters(register) -> None:
    register("leaky_relu", to_onnx)
