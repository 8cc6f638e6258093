"""The plugin manager, the registry and the core's independence from any implementation."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from plugnn_process import run_plugnn

import plugnn
from plugnn.errors import PluginLoadError, RegistryError

CORE = Path(plugnn.__file__).parent
STANDARD = {
    "layer": {"identity", "relu", "dense"},
    "loss": {"softmax_cross_entropy"},
    "optimizer": {"sgd", "adam"},
    "initializer": {"he", "glorot", "normal"},
}


def test_standard_components_come_through_entry_points(registry) -> None:
    for kind, names in STANDARD.items():
        assert names <= set(registry.tables[kind].names())
    dense = registry.tables["layer"].get("dense")
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
registry = plugnn.load_registry(strict=False, third_party=False)  # installed third parties register their own
print(len(list(registry.components())))
print(registry.errors[0])
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"}
    ).stdout.splitlines()
    assert out[0] == "0"
    assert "entry point" in out[1] and "of plugnn" in out[1] and "failed to import" in out[1]


def test_unknown_name_suggests_the_closest(registry) -> None:
    with pytest.raises(RegistryError, match=r"^unknown optimizer 'adma'; did you mean 'adam'\? known: adam, sgd$"):
        registry.tables["optimizer"].get("adma")


@attrs.frozen
class OtherDense(plugnn.LayerSpec):
    units: int = 1


class Squatter:
    @plugnn.hookimpl
    def plugnn_register_layers(self, register):
        register("dense", OtherDense, object)


def test_duplicate_name_names_both_plugins() -> None:
    with pytest.raises(
        PluginLoadError,
        match=r"layer 'dense' is registered by more than one plugin: 'dense' "
        rf"\(plugnn_std.layers.dense from plugnn {re.escape(plugnn.__version__)}\), 'Squatter'",
    ):
        plugnn.load_registry(strict=True, extra_plugins=[Squatter()])
    lenient = plugnn.load_registry(strict=False, extra_plugins=[Squatter()])
    with pytest.raises(RegistryError, match=r"block all but one with PLUGNN_BLOCK_PLUGINS"):
        lenient.tables["layer"].get("dense")


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
    assert "softmax_cross_entropy" in registry.tables["loss"]


def test_block_and_disable(monkeypatch) -> None:
    assert "adam" not in plugnn.load_registry(block=["adam"]).tables["optimizer"]
    monkeypatch.setenv("PLUGNN_BLOCK_PLUGINS", "sgd, relu")
    registry = plugnn.load_registry()
    assert (
        "sgd" not in registry.tables["optimizer"]
        and "relu" not in registry.tables["layer"]
        and "adam" in registry.tables["optimizer"]
    )
    assert len(list(plugnn.load_registry(entry_points_enabled=False).components())) == 0


def test_registries_are_independent() -> None:
    a, b = plugnn.load_registry(), plugnn.load_registry(extra_plugins=[Crashes()], strict=False)
    assert not a.errors and b.errors


def fake_distribution(site: Path, dist: str, module: str, source: str, entry: str) -> None:
    """An installed distribution on ``site``: a module and its dist-info with one plugnn entry point."""
    (site / f"{module}.py").write_text(source)
    info = site / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[plugnn]\n{entry} = {module}\n")


def run_with_site(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return run_plugnn(*args, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), **env}, timeout=120)


def test_a_plugin_that_fails_to_import_is_named_with_its_distribution(tmp_path) -> None:
    fake_distribution(tmp_path, "broken-dist", "broken_plugin", "raise ImportError('needs libfoo')\n", "broken")
    done = run_with_site(tmp_path, "plugins")
    assert done.returncode == 1, done.stderr  # listed, and the command fails
    line = next(line for line in done.stdout.splitlines() if line.startswith("broken"))
    assert "broken-dist 1.2.3" in line and "FAILED" in line and "entry point 'broken_plugin'" in line
    assert "needs libfoo" in line
    assert "layer dense" in done.stdout  # the others still load
    strict = run_with_site(tmp_path, "recipes", PLUGNN_STRICT_PLUGINS="1")
    assert strict.returncode == 1 and "plugnn: error: plugin 'broken'" in strict.stderr
    assert "Traceback" not in strict.stderr


def test_a_name_claimed_twice_names_both_distributions(tmp_path) -> None:
    source = (
        "import attrs, plugnn\n"
        "@attrs.frozen\nclass MyReLU(plugnn.LayerSpec):\n    pass\n"
        "@plugnn.hookimpl\ndef plugnn_register_layers(register):\n    register('relu', MyReLU, object)\n"
    )
    fake_distribution(tmp_path, "relu-clone", "relu_clone", source, "relu_clone")
    done = run_with_site(tmp_path, "run", "--quiet", "--out", str(tmp_path / "run"))
    assert done.returncode == 1
    assert (
        "layer 'relu' is registered by more than one plugin "
        f"('relu' (plugnn_std.layers.relu from plugnn {plugnn.__version__}), "
        "'relu_clone' (relu_clone from relu-clone 1.2.3))" in done.stderr
    )
    blocked = run_with_site(
        tmp_path, "run", "--quiet", "--epochs", "1", "--out", str(tmp_path / "run2"), PLUGNN_BLOCK_PLUGINS="relu_clone"
    )
    assert blocked.returncode == 0, blocked.stderr


def test_every_kind_has_its_hook_table_and_checks() -> None:
    from plugnn import hookspecs
    from plugnn.kinds import KINDS
    from plugnn.testing import CHECKS

    registration_hooks = {name for name in dir(hookspecs) if name.startswith("plugnn_register_")}
    # recipes and ONNX converters are not components (no spec, no factory): their own registrations
    assert registration_hooks == {kind.hook for kind in KINDS} | {
        "plugnn_register_recipes",
        "plugnn_register_onnx_converters",
    }
    registry = plugnn.load_registry(entry_points_enabled=False)
    assert list(registry.tables) == [kind.name for kind in KINDS] == list(CHECKS)


def test_a_built_registry_is_sealed(registry) -> None:
    with pytest.raises(RegistryError, match="sealed"):
        registry.tables["layer"].add("late", attrs.frozen(type("Late", (plugnn.LayerSpec,), {})), object, plugin="x")
    with pytest.raises(RegistryError, match="sealed"):
        registry.add_recipe("late", Path("late.toml"), plugin="x")
    with pytest.raises(TypeError):
        registry.tables["late"] = registry.tables["layer"]  # type: ignore[index]


def test_a_factory_that_returns_no_component_is_named() -> None:
    @attrs.frozen
    class Hollow(plugnn.LossSpec):
        pass

    class Plugin:
        @plugnn.hookimpl
        def plugnn_register_losses(self, register):
            register("hollow", Hollow, lambda spec: object())

    registry = plugnn.load_registry(strict=True, entry_points_enabled=False, extra_plugins=[Plugin()])
    with pytest.raises(
        plugnn.PlugnnError,
        match=r"loss 'hollow' \(plugin '.*Plugin'\): its factory returned object, which is not a Loss",
    ):
        plugnn.build_loss("hollow", registry)


EDGES = {
    "cli": {"*"},
    "run": {"run", "resume", "evaluate", "test_scores", "recipe_table", "show"},
    "train": {"train"},
    "model_io": {"save", "load"},
    "export": {"export_onnx"},
    "sklearn": {"*"},  # scikit-learn's estimator API has no place for a registry
    "plugins": {"default_registry"},
    "sweeps.runner": {"sweep"},
    "sweeps.trial": {"run_trial"},  # a sweep worker's entry point: its process's installed plugins
    "scaffold.__init__": {"new_plugin"},  # plugnn new-plugin's twin: a name must be free among the installed plugins
}
"""Where plugnn may fall back on the process-wide registry: the command line and the top-level helpers."""


def test_the_default_registry_is_used_only_at_the_edges() -> None:
    for path in CORE.rglob("*.py"):
        module = path.relative_to(CORE).with_suffix("").as_posix().replace("/", ".")
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, ast.FunctionDef):
                continue
            calls = [
                node
                for node in ast.walk(function)
                if isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "default_registry"
            ]
            allowed = EDGES.get(module, set())
            assert not calls or "*" in allowed or function.name in allowed, (
                f"plugnn/{module}.py: {function.name}() uses default_registry(); library code takes its registry"
            )


def test_each_registration_hook_documents_its_kinds_factory() -> None:
    from plugnn import hookspecs
    from plugnn.kinds import KINDS

    for kind in KINDS:
        assert kind.factory in (getattr(hookspecs, kind.hook).__doc__ or ""), f"{kind.hook} lacks {kind.factory!r}"
