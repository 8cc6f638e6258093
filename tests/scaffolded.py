"""A plugin written by ``plugnn new-plugin``, its module loaded from its file (not installed, sys.path untouched)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import plugnn


def scaffolded(kind: str, folder: Path, name: str) -> ModuleType:
    """Write the plugin ``name`` of ``kind`` into ``folder`` and return its module ``plugnn_<name>``."""
    root = plugnn.new_plugin(name, kind=kind, folder=folder)
    spec = importlib.util.spec_from_file_location(f"plugnn_{name}", root / f"plugnn_{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
