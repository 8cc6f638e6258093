"""``pip install plugnn[kit]`` brings everything the conformance kit imports."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(requirements: list[str]) -> set[str]:
    return {normalized(re.match(r"[A-Za-z0-9._-]+", requirement).group()) for requirement in requirements}


def test_the_kit_extra_brings_every_package_the_kit_imports() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    provided = requirement_names(project["dependencies"] + project["optional-dependencies"]["kit"])
    imported = set()
    for path in (ROOT / "plugnn" / "testing").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = {name for name in imported if name not in sys.stdlib_module_names and name != "plugnn"}
    assert {"pytest", "onnxruntime"} <= third_party
    distributions = packages_distributions()
    missing = {name for name in third_party if not requirement_names(distributions[name]) & provided}
    assert not missing, f"plugnn.testing imports {sorted(missing)}, which neither plugnn nor plugnn[kit] installs"
