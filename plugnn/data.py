"""Datasets as the core sees them: a protocol, the split it returns, and name resolution.

Implementations (digits, MNIST, Fashion-MNIST, IDX folders) are plugins registered through the
``plugnn_register_datasets`` hook.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import attrs
import numpy as np

from plugnn.builder import resolve
from plugnn.errors import DataError
from plugnn.plugins import default_registry
from plugnn.protocols import Array, Labels
from plugnn.registry import Registry
from plugnn.specs import DatasetRef


@attrs.frozen(eq=False)
class DataSplit:
    """A dataset ready to train on: float32 features in [0, 1] and integer labels.

    Attributes
    ----------
    x_train, x_test : Array
        ``(N, D)`` float32 features.
    y_train, y_test : Labels
        ``(N,)`` integer labels in ``[0, len(classes))``.
    classes : tuple[str, ...]
        Class names, index by label.
    image_shape : tuple[int, int] | None
        ``(height, width)`` when each row is an image (for sample plots).
    """

    x_train: Array
    y_train: Labels
    x_test: Array
    y_test: Labels
    classes: tuple[str, ...]
    image_shape: tuple[int, int] | None = None

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])


@runtime_checkable
class Dataset(Protocol):
    """A source of a :class:`DataSplit`. ``load`` raises :class:`plugnn.DataError` when unavailable."""

    def load(self) -> DataSplit:
        """Read (or download and cache) the data and return its fixed train/test split."""
        ...


def load_dataset(ref: DatasetRef, registry: Registry | None = None) -> DataSplit:
    """Resolve a dataset name or spec through the registry and load it."""
    component, spec = resolve(ref, "dataset", registry or default_registry(), "data")
    return component.factory(spec).load()


def parse_data_option(text: str) -> Any:
    """The command line's ``--data NAME[:PATH]``: ``idx:DIR`` is ``{"type": "idx", "path": "DIR"}``."""
    name, sep, path = text.partition(":")
    if not name:
        raise DataError(f"--data {text!r}: expected NAME or NAME:PATH, e.g. digits or idx:/data/mnist")
    return {"type": name, "path": path} if sep else name


def images_to_features(images: np.ndarray, scale: float = 255.0) -> Array:
    """``(N, H, W)`` integer pixels -> ``(N, H*W)`` float32 in [0, 1]."""
    features = images.reshape(len(images), -1).astype(np.float32)
    features /= np.float32(scale)
    return features
