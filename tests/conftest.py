"""Shared fixtures. Plugin failures are fatal in tests; every test gets a fresh registry."""

from __future__ import annotations

import os

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

os.environ["PLUGNN_STRICT_PLUGINS"] = "1"

import plugnn


@pytest.fixture
def registry() -> plugnn.Registry:
    """A fresh registry of plugnn's own plugins only, whatever else is installed."""
    return plugnn.load_registry(strict=True, third_party=False)


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """sklearn's bundled 8x8 digits scaled to [0, 1], float32, a fixed stratified 75/25 split."""
    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    return tuple(train_test_split(x, data.target, test_size=0.25, stratify=data.target, random_state=0))
