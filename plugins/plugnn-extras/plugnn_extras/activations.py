r"""Element-wise activations: sigmoid, tanh and leaky ReLU. ``(N, *shape) -> (N, *shape)``.

.. math::

    \text{sigmoid: } Y = \sigma(X) = \tfrac12 (1 + \tanh(X/2)), \qquad \partial L/\partial X = G \odot Y (1 - Y)

    \text{tanh: } Y = \tanh X, \qquad \partial L/\partial X = G \odot (1 - Y^2)

    \text{leaky ReLU: } Y = \begin{cases} X & X > 0 \\ \alpha X & \text{otherwise} \end{cases}, \qquad
    \partial L/\partial X = G \odot \begin{cases} 1 & X > 0 \\ \alpha & \text{otherwise} \end{cases}

The sigmoid's tanh form never overflows, unlike :math:`1/(1+e^{-X})` for large negative ``X``.
Each exports to the ONNX operator of the same name (``LeakyRelu`` with ``alpha`` = the slope).
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import LayerSpec, hookimpl
from plugnn import validators as v
from plugnn.layers import ParameterFreeLayer
from plugnn.protocols import Array


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


@attrs.frozen
class Tanh(LayerSpec):
    """tanh activation; has no settings."""


class TanhLayer(ParameterFreeLayer):
    def forward(self, x: Array, *, training: bool = False) -> Array:
        self._y = np.tanh(x)
        return self._y

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        return grad_out * (1 - self._y * self._y) if input_grad else None


@attrs.frozen
class LeakyReLU(LayerSpec):
    """Leaky ReLU with negative ``slope`` α in [0, 1) (0.01 by default; 0 is plain ReLU)."""

    slope: float = attrs.field(default=0.01, validator=v.in_range(0.0, 1.0))

    @classmethod
    def examples(cls) -> list[LeakyReLU]:
        return [cls(), cls(slope=0.2), cls(slope=0.0)]

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
    register("sigmoid", Sigmoid, SigmoidLayer)
    register("tanh", Tanh, TanhLayer)
    register("leaky_relu", LeakyReLU, LeakyReLULayer)


@hookimpl
def plugnn_register_onnx_converters(register) -> None:
    register("sigmoid", lambda layer, spec, x, graph: graph.node("Sigmoid", [x]))
    register("tanh", lambda layer, spec, x, graph: graph.node("Tanh", [x]))
    register("leaky_relu", lambda layer, spec, x, graph: graph.node("LeakyRelu", [x], alpha=float(spec.slope)))
