"""Datasets as the core sees them: the split a dataset returns, and name resolution.

Implementations (digits, MNIST, Fashion-MNIST, IDX folders) are plugins registered through the
``plugnn_register_datasets`` hook; their factories return a :class:`plugnn.protocols.Dataset`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from plugnn.builder import made, resolve
from plugnn.errors import DataError
from plugnn.memory import converted
from plugnn.overrides import parse_assignment
from plugnn.protocols import Array, Dataset, Labels
from plugnn.registry import Registry
from plugnn.specs import DatasetRef


@attrs.frozen(eq=False)
class DataSplit:
    """A dataset ready to train on: float32 samples in [0, 1] and integer labels.

    Attributes
    ----------
    x_train, x_test : Array
        ``(N, *sample_shape)`` float32 samples: ``(N, D)`` features, or channels-last images
        ``(N, H, W, C)`` (grey-scale image sets are ``(N, H, W, 1)``).
    y_train, y_test : Labels
        ``(N,)`` integer labels in ``[0, len(classes))``.
    classes : tuple[str, ...]
        Class names, index by label.
    x_val, y_val : Array | None, Labels | None
        A validation split of the dataset's own, if it has one (both or neither). Training uses
        it unless ``train.validation`` is set too, which is an error: say which one.
    """

    x_train: Array
    y_train: Labels
    x_test: Array
    y_test: Labels
    classes: tuple[str, ...]
    x_val: Array | None = None
    y_val: Labels | None = None

    def __attrs_post_init__(self) -> None:
        if (self.x_val is None) != (self.y_val is None):
            raise DataError("a dataset's validation split needs both x_val and y_val")

    @property
    def validation(self) -> tuple[Array, Labels] | None:
        """``(x_val, y_val)``, or None when the dataset has no validation split of its own."""
        return None if self.x_val is None or self.y_val is None else (self.x_val, self.y_val)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """The shape of one sample: ``(D,)`` or ``(H, W, C)``; the network is built for it."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def image_shape(self) -> tuple[int, ...] | None:
        """How to draw one sample (sample plots): ``(H, W)`` for grey-scale ``(H, W, 1)`` samples,
        ``(H, W, C)`` for colour ones (C = 3 or 4); None when the samples are not images."""
        shape = self.sample_shape
        if len(shape) == 3 and shape[2] == 1:
            return shape[:2]
        return shape if len(shape) == 3 and shape[2] in (3, 4) else None


def load_dataset(ref: DatasetRef, registry: Registry) -> DataSplit:
    """Resolve a dataset name or spec through ``registry`` and load it."""
    component, spec = resolve(ref, "dataset", registry, "data")
    split = made(component, component.factory(spec), Dataset).load()
    if not isinstance(split, DataSplit):
        raise DataError(
            f"dataset {component.name!r}: load() returned {type(split).__name__}, not a plugnn.data.DataSplit"
        )
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
