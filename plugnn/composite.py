r"""Building blocks for composite layers: a chain of child layers, run forward and backward.

A composite layer's factory builds its children through :meth:`plugnn.BuildContext.build` and
lists them in ``children`` (:mod:`plugnn.layertree`); :class:`Chain` does both for layers applied
in order, and :func:`forward_chain` / :func:`backward_chain` run any list of layers the way the
network runs its own.

**The ``grad_out`` rule.** A layer's ``backward(grad_out)`` may overwrite ``grad_out`` (ReLU
multiplies its mask into it in place). A composite that needs the upstream gradient after handing
it to a child — a residual block's skip path, the branches of an ``add`` merge — must give the child
a copy, or finish its own use of the gradient first. The arrays a child's ``backward`` returns are
the caller's to overwrite. The conformance kit checks this rule for every composite layer
(``check_grad_out_reuse``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from plugnn.protocols import Array, Layer, LayerBuilder, Shape
from plugnn.shapes import as_shape

if TYPE_CHECKING:
    from plugnn.specs import LayerRef


def forward_chain(layers: Sequence[Layer], x: Array, *, training: bool) -> Array:
    """``layers[-1](... layers[0](x))``: ``(N, *input_shape) -> (N, *output_shape)``."""
    for layer in layers:
        x = layer.forward(x, training=training)
    return x


def backward_chain(layers: Sequence[Layer], grad: Array, *, input_grad: bool) -> Array | None:
    r"""Back-propagate :math:`\partial L/\partial Y` through ``layers`` (last first), filling their grads.

    Returns :math:`\partial L/\partial X` for the first layer's input, or None when ``input_grad``
    is False (then the first layer computes none).
    """
    for layer in layers[:0:-1]:
        grad = layer.backward(grad, input_grad=True)  # type: ignore[assignment]
    return layers[0].backward(grad, input_grad=input_grad)


class Chain:
    """Child layers applied in order, built for one input shape: the body of a block.

    ``Chain(refs, input_shape, ctx, at="layers")`` builds ``refs[i]`` at ``<ctx.path>.layers[i]``,
    each for the previous one's output shape. A composite layer keeps the chain and adds
    ``chain.children`` to its own ``children``.

    Attributes
    ----------
    layers : list[Layer]
        The built layers, in order.
    children : dict[str, Layer]
        The same, keyed by their place in the parent's spec (``"layers[0]"``, ...).
    output_shape : tuple[int, ...]
        The last layer's output shape.
    """

    def __init__(self, refs: Sequence[LayerRef], input_shape: Shape, ctx: LayerBuilder, at: str = "layers") -> None:
        self.layers: list[Layer] = []
        self.children: dict[str, Layer] = {}
        shape = input_shape
        for index, ref in enumerate(refs):
            layer = ctx.build(ref, shape, f"{at}[{index}]")
            self.layers.append(layer)
            self.children[f"{at}[{index}]"] = layer
            shape = as_shape(layer.output_shape)
        self.output_shape = shape

    def forward(self, x: Array, *, training: bool) -> Array:
        """The last layer's output, ``(N, *output_shape)``."""
        return forward_chain(self.layers, x, training=training)

    def backward(self, grad: Array, *, input_grad: bool) -> Array | None:
        """The gradient for the first layer's input (or None); may overwrite ``grad``."""
        return backward_chain(self.layers, grad, input_grad=input_grad)
