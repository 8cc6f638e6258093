"""A third party's layer for the tests: ``scale``, ``Y = factor · X``, with its ONNX converter.

The module itself is the plugin (``extra_plugins=[scale_layer]``), written as an installed
plugin's module would be: one function per hook.
"""

from __future__ import annotations

import attrs

import plugnn


@attrs.frozen
class Scale(plugnn.LayerSpec):
    """``Y = factor · X``."""

    factor: float = 2.0


class ScaleLayer(plugnn.ParameterFreeLayer):
    def forward(self, x, *, training=False):
        return x * x.dtype.type(self.spec.factor)

    def backward(self, grad_out, *, input_grad=True):
        return grad_out * grad_out.dtype.type(self.spec.factor) if input_grad else None


@plugnn.hookimpl
def plugnn_register_layers(register):
    register("scale", Scale, ScaleLayer)


@plugnn.hookimpl
def plugnn_register_onnx_converters(register):
    register("scale", lambda layer, spec, x, graph: graph.node("Mul", [x, graph.constant(spec.factor)]))
