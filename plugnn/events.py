"""The relay a run dispatches its training events through: the registry's plugins, then the run's own."""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from plugnn import hookspecs
from plugnn.hookspecs import PROJECT
from plugnn.registry import Registry


def event_relay(registry: Registry, plugins: Iterable[object] = ()) -> pluggy.HookRelay:
    """A fresh relay of the training-event hooks for one run: ``registry``'s plugins, then ``plugins``.

    Nothing registered here outlives the run or is seen by another run.
    """
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    for name, plugin in registry.event_plugins:
        pm.register(plugin, name=name)
    for plugin in plugins:
        pm.register(plugin)
    return pm.hook
