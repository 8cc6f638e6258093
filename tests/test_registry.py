"""The plugin manager, the registry and the core's independence from any implementation."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

import plugnn
from plugnn.errors import PluginLoadError, RegistryError

CORE = Path(plugnn.__file__).parent
STANDARD = {"layer": {"identity", "relu", "dense"}, "loss": {"softmax_cross_entropy"},
            "optimizer": {"sgd", "adam"}, "initializer": {"he", "glorot", "normal"}}


def test_standard_components_come_through_entry_points(registry) -> None:
    for kind, names in STANDARD.items():
        assert names <= set(registry.tables[kind].names())
    dense = registry.layers.get("dense")
    assert dense.plugin == "dense"
    info = next(p for p in registry.plugins if p.name == "dense")
    assert info.dist == "plugnn" and info.entry_point == "plugnn_std.layers.dense"


def test_core_imports_no_implementation() -> None:
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom | ast.Import):
                modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not any(m.startswith("plugnn_std") for m in modules), f"{path} imports {modules}"


def test_core_without_the_standard_package_has_an_empty_registry() -> None:
    script = """
import importlib.abc, sys
class Gone(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "plugnn_std" or name.startswith("plugnn_std."):
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, Gone())
import plugnn
registry = plugnn.load_registry(strict=False)
print(len(list(registry.components())))
print(registry.errors[0])
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin"}).stdout.splitlines()
    assert out[0] == "0"
    assert "entry point" in out[1] and "of plugnn" in out[1] and "failed to import" in out[1]


def test_unknown_name_suggests_the_closest(registry) -> None:
    with pytest.raises(RegistryError, match=r"^unknown optimizer 'adma'; did you mean 'adam'\? known: adam, sgd$"):
        registry.optimizers.get("adma")


@attrs.frozen
class OtherDense(plugnn.LayerSpec):
    units: int = 1


class Squatter:
    @plugnn.hookimpl
    def plugnn_register_layers(self, register):
        register("dense", OtherDense, object)


def test_duplicate_name_names_both_plugins() -> None:
    with pytest.raises(PluginLoadError, match=r"layer 'dense' is registered by more than one plugin: dense, .*Squatter"):
        plugnn.load_registry(strict=True, extra_plugins=[Squatter()])
    lenient = plugnn.load_registry(strict=False, extra_plugins=[Squatter()])
    with pytest.raises(RegistryError, match=r"block all but one with PLUGNN_BLOCK_PLUGINS"):
        lenient.layers.get("dense")


class Misspelt:
    @plugnn.hookimpl
    def plugnn_register_layer(self, register):  # no such hook: "layers"
        pass


def test_misspelt_hook_is_reported() -> None:
    with pytest.raises(PluginLoadError, match="unknown hook"):
        plugnn.load_registry(strict=True, extra_plugins=[Misspelt()])
    assert any("unknown hook" in e for e in plugnn.load_registry(strict=False, extra_plugins=[Misspelt()]).errors)


class Crashes:
    @plugnn.hookimpl
    def plugnn_register_losses(self, register):
        raise RuntimeError("boom")


def test_failing_registration_names_the_plugin_and_spares_the_rest() -> None:
    registry = plugnn.load_registry(strict=False, extra_plugins=[Crashes()])
    assert any("Crashes" in e and "plugnn_register_losses" in e and "boom" in e for e in registry.errors)
    assert "softmax_cross_entropy" in registry.losses


def test_block_and_disable(monkeypatch) -> None:
    assert "adam" not in plugnn.load_registry(block=["adam"]).optimizers
    monkeypatch.setenv("PLUGNN_BLOCK_PLUGINS", "sgd, relu")
    registry = plugnn.load_registry()
    assert "sgd" not in registry.optimizers and "relu" not in registry.layers and "adam" in registry.optimizers
    assert len(list(plugnn.load_registry(entry_points_enabled=False).components())) == 0


def test_registries_are_independent() -> None:
    a, b = plugnn.load_registry(), plugnn.load_registry(extra_plugins=[Crashes()], strict=False)
    assert a.errors == [] and b.errors
