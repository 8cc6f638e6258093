"""The registry: every component plugins registered, by kind and name.

A :class:`Registry` is built once from the plugins (see :mod:`plugnn.plugins`) and then sealed; it
holds one :class:`ComponentTable` per kind of :data:`plugnn.kinds.KINDS`, the recipes, and the
plugins whose training-event hooks every run dispatches to.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

import attrs

from plugnn.errors import RegistryError
from plugnn.kinds import KINDS


class Register(Protocol):
    """The callback a registration hook receives: ``register(name, SpecClass, factory)``."""

    def __call__(self, name: str, spec: type, factory: Callable[..., Any]) -> None: ...


@attrs.frozen
class Component:
    """One registered component: its kind, name, spec class, factory and the plugin it came from."""

    kind: str
    name: str
    spec: type
    factory: Callable[..., Any]
    plugin: str


@attrs.frozen
class Recipe:
    """A bundled recipe: a spec file a plugin ships under a name."""

    name: str
    path: Path
    plugin: str


@attrs.frozen
class PluginInfo:
    """A loaded (or failed) plugin: its pluggy name, distribution, version, load error and what it replaces."""

    name: str
    dist: str | None = None
    version: str | None = None
    entry_point: str | None = None
    error: str | None = None
    replaces: str | None = None
    """The built-in plugin it stands in for (``PLUGNN_REPLACE_PLUGINS``), e.g. ``plugnn_std.optimizers.adam``."""


def _suggest(name: str, known: list[str]) -> str:
    """``"; did you mean 'adam'?"`` (up to three close matches, closest first) or ``";"``."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(map(repr, close))}?" if close else ";"


def check_registration(kind: str, name: object, spec: object, plugin: str) -> None:
    """Raise :class:`RegistryError` unless ``name`` is a non-empty string and ``spec`` an attrs class."""
    if not isinstance(name, str) or not name:
        raise RegistryError(f"plugin {plugin!r} registered a {kind} with an invalid name {name!r}")
    if not isinstance(spec, type) or not attrs.has(spec):
        raise RegistryError(
            f"plugin {plugin!r} registered {kind} {name!r} with spec {spec!r}, which is not an attrs class"
        )


class ComponentTable:
    """The components of one kind (``"layer"``, ``"optimizer"``, ...), by name.

    A name claimed by two plugins stays unusable: looking it up names both, so the user can block
    one rather than get whichever happened to load last.
    """

    def __init__(self, kind: str, describe: Callable[[str], str] = repr) -> None:
        self.kind = kind
        self._describe = describe
        self._by_name: dict[str, Component] = {}
        self._by_spec: dict[type, str] = {}
        self._conflicts: dict[str, list[str]] = {}
        self._sealed = False

    def seal(self) -> None:
        """End registration: :meth:`add` refuses from now on."""
        self._sealed = True

    def add(self, name: str, spec: type, factory: Callable[..., Any], *, plugin: str) -> None:
        """Register ``name``; raise :class:`RegistryError` naming both plugins if it is taken."""
        if self._sealed:
            raise RegistryError(
                f"{self.kind} {name!r}: the registry is sealed; register it from a plugin's registration hook"
            )
        check_registration(self.kind, name, spec, plugin)
        if name in self._conflicts:
            self._conflicts[name].append(plugin)
        elif name in self._by_name:
            first = self._by_name.pop(name)
            self._by_spec.pop(first.spec, None)
            self._conflicts[name] = [first.plugin, plugin]
        else:
            self._by_name[name] = Component(self.kind, name, spec, factory, plugin)
            self._by_spec[spec] = name
            return
        raise RegistryError(
            f"{self.kind} {name!r} is registered by more than one plugin: "
            f"{', '.join(map(self._describe, self._conflicts[name]))}"
        )

    def get(self, name: str) -> Component:
        """The component called ``name``; an unknown name lists the known ones and the closest."""
        if name in self._by_name:
            return self._by_name[name]
        if name in self._conflicts:
            raise RegistryError(
                f"{self.kind} {name!r} is registered by more than one plugin "
                f"({', '.join(map(self._describe, self._conflicts[name]))}); "
                "block all but one with PLUGNN_BLOCK_PLUGINS"
            )
        known = sorted(self._by_name)
        listing = ", ".join(known) if known else "none (no plugin registered one)"
        raise RegistryError(f"unknown {self.kind} {name!r}{_suggest(name, known)} known: {listing}")

    def name_of(self, spec_class: type) -> str:
        """The registered name of a spec class (used to write ``type = "dense"`` in files)."""
        try:
            return self._by_spec[spec_class]
        except KeyError:
            raise RegistryError(f"{spec_class.__qualname__} is not the spec of any registered {self.kind}") from None

    def names(self) -> list[str]:
        """Sorted names of the usable components."""
        return sorted(self._by_name)

    def __iter__(self) -> Iterator[Component]:
        return iter(sorted(self._by_name.values(), key=lambda c: c.name))

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self._by_name)


class Registry:
    """All components by kind, the recipes, the plugins they came from, and their training-event hooks.

    Build one with :func:`plugnn.plugins.load_registry` (or :func:`plugnn.default_registry`); once
    built it never changes. Runs therefore share a registry safely, even in parallel threads: each
    :func:`plugnn.fit` dispatches its training events through a relay of its own (:func:`plugnn.events.event_relay`)
    that holds the registry's plugins and that run's plugins (checkpointer, progress bar, ...).
    """

    def __init__(self, plugins: Sequence[PluginInfo], event_plugins: Sequence[tuple[str, object]]) -> None:
        self.plugins: tuple[PluginInfo, ...] = tuple(plugins)
        self.event_plugins: tuple[tuple[str, object], ...] = tuple(event_plugins)
        self._errors = [info.error for info in self.plugins if info.error]
        self._tables = {kind.name: ComponentTable(kind.name, self.describe_plugin) for kind in KINDS}
        self._recipes: dict[str, Recipe] = {}
        self._onnx_converters: dict[str, tuple[Callable[..., str], str]] = {}
        self._sealed = False

    @property
    def tables(self) -> Mapping[str, ComponentTable]:
        """The component table of each kind, by kind name (``registry.tables["layer"]``)."""
        return MappingProxyType(self._tables)

    @property
    def recipes(self) -> Mapping[str, Recipe]:
        """The bundled recipes by name."""
        return MappingProxyType(self._recipes)

    @property
    def errors(self) -> tuple[str, ...]:
        """Every plugin failure met while building (``plugnn plugins`` shows them)."""
        return tuple(self._errors)

    def seal(self) -> None:
        """End registration (:func:`plugnn.plugins.load_registry` calls it last): nothing changes after it."""
        for table in self._tables.values():
            table.seal()
        self._sealed = True

    def _check_open(self, what: str) -> None:
        if self._sealed:
            raise RegistryError(f"{what}: the registry is sealed once built; build another with plugnn.load_registry()")

    def add_error(self, message: str) -> None:
        """Record a plugin failure met while the registry is built."""
        self._check_open("add_error")
        self._errors.append(message)

    def describe_plugin(self, name: str) -> str:
        """``'dense' (plugnn_std.layers.dense from plugnn 0.1.0)``, or the bare name if not from an entry point."""
        info = next((p for p in self.plugins if p.name == name), None)
        if info is None or info.entry_point is None:
            return repr(name)
        return f"{name!r} ({info.entry_point} from {info.dist} {info.version})"

    def add_recipe(self, name: str, path: Path, *, plugin: str) -> None:
        """Register a recipe file; a name taken by another plugin is an error naming both."""
        self._check_open(f"recipe {name!r}")
        if name in self._recipes:
            raise RegistryError(
                f"recipe {name!r} is registered by more than one plugin: "
                f"{self.describe_plugin(self._recipes[name].plugin)}, {self.describe_plugin(plugin)}"
            )
        self._recipes[name] = Recipe(name, Path(path), plugin)

    def recipe(self, name: str) -> Recipe:
        """The recipe called ``name``; an unknown name lists the known ones and the closest."""
        if name not in self._recipes:
            known = sorted(self._recipes)
            raise RegistryError(
                f"unknown recipe {name!r}{_suggest(name, known)} known: {', '.join(known) or 'none'} "
                "(or give the path of a .toml/.json spec file)"
            )
        return self._recipes[name]

    @property
    def onnx_converters(self) -> Mapping[str, Callable[..., str]]:
        """The ONNX converter of each layer type that has one, by layer name (:mod:`plugnn.export`)."""
        return MappingProxyType({layer: converter for layer, (converter, _) in self._onnx_converters.items()})

    @property
    def onnx_converter_plugins(self) -> Mapping[str, str]:
        """The plugin that registered each layer type's ONNX converter, by layer name."""
        return MappingProxyType({layer: plugin for layer, (_, plugin) in self._onnx_converters.items()})

    def add_onnx_converter(self, layer: str, converter: Callable[..., str], *, plugin: str) -> None:
        """Register the ONNX converter of the layer type ``layer`` (:mod:`plugnn.export`); one per layer type."""
        self._check_open(f"ONNX converter for {layer!r}")
        if layer in self._onnx_converters:
            raise RegistryError(
                f"the ONNX converter for layer {layer!r} is registered by more than one plugin: "
                f"{self.describe_plugin(self._onnx_converters[layer][1])}, {self.describe_plugin(plugin)}"
            )
        self._onnx_converters[layer] = (converter, plugin)

    def onnx_converter(self, layer: str, where: str = "") -> Callable[..., str]:
        """The ONNX converter of the layer type ``layer``; none is an error naming the layer and its plugin."""
        if layer not in self._onnx_converters:
            plugin = self._tables["layer"].get(layer).plugin if layer in self._tables["layer"] else None
            origin = f" (from {self.describe_plugin(plugin)})" if plugin else ""
            raise RegistryError(
                f"{where + ': ' if where else ''}layer {layer!r}{origin} has no ONNX converter, so the model cannot "
                "be exported; its plugin can add one with the plugnn_register_onnx_converters hook"
            )
        return self._onnx_converters[layer][0]

    def components(self) -> Iterator[Component]:
        """Every usable component, kind by kind (in :data:`plugnn.kinds.KINDS` order), sorted by name."""
        for table in self._tables.values():
            yield from table
