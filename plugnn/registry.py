"""The registry: every component plugins registered, by kind and name.

A :class:`Registry` is built from a pluggy plugin manager (see :mod:`plugnn.plugins`); it holds one
:class:`ComponentTable` per kind and the manager's hook relay for training events.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import attrs
import pluggy

from plugnn.errors import RegistryError


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
    """A loaded (or failed) plugin: its pluggy name, distribution, version and load error if any."""

    name: str
    dist: str | None = None
    version: str | None = None
    entry_point: str | None = None
    error: str | None = None


def _suggest(name: str, known: list[str]) -> str:
    """``"; did you mean 'adam'?"`` (up to three close matches, closest first) or ``";"``."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(map(repr, close))}?" if close else ";"


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

    def add(self, name: str, spec: type, factory: Callable[..., Any], *, plugin: str) -> None:
        """Register ``name``; raise :class:`RegistryError` naming both plugins if it is taken."""
        if not isinstance(name, str) or not name:
            raise RegistryError(f"plugin {plugin!r} registered a {self.kind} with an invalid name {name!r}")
        if not attrs.has(spec):
            raise RegistryError(
                f"plugin {plugin!r} registered {self.kind} {name!r} with spec {spec!r}, which is not an attrs class"
            )
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


KINDS: dict[str, str] = {
    "layer": "plugnn_register_layers",
    "loss": "plugnn_register_losses",
    "optimizer": "plugnn_register_optimizers",
    "initializer": "plugnn_register_initializers",
    "dataset": "plugnn_register_datasets",
    "schedule": "plugnn_register_schedules",
}
"""Component kind -> the hook that registers it."""


class Registry:
    """All components by kind, the plugins they came from, and the training-event hook relay.

    Build one with :func:`plugnn.plugins.load_registry` (or :func:`plugnn.default_registry`).
    """

    def __init__(self, pm: pluggy.PluginManager, plugins: list[PluginInfo], errors: list[str]) -> None:
        self.pm = pm
        self.hook = pm.hook
        self.plugins = plugins
        self.errors = errors
        self.tables = {kind: ComponentTable(kind, self.describe_plugin) for kind in KINDS}
        self.recipes: dict[str, Recipe] = {}

    def describe_plugin(self, name: str) -> str:
        """``'dense' (plugnn_std.layers.dense from plugnn 0.1.0)``, or the bare name if not from an entry point."""
        info = next((p for p in self.plugins if p.name == name), None)
        if info is None or info.entry_point is None:
            return repr(name)
        return f"{name!r} ({info.entry_point} from {info.dist} {info.version})"

    def add_recipe(self, name: str, path: Path, *, plugin: str) -> None:
        """Register a recipe file; a name taken by another plugin is an error naming both."""
        if name in self.recipes:
            raise RegistryError(
                f"recipe {name!r} is registered by more than one plugin: "
                f"{self.describe_plugin(self.recipes[name].plugin)}, {self.describe_plugin(plugin)}"
            )
        self.recipes[name] = Recipe(name, Path(path), plugin)

    def recipe(self, name: str) -> Recipe:
        """The recipe called ``name``; an unknown name lists the known ones and the closest."""
        if name not in self.recipes:
            known = sorted(self.recipes)
            raise RegistryError(
                f"unknown recipe {name!r}{_suggest(name, known)} known: {', '.join(known) or 'none'} "
                "(or give the path of a .toml/.json spec file)"
            )
        return self.recipes[name]

    @property
    def layers(self) -> ComponentTable:
        return self.tables["layer"]

    @property
    def losses(self) -> ComponentTable:
        return self.tables["loss"]

    @property
    def optimizers(self) -> ComponentTable:
        return self.tables["optimizer"]

    @property
    def initializers(self) -> ComponentTable:
        return self.tables["initializer"]

    @property
    def datasets(self) -> ComponentTable:
        return self.tables["dataset"]

    @property
    def schedules(self) -> ComponentTable:
        return self.tables["schedule"]

    def components(self) -> Iterator[Component]:
        """Every usable component, kind by kind, sorted by name."""
        for table in self.tables.values():
            yield from table
