r"""A residual block (He et al. 2016): :math:`Y = f(X) + s(X)`. ``(N, *input_shape) -> (N, *output_shape)``.

``f`` is the block's ``layers`` applied in order; the skip path ``s`` is the identity, or the
``projection`` layer when ``f`` changes the shape (a 1×1 convolution with the same stride, or a
dense layer). Both paths must give the same shape. Backward, with :math:`G = \partial L/\partial Y`:

.. math::

    \frac{\partial L}{\partial X} = J_f^\top G + J_s^\top G \qquad (= J_f^\top G + G \text{ for the identity})

Since a child's ``backward`` may overwrite the gradient it is given (:mod:`plugnn.composite`),
``f`` gets a copy of ``G`` whenever the skip path still needs it. Put an activation after the block
(``"relu"``) for the original ResNet's post-addition ReLU. Thinc's ``residual`` and Keras'
``Add()([x, f(x)])`` are the same operation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs
import numpy as np

from plugnn import BuildContext, LayerSpec, ShapeError, hookimpl
from plugnn.composite import Chain
from plugnn.protocols import Array, Layer, Shape
from plugnn.registry import Register
from plugnn.shapes import as_shape
from plugnn.specs import LayerRef, component_ref, component_refs
from plugnn_std.layers.dense import Dense

if TYPE_CHECKING:
    from plugnn.export import OnnxGraph


@attrs.frozen
class Residual(LayerSpec):
    """``layers`` plus a skip connection.

    Parameters
    ----------
    layers : list of layer specs or names
        The residual branch ``f``, applied in order (at least one layer).
    projection : layer spec or name, optional
        The skip path ``s`` when ``f`` changes the shape; the identity when omitted.
    """

    layers: tuple[LayerRef, ...] = attrs.field(
        converter=tuple, validator=component_refs(LayerSpec, at_least_one="a residual block needs at least one layer")
    )
    projection: LayerRef | None = attrs.field(default=None, validator=component_ref(LayerSpec, optional=True))

    @classmethod
    def examples(cls) -> list[Residual]:
        return [
            cls(layers=(Dense(units=4), "relu", Dense(units=5))),
            cls(layers=(Dense(units=2), "relu"), projection=Dense(units=2)),
        ]

    @classmethod
    def example_input_shapes(cls) -> list[tuple[int, ...]]:
        return [(5,)]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"layers": []}, {"projection": {"type": "dense", "units": -1}}]


class ResidualLayer:
    """Runtime residual block: children ``layers[i]`` (the branch) and ``projection`` (if any)."""

    def __init__(self, spec: Residual, input_shape: Shape, ctx: BuildContext) -> None:
        self.body = Chain(spec.layers, input_shape, ctx)
        self.children: dict[str, Layer] = dict(self.body.children)
        self.projection: Layer | None = None
        skip_shape = input_shape
        if spec.projection is not None:
            self.projection = self.children["projection"] = ctx.build(spec.projection, input_shape, "projection")
            skip_shape = as_shape(self.projection.output_shape)
        if skip_shape != self.body.output_shape:
            hint = (
                "its projection must give the same shape"
                if spec.projection is not None
                else "add a projection that gives the same shape (a 1x1 conv2d with the same filters and stride, "
                "or a dense layer)"
            )
            raise ShapeError(
                f"{ctx.path} (residual): its layers turn input shape {input_shape} into {self.body.output_shape} "
                f"but the skip path gives {skip_shape}; {hint}"
            )
        self.output_shape = self.body.output_shape
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.buffers: dict[str, Array] = {}

    def forward(self, x: Array, *, training: bool = False) -> Array:
        out = self.body.forward(x, training=training)
        skip = x if self.projection is None else self.projection.forward(x, training=training)
        return np.add(out, skip)  # a new array: the last child may keep its output for its backward

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        needs_skip = input_grad or self.projection is not None
        grad_body = self.body.backward(grad_out.copy() if needs_skip else grad_out, input_grad=input_grad)
        if self.projection is not None:
            grad_skip = self.projection.backward(grad_out, input_grad=input_grad)
        else:
            grad_skip = grad_out
        if grad_body is None or grad_skip is None:
            return None
        grad_body += grad_skip
        return grad_body


@hookimpl
def plugnn_register_layers(register: Register) -> None:
    register("residual", Residual, ResidualLayer)


def to_onnx(layer: ResidualLayer, spec: Residual, x: str, graph: OnnxGraph) -> str:
    """The branch's nodes, the projection's (if any), and ``Add``."""
    y = x
    for index, (ref, child) in enumerate(zip(spec.layers, layer.body.layers, strict=True)):
        y = graph.convert(ref, child, y, f"layers[{index}]")
    skip = x
    if spec.projection is not None and layer.projection is not None:
        skip = graph.convert(spec.projection, layer.projection, x, "projection")
    return graph.node("Add", [y, skip])


@hookimpl
def plugnn_register_onnx_converters(register: Callable[[str, Callable[..., str]], None]) -> None:
    register("residual", to_onnx)
