"""scikit-learn's bundled 8x8 digits: 1,797 images, offline; plugnn's embedded default dataset.

Pixels (0-16) are scaled to [0, 1] float32; the train/test split is stratified and fixed by ``seed``.
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import hookimpl
from plugnn import validators as v
from plugnn.data import DataSplit
from plugnn.registry import Register
from plugnn.specs import DatasetSpec


@attrs.frozen
class Digits(DatasetSpec):
    """The digits dataset; ``test_size`` in (0, 1) of it is held out, split with ``seed``."""

    test_size: float = attrs.field(default=0.25, validator=v.in_range(0.05, 0.95, include_high=True))
    seed: int = attrs.field(default=0, validator=[v.integer, v.non_negative])

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"test_size": 0.0}, {"test_size": 0.99}, {"seed": -1}]


class DigitsDataset:
    def __init__(self, spec: Digits) -> None:
        self.spec = spec

    def load(self) -> DataSplit:
        from sklearn.datasets import (
            load_digits,  # imported here: building a registry stays light
        )
        from sklearn.model_selection import train_test_split

        data = load_digits()
        x = (data.data / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)  # channels-last 8x8 images
        x_train, x_test, y_train, y_test = train_test_split(
            x, data.target, test_size=self.spec.test_size, stratify=data.target, random_state=self.spec.seed
        )
        return DataSplit(x_train, y_train, x_test, y_test, tuple(str(d) for d in range(10)))


@hookimpl
def plugnn_register_datasets(register: Register) -> None:
    register("digits", Digits, DigitsDataset)
