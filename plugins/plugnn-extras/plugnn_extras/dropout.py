r"""Inverted dropout. ``(N, *shape) -> (N, *shape)``.

In training, each unit is kept with probability :math:`1 - p` and scaled by :math:`1/(1 - p)`:

.. math::

    M_{nd} = \frac{[U_{nd} \ge p]}{1 - p},\ U \sim \mathcal U[0, 1), \qquad
    Y = X \odot M, \qquad \partial L/\partial X = G \odot M

so the expected output equals the input and inference is the identity. The mask ``U`` is drawn
from the network's ``noise`` generator, so a seed (and a checkpoint) fixes every mask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from plugnn import BuildContext, LayerSpec, hookimpl
from plugnn import validators as v
from plugnn.layers import ParameterFreeLayer
from plugnn.protocols import Array

if TYPE_CHECKING:
    from plugnn.export import OnnxGraph


@attrs.frozen
class Dropout(LayerSpec):
    """Dropout with drop probability ``rate`` in [0, 1)."""

    rate: float = attrs.field(default=0.5, validator=v.in_range(0.0, 1.0))

    @classmethod
    def examples(cls) -> list[Dropout]:
        return [cls(rate=0.5), cls(rate=0.0)]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"rate": 1.0}, {"rate": -0.5}]


class DropoutLayer(ParameterFreeLayer):
    def __init__(self, spec: Dropout, input_shape: tuple[int, ...], ctx: BuildContext) -> None:
        super().__init__(spec, input_shape, ctx)
        self.rate = spec.rate
        self.noise = ctx.noise
        self._mask: Array | None = None

    def forward(self, x: Array, *, training: bool = False) -> Array:
        if not training or self.rate == 0:
            self._mask = None
            return x
        keep = self.noise.random(x.shape, dtype=x.dtype) >= self.rate
        self._mask = keep.astype(x.dtype) / x.dtype.type(1 - self.rate)
        return x * self._mask

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        if not input_grad:
            return None
        return grad_out if self._mask is None else grad_out * self._mask


@hookimpl
def plugnn_register_layers(register) -> None:
    register("dropout", Dropout, DropoutLayer)


def to_onnx(layer: DropoutLayer, spec: Dropout, x: str, graph: OnnxGraph) -> str:
    """Dropout is the identity at inference: ONNX ``Identity``."""
    return graph.node("Identity", [x])


@hookimpl
def plugnn_register_onnx_converters(register) -> None:
    register("dropout", to_onnx)
