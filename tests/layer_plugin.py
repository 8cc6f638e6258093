"""A plugin object for the layers a test declares, so that a test need not write a plugin class."""

from __future__ import annotations

from collections.abc import Callable

import plugnn


def layer_plugin(*layers: tuple[str, type[plugnn.LayerSpec], Callable[..., object]]) -> object:
    """A plugin whose ``plugnn_register_layers`` registers each ``(name, SpecClass, factory)``."""

    class LayerPlugin:
        @plugnn.hookimpl
        def plugnn_register_layers(self, register):
            for layer in layers:
                register(*layer)

    return LayerPlugin()
