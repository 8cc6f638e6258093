"""What the test session really exercised: the hooks that ran and the registered components built.

``tests/conftest.py`` calls :func:`install` before any test module is imported. From then on

* every component factory a registry takes in is wrapped, so that calling it (building a layer,
  the conformance kit checking an optimizer, loading a dataset, ...) records ``(kind, name)``;
* every plugnn plugin manager is watched with pluggy's own ``add_hookcall_monitoring``, so that a
  training-event hook called with at least one implementation records the hook's name;
* a registration hook is recorded when a plugin registers something through it.

Nothing here changes what is called or returned. At the end of a full run of the suite,
:func:`check` (called by ``tests/conftest.py``) fails the run if a hook or an installed component
was left unexercised. The suite runs in several processes (pytest-xdist): each worker hands what it
saw to the controller as plain data (:meth:`Seen.plain`), which merges it before checking.
``tests/test_exercised.py`` shows with :func:`recording` that an untested component is reported.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import pluggy
import pytest

from plugnn import hookspecs
from plugnn.hookspecs import PROJECT
from plugnn.kinds import KINDS
from plugnn.registry import ComponentTable, Registry

RECIPES_HOOK = "plugnn_register_recipes"
ONNX_HOOK = "plugnn_register_onnx_converters"
HOOKS = tuple(name for name in dir(hookspecs) if name.startswith(f"{PROJECT}_"))
"""Every hook a plugin can implement."""
DESELECTED = pytest.StashKey[bool]()
"""Set in the config's stash when any test was deselected: the run is not the full suite."""
OUTPUT = "plugnn_exercised"
"""Key of a worker's record in pytest-xdist's ``workeroutput``."""


@attrs.define
class Seen:
    """Hooks that ran with an implementation, and components whose factory was called."""

    hooks: set[str] = attrs.field(factory=set)
    components: set[tuple[str, str]] = attrs.field(factory=set)

    def missing(self, registry: Registry) -> list[str]:
        """One line per hook, then per component of ``registry``, that was not exercised."""
        hooks = [f"hook {name}" for name in HOOKS if name not in self.hooks]
        components = [
            f"{c.kind} {c.name!r} from {registry.describe_plugin(c.plugin)}"
            for c in registry.components()
            if (c.kind, c.name) not in self.components
        ]
        return hooks + components

    def plain(self) -> dict[str, list[Any]]:
        """As plain lists, for a worker process to send to the controller."""
        return {"hooks": sorted(self.hooks), "components": sorted(self.components)}

    def merge(self, plain: dict[str, list[Any]]) -> None:
        """Add what another process exercised (:meth:`plain`)."""
        self.hooks.update(plain["hooks"])
        self.components.update((kind, name) for kind, name in plain["components"])


SESSION = Seen()
"""What the whole session exercised."""
_active: list[Seen] = [SESSION]


@contextmanager
def recording() -> Iterator[Seen]:
    """What runs inside the block exercises, recorded apart (the session records it too)."""
    seen = Seen()
    _active.append(seen)
    try:
        yield seen
    finally:
        _active.remove(seen)


def _hook_ran(name: str) -> None:
    for seen in _active:
        seen.hooks.add(name)


def _built(kind: str, name: str, factory: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(factory)
    def recorded(*args: Any, **kwargs: Any) -> Any:
        for seen in _active:
            seen.components.add((kind, name))
        return factory(*args, **kwargs)

    return recorded


def install() -> None:
    """Start recording (once per process)."""
    if getattr(ComponentTable.add, "records_exercise", False):
        return
    registration_hook = {kind.name: kind.hook for kind in KINDS}
    add_component, add_recipe, add_converter = ComponentTable.add, Registry.add_recipe, Registry.add_onnx_converter
    add_hookspecs = pluggy.PluginManager.add_hookspecs

    @functools.wraps(add_component)
    def add(self: ComponentTable, name: str, spec: type, factory: Callable[..., Any], *, plugin: str) -> None:
        add_component(self, name, spec, _built(self.kind, name, factory), plugin=plugin)
        _hook_ran(registration_hook[self.kind])

    @functools.wraps(add_recipe)
    def recipe(self: Registry, *args: Any, **kwargs: Any) -> None:
        add_recipe(self, *args, **kwargs)
        _hook_ran(RECIPES_HOOK)

    @functools.wraps(add_converter)
    def converter(self: Registry, *args: Any, **kwargs: Any) -> None:
        add_converter(self, *args, **kwargs)
        _hook_ran(ONNX_HOOK)

    @functools.wraps(add_hookspecs)
    def watched(self: pluggy.PluginManager, module_or_class: object) -> None:
        add_hookspecs(self, module_or_class)
        if self.project_name == PROJECT and module_or_class is hookspecs:
            self.add_hookcall_monitoring(lambda name, impls, kwargs: impls and _hook_ran(name), lambda *_: None)

    add.records_exercise = True  # type: ignore[attr-defined]
    ComponentTable.add = add  # type: ignore[method-assign]
    Registry.add_recipe = recipe  # type: ignore[method-assign]
    Registry.add_onnx_converter = converter  # type: ignore[method-assign]
    pluggy.PluginManager.add_hookspecs = watched  # type: ignore[method-assign]


def worker_report(config: pytest.Config) -> dict[str, Any]:
    """What this xdist worker exercised, and whether it deselected tests."""
    return {"seen": SESSION.plain(), "deselected": config.stash.get(DESELECTED, False)}


def merge_worker(config: pytest.Config, report: dict[str, Any]) -> None:
    """Fold a worker's :func:`worker_report` into this (controller) process's session."""
    SESSION.merge(report["seen"])
    if report["deselected"]:
        config.stash[DESELECTED] = True


def partial_run(config: pytest.Config) -> str | None:
    """Why this session is not the full suite (a path, ``-k``, ``-m``, ``--deselect``, ``--lf``), or None."""
    if config.args_source is not pytest.Config.ArgsSource.TESTPATHS:
        return f"tests chosen by path ({' '.join(config.args)})"
    if config.stash.get(DESELECTED, False):
        return "some tests were deselected"
    return None


def check(session: pytest.Session) -> None:
    """Fail a full, otherwise green run whose tests left a hook or an installed component unexercised."""
    from plugnn import load_registry

    if session.config.option.collectonly or not session.testscollected:
        return  # nothing ran, so nothing was exercised
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    reason = partial_run(session.config)
    if reason or session.exitstatus != pytest.ExitCode.OK:
        if reporter is not None and reason:
            reporter.write_line(f"exercise guard: checked on a full run only ({reason})")
        return
    missing = SESSION.missing(load_registry(strict=True, third_party=True))
    if missing:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_sep("=", "exercise guard failed", red=True)
            reporter.write_line("no test exercises:\n" + "\n".join(missing))
