r"""The identity layer: :math:`Y = X`, :math:`\partial L/\partial X = G`. ``(N, *shape) -> (N, *shape)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from plugnn import LayerSpec, hookimpl
from plugnn.layers import ParameterFreeLayer
from plugnn.protocols import Array
from plugnn.registry import Register

if TYPE_CHECKING:
    from plugnn.export import OnnxGraph


@attrs.frozen
class Identity(LayerSpec):
    """Passes its input through unchanged; has no settings."""


class IdentityLayer(ParameterFreeLayer):
    """Runtime identity layer."""

    def forward(self, x: Array, *, training: bool = False) -> Array:
        return x

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        return grad_out if input_grad else None


@hookimpl
def plugnn_register_layers(register: Register) -> None:
    register("identity", Identity, IdentityLayer)


def to_onnx(layer: IdentityLayer, spec: Identity, x: str, graph: OnnxGraph) -> str:
    """ONNX ``Identity``."""
    return graph.node("Identity", [x])


@hookimpl
def plugnn_register_onnx_converters(register: Callable[[str, Callable[..., str]], None]) -> None:
    register("identity", to_onnx)
