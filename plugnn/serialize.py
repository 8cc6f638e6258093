"""Specs to plain dicts and back, through cattrs, with components keyed by registered name.

A component spec becomes ``{"type": "dense", "units": 100, ...}``; a bare name stays a string.
The dict form maps 1:1 to TOML and JSON. Structuring is strict: no unknown keys, no silent
coercion (``"3"`` is not an int, ``1.5`` is not an int), and every problem is reported with its
path, e.g. ``layers[2].units: must be > 0 (got 0)``.
"""

from __future__ import annotations

from typing import Any, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)

from plugnn.errors import FieldError, PlugnnError, SpecError
from plugnn.kinds import KINDS, Kind, kind_of
from plugnn.readers import MAX_DEPTH, depth
from plugnn.registry import Registry
from plugnn.specs import ComponentSpec

T = TypeVar("T")

_REFS: dict[Any, Kind] = {ref: kind for kind in KINDS for ref in (kind.ref, kind.ref | None)}
"""Each spec field type that holds a component (its spec or registered name, maybe None) -> its kind."""

_PRIMITIVES: dict[type, tuple[type, ...]] = {
    int: (int,),
    float: (int, float),
    str: (str,),
    bool: (bool,),
}


def _strict(target: type, accepted: tuple[type, ...]) -> Any:
    def structure(value: Any, _type: Any) -> Any:
        if (isinstance(value, bool) and target is not bool) or not isinstance(value, accepted):
            raise TypeError(f"expected {target.__name__}, got {type(value).__name__} {value!r}")
        return target(value)

    return structure


def make_converter(registry: Registry) -> cattrs.Converter:
    """A cattrs converter that knows the registry's component names."""
    converter = cattrs.Converter(forbid_extra_keys=True)
    for target, accepted in _PRIMITIVES.items():
        converter.register_structure_hook(target, _strict(target, accepted))

    def structure_ref(value: Any, ref_type: Any) -> Any:
        kind = _REFS[ref_type].name
        table = registry.tables[kind]
        if value is None and type(None) in getattr(ref_type, "__args__", ()):
            return None
        if isinstance(value, str):
            table.get(value)  # an unknown name fails here, with its path
            return value
        if not isinstance(value, dict):
            raise TypeError(f"expected a {kind} name or table, got {type(value).__name__} {value!r}")
        if "type" not in value:
            raise FieldError("type", f"required: the name of a registered {kind} ({', '.join(table.names())})")
        fields = dict(value)
        spec_class = table.get(fields.pop("type")).spec
        return converter.structure(fields, spec_class)

    converter.register_structure_hook_func(lambda t: t in _REFS, structure_ref)

    def structure_list(value: Any, tuple_type: Any) -> tuple[Any, ...]:
        """A ``tuple[X, ...]`` field from a list (never from a string or table, whose items or keys
        cattrs would otherwise take one by one); each item's problems keep their index in the path."""
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"expected a list, got {type(value).__name__} {value!r}")
        item_type = get_args(tuple_type)[0]
        items, problems = [], []
        for index, item in enumerate(value):
            try:
                items.append(converter.structure(item, item_type))
            except Exception as exc:
                exc.__notes__ = [
                    *getattr(exc, "__notes__", []),
                    IterableValidationNote(f"@ index {index}", index, item_type),
                ]
                problems.append(exc)
        if problems:
            raise IterableValidationError(f"while structuring {tuple_type}", problems, tuple_type)
        return tuple(items)

    converter.register_structure_hook_func(_is_list_field, structure_list)

    def unstructure_spec(spec: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if isinstance(spec, ComponentSpec):
            out["type"] = registry.tables[kind_of(spec).name].name_of(type(spec))
        for field in attrs.fields(type(spec)):
            value = getattr(spec, field.name)
            if value is not None:  # None means "the default"; TOML has no null
                out[field.name] = converter.unstructure(value)
        return out

    converter.register_unstructure_hook_func(lambda t: isinstance(t, type) and attrs.has(t), unstructure_spec)
    converter.register_unstructure_hook_func(lambda t: t in _REFS, lambda v: converter.unstructure(v))
    return converter


def _is_list_field(field_type: Any) -> bool:
    """``tuple[X, ...]``: how specs declare a list of settings (layers, callbacks, augmentations)."""
    args = get_args(field_type)
    return get_origin(field_type) is tuple and len(args) == 2 and args[1] is Ellipsis


def _problems(exc: BaseException, path: str) -> list[tuple[str, str]]:
    """Flatten a cattrs exception tree into ``(path, message)`` pairs."""
    if isinstance(exc, (ClassValidationError, IterableValidationError)):
        with_notes, without = exc.group_exceptions()
        found: list[tuple[str, str]] = []
        for inner, note in with_notes:
            step = f"[{note.index!r}]" if isinstance(note, IterableValidationNote) else f".{note.name}"
            found += _problems(inner, path + step)
        for inner in without:
            found += _problems(inner, path)
        return found
    if isinstance(exc, FieldError):
        return [(f"{path}.{exc.field}", exc.message)]
    if isinstance(exc, ForbiddenExtraKeysError):
        known = ", ".join(f.name for f in attrs.fields(exc.cl)) if attrs.has(exc.cl) else ""
        return [(path, f"unknown key(s) {', '.join(sorted(exc.extra_fields))}; known: {known}")]
    if isinstance(exc, KeyError):
        return [(path, "required field missing")]
    if isinstance(exc, (PlugnnError, TypeError, ValueError)):
        return [(path, str(exc))]
    raise exc


def _clean(path: str) -> str:
    return path.removeprefix("$").removeprefix(".")


def structure(data: Any, cls: type[T], registry: Registry, *, source: str | None = None) -> T:
    """Build a spec of type ``cls`` from plain data; raise :class:`SpecError` listing every problem."""
    if attrs.has(cls) and not isinstance(data, dict):
        raise SpecError([("", f"expected a table of settings, got {type(data).__name__} {str(data)[:40]!r}")], source)
    if depth(data) > MAX_DEPTH:
        raise SpecError([("", f"nested more than {MAX_DEPTH} levels deep (plugnn.readers.MAX_DEPTH)")], source)
    try:
        return make_converter(registry).structure(data, cls)
    except (ClassValidationError, IterableValidationError, PlugnnError, TypeError, ValueError, KeyError) as exc:
        problems = [(_clean(path), message) for path, message in _problems(exc, "$")]
        raise SpecError(problems, source) from None


def unstructure(spec: Any, registry: Registry) -> Any:
    """The plain-data form of a spec: dicts, lists, strings and numbers only."""
    return make_converter(registry).unstructure(spec)
