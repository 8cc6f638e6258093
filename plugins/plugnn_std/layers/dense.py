r"""The fully connected (affine) layer. ``(N, *input_shape) -> (N, D_out)``.

.. math::

    Y = X W + b, \qquad
    \frac{\partial L}{\partial W} = X^\top G, \qquad
    \frac{\partial L}{\partial b} = \sum_n G_n, \qquad
    \frac{\partial L}{\partial X} = G W^\top

with ``X`` ``(N, D_in)``, ``W`` ``(D_in, D_out)``, ``b`` ``(D_out,)`` and ``G = ∂L/∂Y`` ``(N, D_out)``.
An input of any per-sample shape is flattened first, ``D_in = prod(input_shape)`` (a reshape of the
C-ordered batch, no copy), so a dense layer follows an image layer (``(N, 7, 7, 64)``) with no
flatten step, and ``dL/dX`` is given back in the input's shape.
``W`` is drawn by the layer's initializer (the network default unless ``init`` names one) with
``fan_in = D_in`` and ``fan_out = D_out``; ``b`` starts at zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs
import numpy as np

from plugnn import BuildContext, InitializerSpec, LayerSpec, hookimpl
from plugnn import validators as v
from plugnn.memory import ensure_fits
from plugnn.protocols import Array
from plugnn.registry import Register
from plugnn.specs import InitializerRef, component_ref

if TYPE_CHECKING:
    from plugnn.export import OnnxGraph


@attrs.frozen
class Dense(LayerSpec):
    """A dense layer of ``units`` outputs.

    Parameters
    ----------
    units : int
        Output width ``D_out`` (> 0). The input width ``D_in`` is inferred from the previous layer:
        the product of its output shape.
    init : str or InitializerSpec, optional
        Initializer of ``W``; the network's default when omitted.
    """

    units: int = attrs.field(validator=[v.integer, v.positive, v.at_most(v.MAX_UNITS, "plugnn.validators.MAX_UNITS")])
    init: InitializerRef | None = attrs.field(default=None, validator=component_ref(InitializerSpec, optional=True))

    @classmethod
    def examples(cls) -> list[Dense]:
        return [cls(units=3), cls(units=1, init="glorot")]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"units": 0}, {"units": -3}, {"init": "no-such-initializer"}]


class DenseLayer:
    """Runtime dense layer with parameters ``W`` ``(D_in, D_out)`` and ``b`` ``(D_out,)``."""

    def __init__(self, spec: Dense, input_shape: tuple[int, ...], ctx: BuildContext) -> None:
        d_in = math.prod(input_shape)
        # W, its gradient, their flat copies in the network and two optimizer moments
        ensure_fits(6 * (d_in + 1) * spec.units * ctx.dtype.itemsize, f"{ctx.path}: dense {d_in}x{spec.units}")
        init = ctx.initializer(spec.init)
        weights = init((d_in, spec.units), fan_in=d_in, fan_out=spec.units, rng=ctx.rng, dtype=ctx.dtype)
        self.input_shape = input_shape
        self.output_shape = (spec.units,)
        self.params = {"W": weights, "b": np.zeros(spec.units, dtype=ctx.dtype)}
        self.grads = {name: np.zeros_like(value) for name, value in self.params.items()}
        self.buffers: dict[str, Array] = {}
        self._flattens = len(input_shape) != 1
        self._x: Array | None = None

    def forward(self, x: Array, *, training: bool = False) -> Array:
        if self._flattens:
            x = x.reshape(len(x), -1)
        self._x = x
        out = x @ self.params["W"]
        out += self.params["b"]
        return out

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        np.matmul(self._x.T, grad_out, out=self.grads["W"])
        np.sum(grad_out, axis=0, out=self.grads["b"])
        if not input_grad:
            return None
        grad_x = grad_out @ self.params["W"].T
        return grad_x.reshape(len(grad_x), *self.input_shape) if self._flattens else grad_x


@hookimpl
def plugnn_register_layers(register: Register) -> None:
    register("dense", Dense, DenseLayer)


def to_onnx(layer: DenseLayer, spec: Dense, x: str, graph: OnnxGraph) -> str:
    """``Gemm(X, W, b)``, after a ``Flatten`` (row-major, as the layer's reshape) for non-flat inputs."""
    if len(layer.input_shape) != 1:
        x = graph.node("Flatten", [x], axis=1)
    return graph.node("Gemm", [x, graph.constant(layer.params["W"], "W"), graph.constant(layer.params["b"], "b")])


@hookimpl
def plugnn_register_onnx_converters(register: Callable[[str, Callable[..., str]], None]) -> None:
    register("dense", to_onnx)
