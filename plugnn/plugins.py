"""Building the plugin manager and the registry from the ``plugnn`` entry-point group.

The standard components ship as entry points of the ``plugnn`` distribution itself, so they load
exactly as a third party's do. Three rules keep loading safe:

* **A plugin name is taken once.** An entry-point name that two distributions claim (a third
  party's ``adam`` beside plugnn's own) is an error naming both, raised when the registry is built:
  no plugin ever silently stands in for another. Replacing a built-in on purpose is explicit:
  ``PLUGNN_REPLACE_PLUGINS=adam`` (or ``replace=["adam"]``) loads the other distribution's ``adam``
  instead of plugnn's, and ``plugnn plugins`` shows it as a replacement.
* **Registration is all or nothing.** A plugin whose registration hook raises keeps none of its
  components (nor its training-event hooks); the others load.
* **Failures are loud.** A plugin that fails to import or to register is recorded with its
  distribution and entry point (``registry.errors``, one line each); every ``plugnn`` command prints
  them on stderr, ``plugnn plugins`` exits non-zero, and strict mode (``PLUGNN_STRICT_PLUGINS=1``,
  ``plugnn --strict``, ``strict=True``) raises :class:`plugnn.errors.PluginLoadError` instead.

Environment variables
---------------------
``PLUGNN_BLOCK_PLUGINS``
    Comma-separated entry-point names not to load (``PLUGNN_BLOCK_PLUGINS=dropout,foo``).
``PLUGNN_REPLACE_PLUGINS``
    Comma-separated names of built-in plugins another distribution's same-named plugin replaces.
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
from typing import Any

import attrs
import pluggy

from plugnn import hookspecs
from plugnn.errors import PluginLoadError, PlugnnError
from plugnn.hookspecs import PROJECT
from plugnn.kinds import KINDS
from plugnn.registry import PluginInfo, Registry, check_registration

ENTRY_POINT_GROUP = "plugnn"
CORE_DISTRIBUTION = "plugnn"
STRICT_ENV = "PLUGNN_STRICT_PLUGINS"
RECIPES_HOOK = "plugnn_register_recipes"
ONNX_HOOK = "plugnn_register_onnx_converters"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str) -> set[str]:
    return {item.strip() for item in os.environ.get(name, "").split(",") if item.strip()}


def _info(ep: EntryPoint) -> PluginInfo:
    dist = ep.dist
    return PluginInfo(ep.name, dist.name if dist else None, dist.version if dist else None, ep.value)


def _where(info: PluginInfo) -> str:
    """``plugin 'adam' (entry point 'plugnn_std.optimizers.adam' of plugnn 0.1.0)``."""
    return f"plugin {info.name!r} (entry point {info.entry_point!r} of {info.dist} {info.version})"


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _choose(name: str, claims: list[PluginInfo], replace: set[str]) -> PluginInfo:
    """The one entry point called ``name`` to load; two distributions claiming it is an error naming both."""
    if len(claims) == 1:
        return claims[0]
    core = [info for info in claims if info.dist == CORE_DISTRIBUTION]
    others = [info for info in claims if info.dist != CORE_DISTRIBUTION]
    if name in replace and len(core) == 1 and len(others) == 1:
        return attrs.evolve(others[0], replaces=f"{core[0].entry_point} of {core[0].dist} {core[0].version}")
    owners = " and ".join(f"{info.dist} {info.version} ({info.entry_point})" for info in [*core, *others])
    hint = (
        f"a plugin never replaces a built-in silently: uninstall {others[0].dist}, or set "
        f"PLUGNN_REPLACE_PLUGINS={name} to use it instead of plugnn's"
        if core and len(others) == 1
        else f"uninstall all but one, or block the name with PLUGNN_BLOCK_PLUGINS={name}"
    )
    raise PluginLoadError(f"plugin name {name!r} is claimed by more than one distribution: {owners}; {hint}")


def load_registry(
    *,
    entry_points_enabled: bool = True,
    third_party: bool | None = None,
    block: Iterable[str] = (),
    replace: Iterable[str] = (),
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
    replace
        Built-in plugin names that another distribution's plugin of the same name replaces, added to
        ``PLUGNN_REPLACE_PLUGINS``. Without it, such a pair is an error.
    strict
        Raise on the first plugin failure; default from ``PLUGNN_STRICT_PLUGINS``.
    extra_plugins
        Plugin objects (modules or instances) to register directly, e.g. from a test.

    Raises :class:`PluginLoadError` for a plugin name two distributions claim (always), and for any
    other plugin failure in strict mode; otherwise failures are in ``registry.errors``.
    """
    if third_party is None:
        third_party = not _env_flag("PLUGNN_DISABLE_THIRD_PARTY")
    if strict is None:
        strict = _env_flag(STRICT_ENV)
    blocked = set(block) | _env_list("PLUGNN_BLOCK_PLUGINS")
    replacing = set(replace) | _env_list("PLUGNN_REPLACE_PLUGINS")

    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    plugins: list[PluginInfo] = []
    problems: list[str] = []

    def fail(info: PluginInfo, message: str) -> None:
        if strict:
            raise PluginLoadError(message)
        plugins.append(attrs.evolve(info, error=message))

    if entry_points_enabled:
        claims: dict[str, list[PluginInfo]] = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            info = _info(ep)
            if ep.name not in blocked and (third_party or info.dist == CORE_DISTRIBUTION):
                claims.setdefault(ep.name, []).append(info)
        for name in sorted(claims):
            info = _choose(name, claims[name], replacing)
            try:
                module = EntryPoint(info.name, info.entry_point, ENTRY_POINT_GROUP).load()  # type: ignore[arg-type]
            except Exception as exc:  # a broken plugin must not take the others down
                fail(info, f"{_where(info)} failed to import: {_one_line(exc)}")
                continue
            pm.register(module, name=name)
            plugins.append(info)

    for plugin in extra_plugins:
        base = getattr(plugin, "__name__", None) or type(plugin).__qualname__
        name = next(n for n in (base, *(f"{base}#{i}" for i in range(2, 1000))) if pm.get_plugin(n) is None)
        pm.register(plugin, name=name)
        plugins.append(PluginInfo(name))

    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        if strict:
            raise PluginLoadError(f"unknown hook: {_one_line(exc)}") from exc
        problems.append(f"unknown hook: {_one_line(exc)}")

    staged, failed = _stage_registrations(pm, plugins, strict)
    plugins = [attrs.evolve(info, error=failed[info.name]) if info.name in failed else info for info in plugins]
    event_plugins = [
        (name, plugin) for name, plugin in pm.list_name_plugin() if name not in failed and _has_event_hooks(pm, plugin)
    ]
    registry = Registry(plugins, event_plugins)
    for message in problems:
        registry.add_error(message)
    _commit(registry, staged, strict)
    registry.seal()
    return registry


Registration = tuple[str, str, tuple[Any, ...]]
"""One staged ``register(...)`` call: the hook it came from, the plugin's name and the arguments."""


def _has_event_hooks(pm: pluggy.PluginManager, plugin: object) -> bool:
    """Whether ``plugin`` implements a training-event hook (each run's relay registers only those)."""
    return any(not caller.name.startswith("plugnn_register_") for caller in pm.get_hookcallers(plugin) or ())


def _stage_registrations(
    pm: pluggy.PluginManager, plugins: list[PluginInfo], strict: bool
) -> tuple[list[Registration], dict[str, str]]:
    """Call every plugin's registration hooks, plugin by plugin, collecting what each registers.

    A plugin whose hook raises (a bad name or spec class included) keeps nothing: its registrations
    are dropped and its error is returned under its name (raised in strict mode).
    """
    infos = {info.name: info for info in plugins}
    staged: list[Registration] = []
    failed: dict[str, str] = {}
    for name, plugin in pm.list_name_plugin():
        try:
            staged += _registrations_of(pm, name, plugin)
        except _HookFailed as failure:
            info = infos.get(name)
            who = _where(info) if info and info.entry_point else f"plugin {name!r}"
            exc = failure.__cause__
            detail = str(exc) if isinstance(exc, PlugnnError) else _one_line(exc)  # type: ignore[arg-type]
            message = f"{who} failed in {failure.hook}: {detail}; none of its components are registered"
            if strict:
                raise PluginLoadError(message) from exc
            failed[name] = message
    return staged, failed


class _HookFailed(Exception):
    def __init__(self, hook: str) -> None:
        self.hook = hook


def _registrations_of(pm: pluggy.PluginManager, name: str, plugin: object) -> list[Registration]:
    """What ``plugin``'s registration hooks register; :class:`_HookFailed` (from the error) if one raises."""
    kinds = {kind.hook: kind.name for kind in KINDS}
    found: list[Registration] = []
    for hook in [*kinds, RECIPES_HOOK, ONNX_HOOK]:

        def register(*args: Any, _hook: str = hook) -> None:
            if _hook in kinds:  # a bad name or spec class fails inside the hook, as the hook's own error
                check_registration(kinds[_hook], args[0], args[1] if len(args) > 1 else None, name)
            found.append((_hook, name, args))

        for impl in getattr(pm.hook, hook).get_hookimpls():
            if impl.plugin is plugin:
                try:
                    impl.function(register=register)
                except Exception as exc:
                    raise _HookFailed(hook) from exc
    return found


def _commit(registry: Registry, staged: list[Registration], strict: bool) -> None:
    """Add the staged registrations; a name two plugins claim names both (unusable, or raised in strict mode)."""
    adders: dict[str, Callable[..., None]] = {kind.hook: registry.tables[kind.name].add for kind in KINDS}
    adders[RECIPES_HOOK] = registry.add_recipe
    adders[ONNX_HOOK] = registry.add_onnx_converter
    for hook_name, plugin, args in staged:
        try:
            adders[hook_name](*args, plugin=plugin)
        except PlugnnError as exc:
            if strict:
                raise PluginLoadError(str(exc)) from exc
            registry.add_error(str(exc))


@functools.cache
def default_registry() -> Registry:
    """The registry of every installed plugin, built once per process on first use.

    Only the edges use it: the command line and the top-level helpers (:func:`plugnn.run`,
    :func:`plugnn.train`, ...) when no registry is given. Library functions take their registry as
    an argument. It is sealed, so no run can change it.
    """
    return load_registry()
