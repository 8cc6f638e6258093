"""Overrides: set any field of a run spec by its dotted path, e.g. ``network.optimizer.lr = 0.01``.

A path names fields from the :class:`RunSpec` down: ``train.epochs``, ``data``,
``network.optimizer.lr``, ``network.layers[2].units`` (``network.layers.2.units`` works too).
A component given by its bare name (``"adam"``) is expanded to its settings when a path goes into
it; setting a component's ``type`` replaces it with that component at its default settings.
Every new value is validated like a spec file's, with its path::

    spec = apply_overrides(spec, {"train.epochs": 3, "network.optimizer.lr": 0.01}, registry)

On the command line (``plugnn run --set KEY=VALUE``) a value is read as TOML (``3``, ``1e-3``,
``true``, ``"text"``, ``{type = "sgd", lr = 0.1}``); text that is not TOML is taken as a string,
so ``--set data=digits`` needs no quotes.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs
import tomli_w

from plugnn.errors import PlugnnError, SpecError
from plugnn.registry import Registry
from plugnn.serialize import structure, unstructure
from plugnn.specs import ComponentSpec

Step = str | int
T = TypeVar("T")
_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*|\d+)((?:\[\d+\])*)")


def parse_path(path: str) -> list[Step]:
    """``"network.layers[2].units"`` -> ``["network", "layers", 2, "units"]``."""
    steps: list[Step] = []
    for part in path.split("."):
        match = _STEP.fullmatch(part)
        if match is None:
            raise SpecError([(path, "not a field path; write names joined by dots, e.g. network.optimizer.lr")])
        name, indices = match.groups()
        steps.append(int(name) if name.isdigit() else name)
        steps += [int(index) for index in re.findall(r"\d+", indices)]
    return steps


def format_path(steps: list[Step]) -> str:
    """The inverse of :func:`parse_path`: ``network.layers[2].units``."""
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else step
    return text


def flatten(data: Any) -> dict[str, str]:
    """Plain spec data (:func:`plugnn.unstructure`'s) as ``{path: value}``, by paths :func:`set_field` takes.

    ``{"network": {"optimizer": {"lr": 0.001}, "layers": ["relu"]}}`` ->
    ``{"network.optimizer.lr": "0.001", "network.layers.0": "relu"}``: one entry per scalar, list
    indices as dotted numbers (``network.layers.0.units``, which ``--set`` reads as
    ``network.layers[0].units``; tracking stores such as MLflow allow no brackets in names), text as
    it is, numbers and booleans as TOML writes them; an empty table or list is ``{}`` or ``[]``.
    """
    flat: dict[str, str] = {}
    stack: list[tuple[list[Step], Any]] = [([], data)]
    while stack:
        steps, node = stack.pop()
        children = (
            list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else None
        )
        if children is None:
            flat[".".join(map(str, steps))] = node if isinstance(node, str) else tomli_w.dumps({"v": node})[4:].strip()
        elif not children:
            flat[".".join(map(str, steps))] = "{}" if isinstance(node, dict) else "[]"
        else:
            stack.extend(([*steps, key], child) for key, child in reversed(children))
    return flat


def parse_value(text: str) -> Any:
    """A command-line value: TOML (``3``, ``1e-3``, ``true``, ``[1, 2]``, ``{type = "sgd"}``), else the text."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def parse_assignment(text: str) -> tuple[str, Any]:
    """``"train.epochs=3"`` -> ``("train.epochs", 3)``."""
    path, sep, value = text.partition("=")
    if not sep or not path.strip():
        raise ValueError(f"expected KEY=VALUE such as train.epochs=3, got {text!r}")
    return path.strip(), parse_value(value.strip())


def parse_component(text: str) -> str | dict[str, Any]:
    """``"early_stopping:monitor=val_loss,patience=3"`` -> ``{"type": "early_stopping", "monitor": "val_loss", ...}``.

    A bare name stays a name (default settings); each value is read like :func:`parse_value`.
    """
    name, sep, settings = text.partition(":")
    if not name.strip():
        raise ValueError(f"expected NAME or NAME:KEY=VALUE,... such as early_stopping:patience=3, got {text!r}")
    if not sep:
        return name.strip()
    return {"type": name.strip()} | dict(parse_assignment(item) for item in settings.split(",") if item.strip())


def _keys(node: Any) -> list[str]:
    """The keys a path may take at ``node`` (a spec object or a tuple)."""
    if isinstance(node, tuple):
        return [f"[{index}]" for index in range(len(node))]
    names = [field.name for field in attrs.fields(type(node))]
    return ["type", *names] if isinstance(node, ComponentSpec) else names


def _child(node: Any, step: Step, where: list[Step]) -> Any:
    """``node``'s field or entry ``step``, or a :class:`SpecError` naming the valid keys at ``where``."""
    here = format_path(where) or f"the {type(node).__name__}"
    if isinstance(node, tuple):
        if isinstance(step, int) and step < len(node):
            return node[step]
        raise SpecError([(here, f"no entry {step!r}; it has {len(node)}: {', '.join(_keys(node))}")])
    if not attrs.has(type(node)):
        raise SpecError([(here, f"is {type(node).__name__} {node!r}, which has no field {step!r}")])
    keys = _keys(node)
    if step == "type" and isinstance(node, ComponentSpec):
        return None
    if step not in keys:
        close = difflib.get_close_matches(str(step), keys, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SpecError([(here, f"unknown key {step!r}{hint}; valid keys: {', '.join(keys)}")])
    return getattr(node, str(step))


def set_field(spec: T, path: str, value: Any, registry: Registry) -> T:
    """``spec`` (a :class:`RunSpec`, or any spec such as a :class:`NetworkSpec`) with the field at
    ``path`` set to ``value`` (plain data or a spec), validated."""
    root = type(spec)
    steps = parse_path(path)
    data = unstructure(spec, registry)
    node: Any = spec
    for depth, step in enumerate(steps[:-1]):
        where, here = steps[:depth], format_path(steps[: depth + 1])
        child = _child(node, step, where)
        if step == "type":
            raise SpecError([(here, "is a component's name; it has no fields")])
        if child is None:
            raise SpecError([(here, "is not set; set it whole first, e.g. {type = ...}")])
        if isinstance(child, str):  # a bare component name: expand it to its settings to go inside
            _node(data, where)[step] = {"type": child}
            try:
                spec = structure(data, root, registry)
            except SpecError:
                raise SpecError([(here, f"is {child!r}, which has no field {steps[depth + 1]!r}")]) from None
            data = unstructure(spec, registry)
            child = _node(spec, steps[: depth + 1])
        node = child
    last = steps[-1]
    _child(node, last, steps[:-1])
    if last == "type":  # another component: it starts from its own defaults
        _node(data, steps[:-2])[steps[-2]] = {"type": value}
    else:
        _node(data, steps[:-1])[last] = unstructure(value, registry) if attrs.has(type(value)) else value
    return structure(data, root, registry)


def _node(root: Any, steps: list[Step]) -> Any:
    """What ``steps`` lead to in plain data (dicts, lists) or in a spec (attrs objects, tuples)."""
    for step in steps:
        root = root[step] if isinstance(step, int) or isinstance(root, dict) else getattr(root, step)
    return root


def apply_overrides(spec: T, overrides: Mapping[str, Any], registry: Registry) -> T:
    """``spec`` with every ``path: value`` of ``overrides`` set, in order (see :func:`set_field`).

    Raises :class:`plugnn.SpecError` naming the path: an unknown key lists the valid keys at its
    level, a value of the wrong type names the type expected.
    """
    for path, value in overrides.items():
        if not isinstance(path, str):
            raise PlugnnError(f"override paths are strings such as 'train.epochs', got {path!r}")
        spec = set_field(spec, path, value, registry)
    return spec
