"""plugnn's modules import one another without a cycle, type-only imports included.

A cycle through ``if TYPE_CHECKING:`` imports costs nothing at run time, but it means that no
module of the circle can be read, typed or moved without the others: the plugin-facing types
(:class:`plugnn.DataSplit`, :class:`plugnn.TrainContext`, the protocols) sit below the modules that
use them instead. Imports inside functions are left out: they run once every module is loaded
(plugnn defers optional and heavy imports that way).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np

import plugnn

PACKAGE = Path(plugnn.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports(name: str) -> set[str]:
    """The plugnn modules ``name`` imports at module level or under ``if TYPE_CHECKING:``."""
    found: set[str] = set()
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name in MODULES)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
                for alias in node.names:
                    target = f"{base}.{alias.name}"
                    found.add(target if target in MODULES else base)
            elif isinstance(node, (ast.If, ast.Try, ast.With, ast.ClassDef)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(ast.parse(MODULES[name].read_text()).body)
    return {module for module in found if module in MODULES and module != name}


def cycle_from(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle (its modules, the first repeated at the end), or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(module: str) -> list[str]:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := walk(target)):
                return found
        state[module] = 2
        path.pop()
        return []

    for module in sorted(graph):
        if module not in state and (found := walk(module)):
            return found
    return []


def test_the_package_has_no_import_cycle() -> None:
    graph = {name: imports(name) for name in MODULES}
    assert cycle_from(graph) == [], " -> ".join(cycle_from(graph))


def test_the_walk_finds_a_cycle_through_a_type_checking_import() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycle_from(graph) == ["a", "b", "c", "a"]
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from plugnn.train import TrainContext\n"
    assert "plugnn.train" in {n.module for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)}
    assert "plugnn.train" in imports("plugnn.hookspecs") or "plugnn.context" in imports("plugnn.hookspecs")


def test_every_name_writing_plugins_gives_authors_is_importable_from_plugnn() -> None:
    text = (PACKAGE.parent / "docs" / "writing-plugins.md").read_text()
    names = set(re.findall(r"\bplugnn\.([A-Z]\w*)", text))  # classes; lower-case names are modules
    assert {"DataSplit", "TrainContext", "CallbackSpec", "DatasetSpec", "MonitoredSpec"} <= names
    assert [name for name in sorted(names) if not hasattr(plugnn, name)] == []
    assert plugnn.DataSplit is plugnn.data.DataSplit and plugnn.protocols.DataSplit is plugnn.DataSplit


def test_the_context_a_hook_gets_is_a_train_context() -> None:
    from plugnn_std import Dense

    seen: list[bool] = []

    class Check:
        @plugnn.hookimpl
        def plugnn_epoch_end(self, context: plugnn.TrainContext) -> None:
            seen.append(isinstance(context, plugnn.TrainContext))

    spec = plugnn.NetworkSpec(layers=[Dense(2)], loss="softmax_cross_entropy", optimizer="sgd", init="he")
    x = np.linspace(0, 1, 8, dtype=np.float32).reshape(4, 2)
    plugnn.train(spec, x, np.array([0, 1, 0, 1]), plugnn.TrainSpec(epochs=1, batch_size=2), plugins=[Check()])
    assert seen == [True]
