"""The conformance check of a layer's ONNX converter: onnxruntime runs it against the layer's forward.

It needs the ``onnx`` and ``onnxruntime`` packages (``pip install plugnn[kit]``) and is skipped,
with that reason, without them; a layer whose plugins register no converter is skipped too (it
trains, but models with it cannot be exported: ``plugnn plugins`` marks it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from plugnn.export import layer_to_onnx
from plugnn.registry import Component, Registry
from plugnn.testing.build import BATCH, batch, input_shapes, label, make_layer
from plugnn.testing.errors import CheckSkipped, ConformanceError

WARM_UP = 3
"""Training-mode passes before the comparison, so that running statistics (buffers) have moved."""
RTOL = 1e-4
"""Largest allowed ``|onnx - forward| / max(|forward|, 1e-2 · max |forward|)``: float32 rounding of
another summation order passes, a wrong constant (0.25 for 0.5 in a GELU) does not."""


def _runtime() -> Any:
    """onnxruntime, or :class:`CheckSkipped` naming the extra that brings it and onnx."""
    try:
        import onnx  # noqa: F401
        import onnxruntime
    except ImportError as exc:
        raise CheckSkipped(
            f"the ONNX converter check needs onnx and onnxruntime ({exc}): pip install plugnn[kit]"
        ) from None
    return onnxruntime


def check_onnx_converter(component: Component, spec: Any, registry: Registry) -> None:
    """The layer's ONNX converter computes what its inference-mode forward does (float32, onnxruntime).

    For each example input shape: the layer is built in float32, makes a few training-mode passes
    (buffers move), then a batch goes through ``forward(training=False)`` and through the layer
    exported alone (:func:`plugnn.export.layer_to_onnx`) and run by onnxruntime; shapes must match
    and values agree to :data:`RTOL`.
    """
    if component.name not in registry.onnx_converters:
        raise CheckSkipped(
            f"layer {component.name!r} has no ONNX converter, so models with it cannot be exported "
            "(a plugin adds one with the plugnn_register_onnx_converters hook)"
        )
    runtime = _runtime()
    for shape in input_shapes(spec):
        layer, _ = make_layer(component, spec, registry, input_shape=shape, dtype="float32")
        for step in range(WARM_UP):
            layer.forward(batch(shape, 7, seed=10 + step, dtype="float32"), training=True)
        x = batch(shape, BATCH + 2, seed=40, dtype="float32")
        expected = layer.forward(x.copy(), training=False)
        model = layer_to_onnx(spec, layer, shape, registry=registry, dtype="float32")
        session = runtime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        (got,) = session.run(["output"], {"input": x})
        what = f"{label(component, spec)} on input {shape}: its ONNX converter, run by onnxruntime,"
        if got.shape != expected.shape:
            raise ConformanceError(f"{what} gave shape {got.shape}, forward {expected.shape}")
        floor = max(float(np.max(np.abs(expected), initial=0.0)) * 1e-2, 1e-6)
        error = np.abs(got.astype(np.float64) - expected) / np.maximum(np.abs(expected), floor)
        if error.size and not np.max(error) <= RTOL:
            at = np.unravel_index(np.argmax(error), error.shape)
            raise ConformanceError(
                f"{what} computes other values than forward(training=False): at index {tuple(int(i) for i in at)} "
                f"{got[at]:.6g} instead of {expected[at]:.6g} (relative error {error[at]:.3g}, tolerance {RTOL:g})"
            )
