r"""A block of layers applied in order: :math:`Y = f_k(\dots f_1(X))`. ``(N, *input_shape) -> (N, *output_shape)``.

The building block of composite networks: a ``residual`` or ``parallel`` branch of several layers
is a ``sequential`` block, and a block can hold blocks to any depth (up to
:data:`plugnn.builder.MAX_NESTING`). Its layers are the network's own: their parameters, buffers
and modes are handled as if they were listed at the top level, under paths such as
``layers[2].layers[0]``. Thinc's ``chain`` and Keras' ``Sequential`` are the same idea.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from plugnn import BuildContext, LayerSpec, hookimpl
from plugnn.composite import Chain
from plugnn.protocols import Array, Shape
from plugnn.registry import Register
from plugnn.specs import LayerRef, component_refs
from plugnn_std.layers.dense import Dense

if TYPE_CHECKING:
    from plugnn.export import OnnxGraph


@attrs.frozen
class Sequential(LayerSpec):
    """Layers applied in order.

    Parameters
    ----------
    layers : list of layer specs or names
        At least one; each is built for the previous one's output shape.
    """

    layers: tuple[LayerRef, ...] = attrs.field(
        converter=tuple, validator=component_refs(LayerSpec, at_least_one="a sequential block needs at least one layer")
    )

    @classmethod
    def examples(cls) -> list[Sequential]:
        return [cls(layers=(Dense(units=4), "relu", Dense(units=3))), cls(layers=(cls(layers=("relu",)),))]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"layers": []}, {"layers": [{"type": "dense", "units": 0}]}]


class SequentialLayer:
    """Runtime block: its children are its :class:`plugnn.composite.Chain`'s layers."""

    def __init__(self, spec: Sequential, input_shape: Shape, ctx: BuildContext) -> None:
        self.chain = Chain(spec.layers, input_shape, ctx)
        self.children = self.chain.children
        self.output_shape = self.chain.output_shape
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.buffers: dict[str, Array] = {}

    def forward(self, x: Array, *, training: bool = False) -> Array:
        return self.chain.forward(x, training=training)

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        return self.chain.backward(grad_out, input_grad=input_grad)


@hookimpl
def plugnn_register_layers(register: Register) -> None:
    register("sequential", Sequential, SequentialLayer)


def to_onnx(layer: SequentialLayer, spec: Sequential, x: str, graph: OnnxGraph) -> str:
    """Each child's own nodes, in order."""
    for index, (ref, child) in enumerate(zip(spec.layers, layer.chain.layers, strict=True)):
        x = graph.convert(ref, child, x, f"layers[{index}]")
    return x


@hookimpl
def plugnn_register_onnx_converters(register: Callable[[str, Callable[..., str]], None]) -> None:
    register("sequential", to_onnx)
