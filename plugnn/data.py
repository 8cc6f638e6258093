"""Datasets as the core sees them: the split a dataset returns, and name resolution.

Implementations (digits, MNIST, Fashion-MNIST, IDX folders) are plugins registered through the
``plugnn_register_datasets`` hook; their factories return a :class:`plugnn.protocols.Dataset`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from plugnn.builder import made, resolve
from plugnn.datasplit import DataSplit
from plugnn.errors import DataError
from plugnn.memory import converted
from plugnn.overrides import parse_assignment
from plugnn.protocols import Array, Dataset
from plugnn.registry import Registry
from plugnn.specs import DatasetRef

__all__ = ["DataSplit", "images_to_samples", "load_dataset", "parse_data_option"]


def load_dataset(ref: DatasetRef, registry: Registry) -> DataSplit:
    """Resolve a dataset name or spec through ``registry`` and load it."""
    component, spec = resolve(ref, "dataset", registry, "data")
    split = made(component, component.factory(spec), Dataset).load()
    if not isinstance(split, DataSplit):
        raise DataError(f"dataset {component.name!r}: load() returned {type(split).__name__}, not a plugnn.DataSplit")
    return split


DATA_FORMS = (
    "NAME (digits, mnist, ...), idx:DIR (an IDX folder), npz:FILE (arrays x_train, y_train, x_test, y_test, "
    "or x, y), csv:FILE:label=COLUMN"
)
"""The forms of ``--data``, for its help and its errors."""

SETTINGS = re.compile(r"^[A-Za-z_]\w*=")


def parse_data_option(text: str) -> Any:
    """The command line's ``--data NAME[:PATH][:KEY=VALUE,...]`` as a dataset reference.

    ``digits`` is a name; ``idx:DIR`` is ``{"type": "idx", "path": "DIR"}``; settings after a last
    colon are read as ``--set`` values: ``csv:iris.csv:label=species,test_size=0.3`` is
    ``{"type": "csv", "path": "iris.csv", "label": "species", "test_size": 0.3}``. A file or path
    given without its type is refused with the forms to write instead.
    """
    name, sep, rest = text.partition(":")
    if not name:
        raise DataError(f"--data {text!r}: expected NAME or NAME:PATH[:KEY=VALUE,...]: {DATA_FORMS}")
    if not sep:
        if "/" in name or Path(name).suffix:
            kind = Path(name).suffix.lstrip(".").lower()
            fix = f"write {kind}:{name}" if kind in ("npz", "csv") else "give its type in front"
            raise DataError(f"--data {name!r} looks like a file; {fix} (--data takes {DATA_FORMS})")
        return name
    path, colon, settings = rest.rpartition(":")
    if not (colon and SETTINGS.match(settings)):
        path, settings = rest, ""
    try:
        extra = dict(parse_assignment(item) for item in settings.split(",") if item.strip())
    except ValueError as exc:
        raise DataError(f"--data {text!r}: {exc}") from None
    return {"type": name, **({"path": path} if path else {}), **extra}


def images_to_samples(images: np.ndarray, scale: float = 255.0) -> Array:
    """``(N, H, W)`` integer pixels -> ``(N, H, W, 1)`` float32 in [0, 1] (channels-last, one channel)."""
    samples = converted(images.reshape(*images.shape[:3], 1), np.float32, "images")
    samples /= np.float32(scale)
    return samples
