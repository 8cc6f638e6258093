"""A run's fingerprint: its spec and data as they were when it started, so ``--resume`` can tell.

``fingerprint.json`` in a run folder records the run's name (its recipe), the SHA-256 of
``spec.toml`` and, for each of the four data arrays, its shape, dtype and SHA-256. Every
checkpoint carries the digest of that record, so :func:`verify_spec` and :func:`verify_data` can
refuse, saying what differs, an edited ``spec.toml``, changed data, or a checkpoint taken by
another run (another spec or other data). There is deliberately no flag to continue anyway: a
resumed run promises the uninterrupted run's result, which a changed spec or other data cannot
give; ``plugnn run FOLDER/spec.toml`` starts a fresh run instead.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from plugnn.atomicfile import write_text
from plugnn.data import DataSplit
from plugnn.errors import PlugnnError
from plugnn.readers import UnreadableFileError, parse, read_text, refuse_unknown
from plugnn.registry import Registry
from plugnn.serialize import unstructure
from plugnn.specfile import load_spec
from plugnn.specs import RunSpec

FINGERPRINT = "fingerprint.json"
ARRAYS = ("x_train", "y_train", "x_test", "y_test")


class ResumeMismatchError(PlugnnError):
    """A run folder's spec, data or checkpoint no longer matches the run that was started there."""


def data_fingerprint(split: DataSplit) -> dict[str, dict[str, Any]]:
    """Shape, dtype and SHA-256 of each of the split's four arrays."""
    record = {}
    for name in ARRAYS:
        array = np.ascontiguousarray(getattr(split, name))
        record[name] = {
            "shape": list(array.shape),
            "dtype": array.dtype.str,
            "sha256": hashlib.sha256(array.reshape(-1).view(np.uint8).data).hexdigest(),
        }
    return record


def _digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def record(folder: Path, spec_text: str, split: DataSplit, name: str) -> str:
    """Write ``fingerprint.json`` for a new run called ``name``; returns the digest its checkpoints carry."""
    content = {
        "name": name,
        "spec_sha256": hashlib.sha256(spec_text.encode()).hexdigest(),
        "data": data_fingerprint(split),
    }
    write_text(folder / FINGERPRINT, json.dumps(content, indent=2) + "\n")
    return _digest(content)


def digest(folder: Path) -> str:
    """The digest the checkpoints of the run in ``folder`` carry (from its ``fingerprint.json``)."""
    content = _load_record(folder)
    if content is None:
        raise ResumeMismatchError(f"{folder / FINGERPRINT}: missing")
    return _digest(content)


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        return {k: v for key, value in data.items() for k, v in _flat(value, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): data}


def spec_differences(old: RunSpec, new: RunSpec, registry: Registry) -> str:
    """The fields where two specs differ, as ``path: old -> new`` (at most five)."""
    before, after = _flat(unstructure(old, registry)), _flat(unstructure(new, registry))
    keys = sorted(before.keys() | after.keys())
    changed = [f"{key}: {before.get(key)!r} -> {after.get(key)!r}" for key in keys if before.get(key) != after.get(key)]
    return "; ".join(changed[:5]) + ("; ..." if len(changed) > 5 else "") if changed else "no field differs"


def _load_record(folder: Path) -> dict[str, Any] | None:
    path = folder / FINGERPRINT
    if not (path.exists() or path.is_symlink()):
        return None
    try:
        content = parse(read_text(path), "json", str(path))
    except (UnreadableFileError, OSError) as exc:
        raise ResumeMismatchError(f"{path}: cannot be read ({exc})") from None
    data = content.get("data") if isinstance(content, dict) else None
    if not (
        isinstance(data, dict)
        and isinstance(content.get("spec_sha256"), str)
        and all(isinstance(data.get(name), dict) for name in ARRAYS)
    ):
        raise ResumeMismatchError(f"{path}: not a plugnn fingerprint (expected spec_sha256 and data of {ARRAYS})")
    try:
        refuse_unknown(str(path), content, ("name", "spec_sha256", "data"))
        refuse_unknown(f"{path}: data", data, ARRAYS)
        for name in ARRAYS:
            refuse_unknown(f"{path}: data.{name}", data[name], ("shape", "dtype", "sha256"))
    except UnreadableFileError as exc:
        raise ResumeMismatchError(str(exc)) from None
    record: dict[str, Any] = content
    return record


def verify_spec(folder: Path, checkpoint_spec: RunSpec, carried: str, registry: Registry) -> dict[str, Any] | None:
    """Check ``spec.toml`` and the checkpoint against the folder's fingerprint; returns the record.

    A folder without ``fingerprint.json`` (made by plugnn 0.1) is resumed with a warning.
    """
    content = _load_record(folder)
    if content is None:
        warnings.warn(f"{folder}: no {FINGERPRINT} (an older run folder): spec and data unchecked", stacklevel=3)
        return None
    spec_path = folder / "spec.toml"
    try:
        text = read_text(spec_path)
    except FileNotFoundError:
        raise ResumeMismatchError(f"{spec_path}: missing; a run folder keeps the spec it was started with") from None
    except UnreadableFileError as exc:
        raise ResumeMismatchError(str(exc)) from None
    if hashlib.sha256(text.encode()).hexdigest() != content["spec_sha256"]:
        try:
            what = spec_differences(checkpoint_spec, load_spec(spec_path, RunSpec, registry), registry)
        except PlugnnError:
            what = "it no longer reads as a spec"
        raise ResumeMismatchError(
            f"{spec_path}: edited since the run started ({what}); --resume continues the run exactly as it "
            f"was started: undo the edit, or start a new run with plugnn run {spec_path}"
        )
    if carried != _digest(content):
        what = spec_differences(load_spec(spec_path, RunSpec, registry), checkpoint_spec, registry)
        raise ResumeMismatchError(
            f"{folder / 'checkpoint.npz'}: belongs to another run "
            f"({what if what != 'no field differs' else 'same spec, other data or another plugnn'}); "
            "put back this run's checkpoint or start a new run"
        )
    return content


def verify_data(folder: Path, content: dict[str, Any] | None, split: DataSplit) -> None:
    """Refuse data that differs from what the run in ``folder`` started with, saying how."""
    if content is None:
        return
    now, then = data_fingerprint(split), content["data"]
    changed = []
    for name in ARRAYS:
        for field in ("shape", "dtype", "sha256"):
            if now[name][field] != then[name].get(field):
                was, got = then[name].get(field), now[name][field]
                if field == "sha256":
                    was, got = str(was)[:12] + "...", got[:12] + "..."
                changed.append(f"{name} {field} {was} -> {got}")
                break
    if changed:
        raise ResumeMismatchError(
            f"{folder}: the data changed since the run started ({'; '.join(changed)}); "
            "--resume needs the same data, or start a new run"
        )
