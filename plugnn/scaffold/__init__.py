"""``plugnn new-plugin NAME``: a new plugin distribution with one working component and its kit test.

:func:`new_plugin` writes, into a new folder (``plugnn-NAME`` by default)::

    pyproject.toml          the distribution plugnn-NAME, entry point NAME = "plugnn_NAME", extra test = plugnn[kit]
    plugnn_NAME.py          one component of the kind asked, registered as NAME (see KINDS)
    tests/test_NAME_kit.py  plugnn's conformance kit over it (parametrize_with_checks)
    README.md               how to install, check and use it

The components are small but real, and pass the kit as generated: a scaled-tanh layer with its
gradient and ONNX converter, the Lion optimizer with its reference step, a label-smoothed softmax
cross-entropy, a callback that stops at a target, the two-moons dataset (with a loading test).
The templates are the ``*.tmpl`` files beside this module (:class:`string.Template`).
"""

from __future__ import annotations

import keyword
import re
from importlib.metadata import entry_points, version
from importlib.util import find_spec
from pathlib import Path
from string import Template

from plugnn.errors import PlugnnError
from plugnn.plugins import ENTRY_POINT_GROUP, default_registry
from plugnn.registry import Registry

HERE = Path(__file__).resolve().parent

KINDS: dict[str, str] = {
    "layer": "a scaled tanh, Y = 1.7159 · tanh(2/3 · X), with its gradient and ONNX converter",
    "optimizer": "Lion (Chen et al. 2023), with its reference step",
    "loss": "softmax cross-entropy with label smoothing",
    "callback": "stops training once a history column reaches a target",
    "dataset": "two interleaving half-moons in 2-D (scikit-learn's make_moons)",
}
"""The kinds ``new-plugin`` makes, and what the generated component is."""

USAGE: dict[str, str] = {
    "layer": 'In a spec file, beside the standard layers:\n\n```toml\n[network]\nlayers = [{ type = "dense", '
    'units = 100 }, "$name", { type = "dense", units = 10 }]\n```',
    "optimizer": "```bash\nplugnn run quickstart --set 'network.optimizer={type = \"$name\", lr = 3e-4}'\n```",
    "loss": "```bash\nplugnn run quickstart --set network.loss=$name\n```",
    "callback": "```bash\nplugnn run quickstart --set train.validation=0.2 --callback $name:target=0.9\n```",
    "dataset": "```bash\nplugnn run quickstart --data $name\n```",
}
"""How the README shows the component in use, per kind."""

NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


def check_name(name: str, kind: str, registry: Registry) -> None:
    """Raise :class:`PlugnnError` unless ``name`` can name a new plugin and its component.

    A lowercase Python identifier (it is also the module ``plugnn_NAME``), not taken by an installed
    plugin (entry point), a registered component of ``kind`` or an importable module ``plugnn_NAME``.
    """
    if not NAME.match(name) or keyword.iskeyword(name):
        raise PlugnnError(
            f"plugin name {name!r}: expected a lowercase Python identifier (letters, digits and _, "
            "starting with a letter), e.g. scaled_tanh"
        )
    if kind not in KINDS:
        raise PlugnnError(f"unknown kind {kind!r}; new-plugin makes one of: {', '.join(KINDS)}")
    installed = {point.name: point.value for point in entry_points(group=ENTRY_POINT_GROUP)}
    if name in installed:
        raise PlugnnError(
            f"plugin name {name!r} is taken by an installed plugin ({installed[name]}); choose another name"
        )
    table = registry.tables[kind]
    if name in table:
        raise PlugnnError(
            f"plugin name {name!r}: a {kind} {name!r} is already registered by plugin {table.get(name).plugin!r}; "
            "choose another name"
        )
    if find_spec(f"plugnn_{name}") is not None:
        raise PlugnnError(f"plugin name {name!r}: a module plugnn_{name} is already installed; choose another name")


def _class_name(name: str) -> str:
    """``scaled_tanh`` -> ``ScaledTanh``."""
    return "".join(part.capitalize() for part in name.split("_") if part)


def new_plugin(
    name: str, *, kind: str = "layer", folder: str | Path | None = None, registry: Registry | None = None
) -> Path:
    """Write a new plugin distribution for one ``kind`` component called ``name``; return its folder.

    ``folder`` (default ``plugnn-NAME``, ``_`` written as ``-``) must not exist or be empty; the
    name is checked first (:func:`check_name`, against ``registry``, by default every installed
    plugin). Nothing is written when a check fails.
    """
    check_name(name, kind, registry or default_registry())
    dist = "plugnn-" + name.replace("_", "-")
    root = Path(folder if folder is not None else dist)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise PlugnnError(f"{root}: already exists and is not an empty folder; new-plugin writes only into a new one")
    module = f"plugnn_{name}"
    values = {
        "name": name,
        "Class": _class_name(name),
        "kind": kind,
        "module": module,
        "dist": dist,
        "description": f"A plugnn {kind}: {KINDS[kind]}.",
        "description_lower": KINDS[kind],
        "plugnn_version": version("plugnn"),
    }
    values["usage"] = Template(USAGE[kind]).substitute(values)
    files = {
        "pyproject.toml": "pyproject.toml",
        "README.md": "README.md",
        f"{module}.py": f"{kind}.py",
        f"tests/test_{name}_kit.py": "test_conformance.py",
    }
    if kind == "dataset":  # the kit checks a dataset's spec only: a test loads it
        files[f"tests/test_{name}_loads.py"] = "test_dataset.py"
    for target, template in files.items():
        path = root / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template((HERE / f"{template}.tmpl").read_text()).substitute(values))
    return root
