"""Conformance checks for any component's spec class: strict structuring, validation, round trip."""

from __future__ import annotations

import tomllib
from typing import Any

import attrs
import tomli_w

from plugnn.errors import SpecError
from plugnn.kinds import kind
from plugnn.registry import Component, Registry
from plugnn.serialize import structure, unstructure
from plugnn.testing.build import label
from plugnn.testing.errors import ConformanceError

NOT_A_SETTING: list[list[object]] = [[]]
"""A value no spec field accepts."""


def _problems(data: dict[str, Any], component: Component, registry: Registry) -> list[tuple[str, str]] | None:
    try:
        structure(data, kind(component.kind).ref, registry)
    except SpecError as exc:
        return exc.problems
    return None


def _under(path: str, field: str) -> bool:
    """Whether an error at ``path`` is about ``field``: the field itself or something inside it
    (``layers[0]`` and ``projection.units`` are inside ``layers`` and ``projection``)."""
    return path == field or path.startswith((f"{field}.", f"{field}[")) or path.endswith(f".{field}")


def check_round_trip(component: Component, spec: Any, registry: Registry) -> None:
    """spec -> dict -> TOML -> dict -> spec gives the same spec."""
    data = unstructure(spec, registry)
    back = structure(tomllib.loads(tomli_w.dumps({"x": data}))["x"], kind(component.kind).ref, registry)
    if back != spec:
        raise ConformanceError(f"{label(component, spec)}: round trip through {data} gave {back!r}")


def check_rejects_unknown_keys(component: Component, spec: Any, registry: Registry) -> None:
    """A misspelt setting is an error naming it, not silently ignored."""
    data = {**unstructure(spec, registry), "no_such_setting": 1}
    problems = _problems(data, component, registry)
    if not problems or "no_such_setting" not in problems[0][1]:
        raise ConformanceError(f"{label(component, spec)}: an unknown key was accepted (got {problems})")


def check_rejects_wrong_types(component: Component, spec: Any, registry: Registry) -> None:
    """Every field rejects a value of the wrong type, with the field in the error path."""
    for field in attrs.fields(type(spec)):
        data = {**unstructure(spec, registry), field.name: NOT_A_SETTING}
        problems = _problems(data, component, registry)
        if not problems:
            raise ConformanceError(
                f"{label(component, spec)}: field {field.name!r} accepted {NOT_A_SETTING!r}; "
                "annotate it with a concrete type"
            )
        if not _under(problems[0][0], field.name):
            raise ConformanceError(
                f"{label(component, spec)}: field {field.name!r} set to {NOT_A_SETTING!r} was refused, but the "
                f"error names another path: {problems}"
            )


def check_validators(component: Component, spec: Any, registry: Registry) -> None:
    """Each of the spec class's ``invalid_examples()`` is rejected with the bad field in the path."""
    for bad in type(spec).invalid_examples():
        data = {**unstructure(spec, registry), **bad}
        problems = _problems(data, component, registry)
        if not problems or not any(_under(path, field) for path, _ in problems for field in bad):
            raise ConformanceError(
                f"{label(component, spec)}: {bad} was accepted or reported without its field (got {problems})"
            )
