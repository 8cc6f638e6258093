"""Fetching a 70,000-image dataset from OpenML once, then from the local cache.

The cache is scikit-learn's data home (``~/scikit_learn_data``, or ``SCIKIT_LEARN_DATA``), or the
folder in ``PLUGNN_DATA_HOME`` when set. The standard split is kept: the first 60,000 rows train,
the last 10,000 test (``train_test_split`` would shuffle them, as the notebook did).
"""

from __future__ import annotations

import os

import numpy as np
from sklearn.datasets import fetch_openml, get_data_home

from plugnn.data import DataSplit
from plugnn.errors import DataError

N_TRAIN = 60_000
N_TOTAL = 70_000


def data_home() -> str:
    """Where fetched datasets are cached."""
    return os.environ.get("PLUGNN_DATA_HOME") or get_data_home()


def fetch_split(name: str, classes: tuple[str, ...], alternatives: str) -> DataSplit:
    """Fetch OpenML dataset ``name`` (or read it from the cache) and split it the standard way."""
    home = data_home()
    try:
        x, y = fetch_openml(name, version=1, return_X_y=True, as_frame=False, data_home=home)
    except OSError as exc:  # urllib's URLError and socket errors are OSErrors
        raise DataError(
            f"cannot load {name}: it is not cached in {home} and downloading it failed ({exc}). "
            f"Connect to the internet once, or use {alternatives}"
        ) from None
    x = np.asarray(x, dtype=np.float32)
    if x.shape != (N_TOTAL, 784):
        raise DataError(f"{name} from OpenML has shape {x.shape}, expected ({N_TOTAL}, 784)")
    x /= np.float32(255.0)
    labels = np.asarray(y).astype(np.int64)
    x = x.reshape(N_TOTAL, 28, 28, 1)  # channels-last images; rows are already in pixel order
    return DataSplit(x[:N_TRAIN], labels[:N_TRAIN], x[N_TRAIN:], labels[N_TRAIN:], classes)
