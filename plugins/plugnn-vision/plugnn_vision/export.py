"""ONNX converters of the vision layers (``plugnn export``; see :mod:`plugnn.export`).

plugnn's images are channels-last ``(N, H, W, C)``; ONNX's ``Conv``, ``MaxPool`` and ``AveragePool``
take ``(N, C, H, W)``. Each of those layers is therefore a ``Transpose`` to NCHW, the operator and a
``Transpose`` back, so every layer keeps plugnn's layout at its boundaries (a runtime's optimizer
fuses the back-to-back transposes of consecutive layers). Batch norm is its inference form, the
affine map ``Y = X·scale + shift`` per channel that plugnn computes, broadcast over the last axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from plugnn import hookimpl

if TYPE_CHECKING:
    from plugnn.export import OnnxGraph

TO_NCHW, TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]


def _nchw(graph: OnnxGraph, x: str, op_type: str, inputs: list[str], **attributes: Any) -> str:
    """``op_type`` applied in NCHW to the NHWC tensor ``x``; returns the NHWC result."""
    y = graph.node(op_type, [graph.node("Transpose", [x], perm=TO_NCHW), *inputs], **attributes)
    return graph.node("Transpose", [y], perm=TO_NHWC)


def conv2d(layer: Any, spec: Any, x: str, graph: OnnxGraph) -> str:
    """``Conv`` with the kernel ``(k, k, C, F)`` as ONNX's ``(F, C, k, k)``, pads (top, left, bottom, right)."""
    top, bottom, left, right = layer.pad
    inputs = [graph.constant(np.transpose(layer.params["W"], (3, 2, 0, 1)), "W")]
    if "b" in layer.params:
        inputs.append(graph.constant(layer.params["b"], "b"))
    kernel, stride = list(layer.kernel), [layer.stride, layer.stride]
    y = graph.node(
        "Conv",
        [graph.node("Transpose", [x], perm=TO_NCHW), *inputs],
        kernel_shape=kernel,
        strides=stride,
        pads=[top, left, bottom, right],
    )
    if layer.relu:
        y = graph.node("Relu", [y])
    return graph.node("Transpose", [y], perm=TO_NHWC)


def max_pool2d(layer: Any, spec: Any, x: str, graph: OnnxGraph) -> str:
    """``MaxPool``, no padding (``H' = (H − p) // s + 1``, as plugnn)."""
    return _nchw(graph, x, "MaxPool", [], kernel_shape=[layer.pool] * 2, strides=[layer.stride] * 2)


def avg_pool2d(layer: Any, spec: Any, x: str, graph: OnnxGraph) -> str:
    """``AveragePool``, no padding."""
    return _nchw(graph, x, "AveragePool", [], kernel_shape=[layer.pool] * 2, strides=[layer.stride] * 2)


def global_avg_pool2d(layer: Any, spec: Any, x: str, graph: OnnxGraph) -> str:
    """``ReduceMean`` over height and width: ``(N, H, W, C) -> (N, C)``."""
    return graph.node("ReduceMean", [x], axes=[1, 2], keepdims=0)


def flatten(layer: Any, spec: Any, x: str, graph: OnnxGraph) -> str:
    """``Flatten`` (row-major, as plugnn's reshape of the channels-last batch)."""
    return graph.node("Flatten", [x], axis=1)


def batch_norm(layer: Any, spec: Any, x: str, graph: OnnxGraph) -> str:
    """Inference batch norm as plugnn computes it: ``X·scale + (β − μ·scale)``, ``scale = γ / √(σ² + ε)``."""
    mean, var = layer.buffers["running_mean"], layer.buffers["running_var"]
    scale = layer.params["gamma"] * (1 / np.sqrt(var + var.dtype.type(layer.eps)))
    shift = layer.params["beta"] - mean * scale
    return graph.node("Add", [graph.node("Mul", [x, graph.constant(scale, "scale")]), graph.constant(shift, "shift")])


@hookimpl
def plugnn_register_onnx_converters(register: Callable[[str, Callable[..., str]], None]) -> None:
    for name, converter in [
        ("conv2d", conv2d),
        ("max_pool2d", max_pool2d),
        ("avg_pool2d", avg_pool2d),
        ("global_avg_pool2d", global_avg_pool2d),
        ("flatten", flatten),
        ("batch_norm", batch_norm),
    ]:
        register(name, converter)
