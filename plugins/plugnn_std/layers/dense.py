r"""The fully connected (affine) layer. ``(N, D_in) -> (N, D_out)``.

.. math::

    Y = X W + b, \qquad
    \frac{\partial L}{\partial W} = X^\top G, \qquad
    \frac{\partial L}{\partial b} = \sum_n G_n, \qquad
    \frac{\partial L}{\partial X} = G W^\top

with ``X`` ``(N, D_in)``, ``W`` ``(D_in, D_out)``, ``b`` ``(D_out,)`` and ``G = ∂L/∂Y`` ``(N, D_out)``.
``W`` is drawn by the layer's initializer (the network default unless ``init`` names one) with
``fan_in = D_in`` and ``fan_out = D_out``; ``b`` starts at zero.
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import BuildContext, InitializerSpec, LayerSpec, hookimpl
from plugnn import validators as v
from plugnn.protocols import Array
from plugnn.registry import Register
from plugnn.specs import InitializerRef, component_ref


@attrs.frozen
class Dense(LayerSpec):
    """A dense layer of ``units`` outputs.

    Parameters
    ----------
    units : int
        Output width ``D_out`` (> 0). The input width is inferred from the previous layer.
    init : str or InitializerSpec, optional
        Initializer of ``W``; the network's default when omitted.
    """

    units: int = attrs.field(validator=[v.integer, v.positive])
    init: InitializerRef | None = attrs.field(default=None, validator=component_ref(InitializerSpec, optional=True))

    @classmethod
    def examples(cls) -> list[Dense]:
        return [cls(units=3), cls(units=1, init="glorot")]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"units": 0}, {"units": -3}, {"init": "no-such-initializer"}]


class DenseLayer:
    """Runtime dense layer with parameters ``W`` ``(D_in, D_out)`` and ``b`` ``(D_out,)``."""

    def __init__(self, spec: Dense, in_features: int, ctx: BuildContext) -> None:
        init = ctx.initializer(spec.init)
        weights = init((in_features, spec.units), fan_in=in_features, fan_out=spec.units, rng=ctx.rng, dtype=ctx.dtype)
        self.out_features = spec.units
        self.params = {"W": weights, "b": np.zeros(spec.units, dtype=ctx.dtype)}
        self.grads = {name: np.zeros_like(value) for name, value in self.params.items()}
        self._x: Array | None = None

    def forward(self, x: Array, *, training: bool = False) -> Array:
        self._x = x
        out = x @ self.params["W"]
        out += self.params["b"]
        return out

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        np.matmul(self._x.T, grad_out, out=self.grads["W"])
        np.sum(grad_out, axis=0, out=self.grads["b"])
        return grad_out @ self.params["W"].T if input_grad else None


@hookimpl
def plugnn_register_layers(register: Register) -> None:
    register("dense", Dense, DenseLayer)
