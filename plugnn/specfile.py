"""Spec files: TOML or JSON (by suffix) to specs and back, through the registry.

Errors carry the file, the key path and the reason; unknown component names list the registered
ones. Saving never overwrites an existing file unless asked to.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, TypeVar

import tomli_w

from plugnn.errors import SpecError
from plugnn.readers import UnreadableFileError, parse, read_text
from plugnn.registry import Registry
from plugnn.serialize import structure, unstructure

T = TypeVar("T")
SUFFIXES = (".toml", ".json")


def parse_file(path: Path) -> Any:
    """The plain data in a ``.toml`` or ``.json`` file, or a :class:`SpecError` naming the file."""
    if path.suffix not in SUFFIXES:
        raise SpecError([("", f"expected a .toml or .json file, got {path.name!r}")], str(path))
    try:
        return parse(read_text(path), path.suffix[1:], str(path))
    except FileNotFoundError:
        raise SpecError([("", "no such file")], str(path)) from None
    except UnreadableFileError as exc:
        raise SpecError([("", exc.reason)], str(path)) from None
    except OSError as exc:
        raise SpecError([("", f"cannot read it: {exc.strerror}")], str(path)) from None


def load_spec(path: str | Path, cls: type[T], registry: Registry) -> T:
    """Read a spec of type ``cls`` (e.g. :class:`plugnn.specs.RunSpec`) from a TOML or JSON file."""
    path = Path(path)
    return structure(parse_file(path), cls, registry, source=str(path))


def dumps(spec: Any, registry: Registry, *, fmt: str = "toml") -> str:
    """The text of ``spec`` as TOML or JSON (TOML's nested layer lists indented by depth)."""
    data = unstructure(spec, registry)
    return _indent_arrays(toml_text(data)) if fmt == "toml" else json.dumps(data, indent=2) + "\n"


def _indent_arrays(text: str) -> str:
    """Indent each line of a multi-line TOML array by how many arrays are open around it (four spaces a
    level), so that the layers of a block inside a block read as nested; a line closing an array stands
    at the level of the line that opened it. Brackets inside strings do not count."""
    lines, depth = [], 0
    for line in text.splitlines():
        stripped = line.lstrip()
        level = depth - 1 if stripped.startswith("]") else depth
        lines.append("    " * level + stripped if depth and stripped else line)
        depth += _bracket_balance(stripped)
    return "\n".join(lines) + "\n"


def _bracket_balance(line: str) -> int:
    """Opened minus closed ``[`` on a TOML line, outside strings."""
    balance, quote, escaped = 0, "", False
    for char in line:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        else:
            balance += {"[": 1, "]": -1}.get(char, 0)
    return balance


def toml_text(data: dict[str, Any]) -> str:
    """``data`` as TOML, the ``train`` table's lists of components (``callbacks``) as arrays of tables.

    ``[[train.callbacks]]`` tables, one per callback (a name alone as ``type = NAME``) and none for
    an empty list, so that a user can append one more to the text; an inline ``callbacks = [...]``
    would make that a TOML error.
    """
    train = dict(data.get("train", {}))
    arrays = {key: train.pop(key) for key, value in list(train.items()) if key in TABLE_LISTS and _components(value)}
    text = tomli_w.dumps({**data, "train": train} if "train" in data else data, indent=4)
    for key, items in arrays.items():
        for item in items:
            item = {"type": item} if isinstance(item, str) else item
            body = HEADER.sub(rf"[\1train.{key}.\2\3]", tomli_w.dumps(item, indent=4))
            text += f"\n[[train.{key}]]\n{body}"
    return text


TABLE_LISTS = ("callbacks",)
"""The ``train`` lists written as arrays of tables (``train.augment``, short, stays an inline list)."""

HEADER = re.compile(r"^\[(\[?)(.+?)(\]?)\]$", re.M)
"""A table header in tomli_w's output (``[sub]``, ``[[sub]]``): it starts a line, values never do."""


def _components(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, (dict, str)) for item in value)


def save_spec(spec: Any, path: str | Path, registry: Registry, *, overwrite: bool = False) -> Path:
    """Write ``spec`` to ``path`` (format by suffix); refuses to replace an existing file unless ``overwrite``."""
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise SpecError([("", f"expected a .toml or .json file name, got {path.name!r}")], str(path))
    text = dumps(spec, registry, fmt=path.suffix[1:])
    with path.open("w" if overwrite else "x", encoding="utf-8") as handle:
        handle.write(text)
    return path
