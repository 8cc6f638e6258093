"""ONNX export: a plugnn model as an ONNX graph that onnxruntime (or any ONNX runtime) runs.

Each layer type contributes its own nodes through a converter its plugin registers with the
``plugnn_register_onnx_converters`` hook (``register(layer_name, converter)``), so third-party layers
export too. A converter is called as ``converter(layer, spec, x, graph) -> y``: ``layer`` is the built
layer (its ``params`` and ``buffers`` hold the values), ``spec`` its spec, ``x`` the name of its input
tensor ``(N, *input_shape)`` and ``graph`` an :class:`OnnxGraph` to add nodes and constants to; it
returns the name of its output tensor ``(N, *output_shape)``. Tensors are channels-last, as in plugnn.
A composite layer's converter converts its children with :meth:`OnnxGraph.convert`, which finds
each child's converter through the registry the export was given.

The graph has one input ``input`` ``(N, *input_shape)`` and the output ``output``, the network's
``(N, C)`` outputs (logits for a classifier); a classifier also gets ``probabilities``, their softmax.
The ``onnx`` package is an optional extra: ``pip install plugnn[onnx]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from plugnn.atomicfile import write_bytes
from plugnn.builder import resolve
from plugnn.errors import PlugnnError
from plugnn.network import Network
from plugnn.plugins import default_registry
from plugnn.protocols import Layer, Shape
from plugnn.registry import Registry
from plugnn.specs import LayerRef

OPSET = 17
"""The ONNX operator set the graphs use (onnxruntime runs it; opset 17 has LayerNormalization et al.)."""


def require_onnx() -> Any:
    """The ``onnx`` module, or a :class:`PlugnnError` naming the extra to install."""
    try:
        import onnx
    except ImportError:
        raise PlugnnError("ONNX export needs the onnx package: pip install plugnn[onnx]") from None
    return onnx


class OnnxGraph:
    """What a converter adds its nodes and constants to; names are made unique per layer.

    Attributes
    ----------
    dtype : numpy.dtype
        The model's dtype; constants are stored in it.
    registry : Registry
        Where :meth:`convert` finds each layer's spec class and converter.
    prefix : str
        The current layer's path (``layers[3]``, ``layers[3].layers[0]``), put before every name the
        converter adds.
    """

    def __init__(self, dtype: np.dtype, registry: Registry) -> None:
        self._onnx = require_onnx()
        self.dtype = np.dtype(dtype)
        self.registry = registry
        self.prefix = ""
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{self.prefix}/{hint}_{self._count}"

    def constant(self, value: Any, hint: str = "const", dtype: Any = None) -> str:
        """Add ``value`` as a constant (in the model's dtype unless ``dtype`` is given); returns its name."""
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        name = self._name(hint)
        self.initializers.append(self._onnx.numpy_helper.from_array(array, name))
        return name

    def node(self, op_type: str, inputs: list[str], **attributes: Any) -> str:
        """Add one ONNX node ``op_type`` (``"Gemm"``, ``"Relu"``, ...) with one output; returns its name."""
        output = self._name(op_type.lower())
        self.nodes.append(self._onnx.helper.make_node(op_type, inputs, [output], name=output, **attributes))
        return output

    def convert(self, ref: LayerRef, layer: Layer, x: str, at: str) -> str:
        """Add the nodes of ``layer`` (built from ``ref``) on input tensor ``x``; returns its output tensor.

        ``at`` is the layer's place in its parent's spec (``"layers[0]"``), as in
        :meth:`plugnn.BuildContext.build`; its nodes' names start with the full path. A layer whose
        plugin registered no converter is a :class:`PlugnnError` naming that path.
        """
        outer = self.prefix
        path = f"{outer}.{at}" if outer else at
        component, spec = resolve(ref, "layer", self.registry, path)
        converter = self.registry.onnx_converter(component.name, path)
        self.prefix = path
        try:
            return converter(layer, spec, x, self)
        finally:
            self.prefix = outer


def export_onnx(model: Network, path: str | Path, *, registry: Registry | None = None) -> Path:
    """Write ``model`` as an ONNX model to ``path`` (atomically) and return the path.

    Every layer needs a converter (see the module docstring); a layer without one is an error naming
    it, raised before anything is written. The graph is checked with ``onnx.checker`` first.
    """
    require_onnx()
    registry = registry or default_registry()
    if not isinstance(model, Network) or model.spec is None:
        raise PlugnnError(f"export_onnx takes a Network built from a NetworkSpec, got {type(model).__name__}")
    for where, name in model.layer_names.items():
        registry.onnx_converter(name, where)  # every layer of the tree has one, before any work
    graph = OnnxGraph(model.dtype, registry)
    x = "input"
    for index, (ref, layer) in enumerate(zip(model.spec.layers, model.layers, strict=True)):
        x = graph.convert(ref, layer, x, f"layers[{index}]")
    graph.prefix = "output"
    outputs = {"output": x}
    if model.targets == "labels":
        outputs["probabilities"] = graph.node("Softmax", [x], axis=1)
    proto = _model(graph, model.input_shape, model.output_shape, outputs)
    path = Path(path)
    write_bytes(path, proto.SerializeToString())
    return path


def layer_to_onnx(
    ref: LayerRef, layer: Layer, input_shape: Shape, *, registry: Registry, dtype: Any = "float32"
) -> Any:
    """One built layer alone as a checked ``onnx.ModelProto`` (nothing is written).

    ``layer`` was built from ``ref`` (resolved in ``registry``) for samples of ``input_shape``, in
    ``dtype``; the model has the input ``input`` ``(N, *input_shape)`` and the output ``output``
    ``(N, *layer.output_shape)``, of any rank (an image layer's output is an image), and no
    ``probabilities``. Its converter runs as in :func:`export_onnx`
    (a composite's children through the registry); the conformance kit runs the model with
    onnxruntime against the layer's inference-mode forward.
    """
    require_onnx()
    graph = OnnxGraph(np.dtype(dtype), registry)
    output = graph.convert(ref, layer, "input", "layer")
    return _model(graph, input_shape, layer.output_shape, {"output": output})


def _model(graph: OnnxGraph, input_shape: Shape, output_shape: Shape, outputs: dict[str, str]) -> Any:
    """The model of ``graph``'s nodes: input ``input`` ``(N, *input_shape)``, and each output named
    as in ``outputs`` (name -> the tensor it copies), ``(N, *output_shape)``; checked by ``onnx.checker``."""
    onnx = graph._onnx
    elem = onnx.helper.np_dtype_to_tensor_dtype(graph.dtype)
    nodes = [onnx.helper.make_node("Identity", [tensor], [name], name=name) for name, tensor in outputs.items()]
    proto = onnx.helper.make_model(
        onnx.helper.make_graph(
            [*graph.nodes, *nodes],
            "plugnn",
            [onnx.helper.make_tensor_value_info("input", elem, ["N", *input_shape])],
            [onnx.helper.make_tensor_value_info(name, elem, ["N", *output_shape]) for name in outputs],
            graph.initializers,
        ),
        opset_imports=[onnx.helper.make_opsetid("", OPSET)],
        producer_name="plugnn",
    )
    onnx.checker.check_model(proto, full_check=True)
    return proto
