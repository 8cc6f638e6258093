"""Building the plugin manager and the registry from the ``plugnn`` entry-point group.

The standard components ship as entry points of the ``plugnn`` distribution itself, so they load
exactly as a third party's do. Each entry point is loaded in a guarded loop: a plugin that fails to
import, or whose registration fails, is reported with its entry point and distribution (see
``plugnn plugins``) and is fatal only in strict mode.

Environment variables
---------------------
``PLUGNN_BLOCK_PLUGINS``
    Comma-separated entry-point names not to load (``PLUGNN_BLOCK_PLUGINS=dropout,foo``).
``PLUGNN_DISABLE_THIRD_PARTY``
    ``1`` loads only the entry points of the ``plugnn`` distribution itself.
``PLUGNN_STRICT_PLUGINS``
    ``1`` makes any plugin failure raise :class:`plugnn.errors.PluginLoadError` (tests and CI).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

import attrs
import pluggy

from plugnn import hookspecs
from plugnn.errors import PluginLoadError, PlugnnError
from plugnn.hookspecs import PROJECT
from plugnn.kinds import KINDS
from plugnn.registry import PluginInfo, Registry

ENTRY_POINT_GROUP = "plugnn"
CORE_DISTRIBUTION = "plugnn"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str) -> set[str]:
    return {item.strip() for item in os.environ.get(name, "").split(",") if item.strip()}


def _describe(ep: EntryPoint) -> tuple[str | None, str | None]:
    dist = ep.dist
    return (dist.name, dist.version) if dist is not None else (None, None)


def load_registry(
    *,
    entry_points_enabled: bool = True,
    third_party: bool | None = None,
    block: Iterable[str] = (),
    strict: bool | None = None,
    extra_plugins: Iterable[ModuleType | object] = (),
) -> Registry:
    """Build a fresh plugin manager and registry.

    Parameters
    ----------
    entry_points_enabled
        Load the ``plugnn`` entry-point group at all (False gives only ``extra_plugins``).
    third_party
        Load entry points of other distributions too; default from ``PLUGNN_DISABLE_THIRD_PARTY``.
    block
        Entry-point names not to load, added to ``PLUGNN_BLOCK_PLUGINS``.
    strict
        Raise on the first plugin failure; default from ``PLUGNN_STRICT_PLUGINS``.
    extra_plugins
        Plugin objects (modules or instances) to register directly, e.g. from a test.
    """
    if third_party is None:
        third_party = not _env_flag("PLUGNN_DISABLE_THIRD_PARTY")
    if strict is None:
        strict = _env_flag("PLUGNN_STRICT_PLUGINS")
    blocked = set(block) | _env_list("PLUGNN_BLOCK_PLUGINS")

    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    plugins: list[PluginInfo] = []
    problems: list[str] = []

    def fail(info: PluginInfo, message: str) -> None:
        if strict:
            raise PluginLoadError(message)
        plugins.append(attrs.evolve(info, error=message))

    if entry_points_enabled:
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist, version = _describe(ep)
            info = PluginInfo(ep.name, dist, version, ep.value)
            if ep.name in blocked or (not third_party and dist != CORE_DISTRIBUTION):
                continue
            where = f"plugin {ep.name!r} (entry point {ep.value!r} of {dist} {version})"
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not take the others down
                fail(info, f"{where} failed to import: {type(exc).__name__}: {exc}")
                continue
            try:
                pm.register(module, name=ep.name)
            except Exception as exc:
                fail(info, f"{where} could not be registered: {exc}")
                continue
            plugins.append(info)

    for plugin in extra_plugins:
        name = getattr(plugin, "__name__", None) or type(plugin).__qualname__
        pm.register(plugin, name=name)
        plugins.append(PluginInfo(name))

    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        if strict:
            raise PluginLoadError(f"unknown hook: {exc}") from exc
        problems.append(f"unknown hook: {exc}")

    registry = Registry(plugins, [(pm.get_name(plugin) or "", plugin) for plugin in pm.get_plugins()])
    for message in problems:
        registry.add_error(message)
    _run_registration_hooks(registry, pm, strict)
    registry.seal()
    return registry


def _run_registration_hooks(registry: Registry, pm: pluggy.PluginManager, strict: bool) -> None:
    # Each hook implementation is called on its own, with a register callback that knows which
    # plugin it serves: duplicates then name both plugins, and one failing plugin names itself.
    adders: dict[str, Callable[..., None]] = {kind.hook: registry.tables[kind.name].add for kind in KINDS}
    adders["plugnn_register_recipes"] = registry.add_recipe
    for hook_name, add in adders.items():
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            register = functools.partial(add, plugin=impl.plugin_name)
            try:
                impl.function(register=register)
            except Exception as exc:
                message = (
                    str(exc)
                    if isinstance(exc, PlugnnError)
                    else f"plugin {impl.plugin_name!r} failed in {hook_name}: {type(exc).__name__}: {exc}"
                )
                if strict:
                    raise PluginLoadError(message) from exc
                registry.add_error(message)


@functools.cache
def default_registry() -> Registry:
    """The registry of every installed plugin, built once per process on first use.

    Only the edges use it: the command line and the top-level helpers (:func:`plugnn.run`,
    :func:`plugnn.train`, ...) when no registry is given. Library functions take their registry as
    an argument. It is sealed, so no run can change it.
    """
    return load_registry()
