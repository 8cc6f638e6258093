"""``plugnn plugins``: what each plugin registers, and which layers can be exported to ONNX."""

from __future__ import annotations

import attrs
import pytest
import scale_layer
from layer_plugin import layer_plugin

import plugnn
from plugnn import plugins as plugin_module
from plugnn.cli import main


@attrs.frozen
class Unexported(plugnn.LayerSpec):
    """A layer whose plugin registers no ONNX converter."""


@pytest.fixture
def listing(monkeypatch, capsys) -> dict[str, str]:
    """``plugnn plugins``'s lines by plugin name, with the scale layer and an unexported layer installed."""
    original = plugin_module.load_registry
    extra = [scale_layer, layer_plugin(("unexported", Unexported, plugnn.ParameterFreeLayer))]
    monkeypatch.setattr(plugin_module, "load_registry", lambda **kwargs: original(**kwargs, extra_plugins=extra))
    plugin_module.default_registry.cache_clear()
    try:
        assert main(["plugins"]) == 0
    finally:
        plugin_module.default_registry.cache_clear()
    return {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}


def test_each_plugin_lists_the_layers_it_has_onnx_converters_for(listing) -> None:
    assert listing["dense"].endswith("  layer dense; ONNX converters: dense")
    assert listing["scale_layer"].endswith("  layer scale; ONNX converters: scale")
    assert listing["vision_onnx"].endswith(
        "  ONNX converters: avg_pool2d, batch_norm, conv2d, flatten, global_avg_pool2d, max_pool2d"
    )
    assert listing["adam"].endswith("  optimizer adam")


def test_a_layer_without_a_converter_is_marked(listing) -> None:
    assert listing["layer_plugin.<locals>.LayerPlugin"].endswith("  layer unexported (no ONNX converter)")
    assert not any("(no ONNX converter)" in line for name, line in listing.items() if "LayerPlugin" not in name)
