r"""Branches on the same input, merged: :math:`Y = [f_1(X), \dots, f_k(X)]` or :math:`Y = \sum_i f_i(X)`.

``(N, *input_shape) -> (N, *output_shape)``. Every branch gets the whole input. ``merge = "concat"``
joins the branches' outputs on the last (channel) axis, so they must agree on every other axis
(Inception's blocks, Keras' ``Concatenate()``, Thinc's ``concatenate``); ``merge = "add"`` sums
them, so they must have one shape (Keras' ``Add()``, Thinc's ``add``). Backward, with
:math:`G = \partial L/\partial Y`: a concat gives branch ``i`` its slice :math:`G_i` of the last axis, an
add gives every branch :math:`G` (each its own copy, since a branch may overwrite the gradient it
is given), and

.. math::

    \frac{\partial L}{\partial X} = \sum_i J_{f_i}^\top G_i .

A branch of several layers is a ``sequential`` block.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs
import numpy as np

from plugnn import BuildContext, LayerSpec, ShapeError, hookimpl
from plugnn import validators as v
from plugnn.protocols import Array, Layer, Shape
from plugnn.registry import Register
from plugnn.shapes import as_shape
from plugnn.specs import LayerRef, component_refs
from plugnn_std.layers.dense import Dense
from plugnn_std.layers.sequential import Sequential

if TYPE_CHECKING:
    from plugnn.export import OnnxGraph


@attrs.frozen
class Parallel(LayerSpec):
    """Branches applied to the same input, merged by ``merge``.

    Parameters
    ----------
    branches : list of layer specs or names
        At least one; a branch of several layers is a ``sequential`` block.
    merge : "concat" or "add"
        Join the outputs on the last axis, or sum them.
    """

    branches: tuple[LayerRef, ...] = attrs.field(
        converter=tuple, validator=component_refs(LayerSpec, at_least_one="a parallel block needs at least one branch")
    )
    merge: str = attrs.field(default="concat", validator=v.one_of(("concat", "add")))

    @classmethod
    def examples(cls) -> list[Parallel]:
        two = (Dense(units=2), Sequential(layers=("relu", Dense(units=3))))
        return [cls(branches=two), cls(branches=(Dense(units=3), "identity"), merge="add")]

    @classmethod
    def example_input_shapes(cls) -> list[tuple[int, ...]]:
        return [(3,)]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"branches": []}, {"merge": "multiply"}]


class ParallelLayer:
    """Runtime parallel block: children ``branches[i]``."""

    def __init__(self, spec: Parallel, input_shape: Shape, ctx: BuildContext) -> None:
        self.branches: list[Layer] = [
            ctx.build(ref, input_shape, f"branches[{index}]") for index, ref in enumerate(spec.branches)
        ]
        self.children = {f"branches[{index}]": branch for index, branch in enumerate(self.branches)}
        shapes = [as_shape(branch.output_shape) for branch in self.branches]
        self.merge = spec.merge
        if spec.merge == "add":
            if len(set(shapes)) > 1:
                raise ShapeError(
                    f"{ctx.path} (parallel, merge = 'add'): the branches give output shapes "
                    f"{', '.join(map(str, shapes))}; a sum needs one shape (or merge = 'concat')"
                )
            self.output_shape = shapes[0]
        else:
            if len({shape[:-1] for shape in shapes}) > 1:
                raise ShapeError(
                    f"{ctx.path} (parallel, merge = 'concat'): the branches give output shapes "
                    f"{', '.join(map(str, shapes))}; a concat on the last axis needs all other axes equal"
                )
            widths = [shape[-1] for shape in shapes]
            self.output_shape = (*shapes[0][:-1], sum(widths))
            self._splits = np.cumsum(widths)[:-1].tolist()
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.buffers: dict[str, Array] = {}

    def forward(self, x: Array, *, training: bool = False) -> Array:
        outputs = [branch.forward(x, training=training) for branch in self.branches]
        if self.merge == "concat":
            return np.concatenate(outputs, axis=-1)
        total = outputs[0].copy()  # a branch may keep its output for its backward
        for out in outputs[1:]:
            total += out
        return total

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        if self.merge == "concat":
            pieces = [np.ascontiguousarray(piece) for piece in np.split(grad_out, self._splits, axis=-1)]
        else:  # every branch but the last gets its own copy; the last may have grad_out itself
            pieces = [grad_out.copy() for _ in self.branches[1:]] + [grad_out]
        grads = [
            branch.backward(piece, input_grad=input_grad) for branch, piece in zip(self.branches, pieces, strict=True)
        ]
        if not input_grad:
            return None
        total = grads[0]
        for grad in grads[1:]:
            total += grad  # type: ignore[operator]
        return total


@hookimpl
def plugnn_register_layers(register: Register) -> None:
    register("parallel", Parallel, ParallelLayer)


def to_onnx(layer: ParallelLayer, spec: Parallel, x: str, graph: OnnxGraph) -> str:
    """Each branch's nodes, then ``Concat`` on the last axis or ``Sum``."""
    outputs = [
        graph.convert(ref, branch, x, f"branches[{index}]")
        for index, (ref, branch) in enumerate(zip(spec.branches, layer.branches, strict=True))
    ]
    if spec.merge == "concat":
        return graph.node("Concat", outputs, axis=len(layer.output_shape))
    return graph.node("Sum", outputs)


@hookimpl
def plugnn_register_onnx_converters(register: Callable[[str, Callable[..., str]], None]) -> None:
    register("parallel", to_onnx)
