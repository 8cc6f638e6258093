r"""The rectified linear unit, element-wise. ``(N, D) -> (N, D)``.

.. math::

    Y = \max(X, 0), \qquad \frac{\partial L}{\partial X} = G \odot [X > 0]

(the sub-gradient at 0 is taken as 0, as in PyTorch).
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import BuildContext, LayerSpec, hookimpl
from plugnn.protocols import Array
from plugnn.registry import Register


@attrs.frozen
class ReLU(LayerSpec):
    """ReLU activation; has no settings."""


class ReLULayer:
    """Runtime ReLU: keeps the mask ``X > 0`` from the forward pass for the backward pass."""

    def __init__(self, spec: ReLU, in_features: int, ctx: BuildContext) -> None:
        self.out_features = in_features
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self._active: np.ndarray | None = None

    def forward(self, x: Array, *, training: bool = False) -> Array:
        self._active = x > 0
        return np.maximum(x, 0)

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        if not input_grad:
            return None
        return grad_out * self._active


@hookimpl
def plugnn_register_layers(register: Register) -> None:
    register("relu", ReLU, ReLULayer)
