"""The kit runs each layer's ONNX converter through onnxruntime against the layer's forward."""

from __future__ import annotations

import sys

import pytest
import scale_layer
from layer_plugin import layer_plugin
from scale_layer import Scale, ScaleLayer

import plugnn
from plugnn.testing import ConformanceError, iter_checks


def onnx_check(*plugins: object, name: str = "scale") -> plugnn.testing.Check:
    registry = plugnn.load_registry(entry_points_enabled=False, extra_plugins=list(plugins))
    return next(c for c in iter_checks(registry) if c.id == f"layer:{name}[0]-onnx_converter")


class WrongScaleConverter:
    """The scale layer's converter with the factor halved: exports without complaint."""

    @plugnn.hookimpl
    def plugnn_register_onnx_converters(self, register):
        register("scale", lambda layer, spec, x, graph: graph.node("Mul", [x, graph.constant(spec.factor / 2)]))


def test_a_right_converter_passes() -> None:
    onnx_check(scale_layer)()


def test_a_wrong_converter_fails_with_where_and_how_much() -> None:
    check = onnx_check(layer_plugin(("scale", Scale, ScaleLayer)), WrongScaleConverter())
    with pytest.raises(
        ConformanceError,
        match=r"^layer 'scale' \(Scale\(factor=2\.0\)\) on input \(5,\): its ONNX converter, run by onnxruntime, "
        r"computes other values than forward\(training=False\): at index \(\d, \d\) (-?[\d.]+) instead of .* "
        r"\(relative error 0\.5, tolerance 0\.0001\)$",
    ):
        check()


def test_a_layer_without_a_converter_is_skipped_naming_it() -> None:
    check = onnx_check(layer_plugin(("scale", Scale, ScaleLayer)))
    with pytest.raises(pytest.skip.Exception, match=r"layer 'scale' has no ONNX converter, so models with it cannot"):
        check()


def test_without_onnxruntime_the_check_is_skipped_naming_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime raises ImportError
    with pytest.raises(
        pytest.skip.Exception,
        match=r"onnx_converter: the ONNX converter check needs onnx and onnxruntime .*: "
        r"pip install plugnn\[kit\]$",
    ):
        onnx_check(scale_layer)()
