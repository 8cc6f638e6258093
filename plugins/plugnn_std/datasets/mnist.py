"""MNIST from OpenML (``mnist_784``), cached after the first download; standard 60k/10k split."""

from __future__ import annotations

import attrs

from plugnn import hookimpl
from plugnn.data import DataSplit
from plugnn.registry import Register
from plugnn.specs import DatasetSpec


@attrs.frozen
class MNIST(DatasetSpec):
    """MNIST handwritten digits, 28x28, pixels scaled to [0, 1]; has no settings."""


class MNISTDataset:
    def __init__(self, spec: MNIST) -> None:
        self.spec = spec

    def load(self) -> DataSplit:
        from plugnn_std.datasets.openml import (
            fetch_split,  # imports scikit-learn: only when loading
        )

        return fetch_split(
            "mnist_784",
            tuple(str(d) for d in range(10)),
            "--data digits (bundled) or --data idx:DIR (a folder with the four MNIST IDX files)",
        )


@hookimpl
def plugnn_register_datasets(register: Register) -> None:
    register("mnist", MNIST, MNISTDataset)
