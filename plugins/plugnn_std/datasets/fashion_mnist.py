"""Fashion-MNIST: the IDX files of Debian's ``dataset-fashion-mnist`` when installed, else OpenML."""

from __future__ import annotations

from pathlib import Path

import attrs

from plugnn import hookimpl
from plugnn.data import DataSplit, images_to_samples
from plugnn.idx import read_idx_folder
from plugnn.registry import Register
from plugnn.specs import DatasetSpec

CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DEBIAN_PATH = "/usr/share/datasets/fashion-mnist"


@attrs.frozen
class FashionMNIST(DatasetSpec):
    """Fashion-MNIST, 28x28, pixels scaled to [0, 1]; read from ``path`` if it holds the IDX files."""

    path: str = DEBIAN_PATH


class FashionMNISTDataset:
    def __init__(self, spec: FashionMNIST) -> None:
        self.spec = spec

    def load(self) -> DataSplit:
        folder = Path(self.spec.path)
        if folder.is_dir() and any(folder.iterdir()):
            train_images, train_labels, test_images, test_labels = read_idx_folder(folder)
            return DataSplit(
                images_to_samples(train_images),
                train_labels.astype("int64"),
                images_to_samples(test_images),
                test_labels.astype("int64"),
                CLASSES,
            )
        from plugnn_std.datasets.openml import (
            fetch_split,  # imports scikit-learn: only when needed
        )

        return fetch_split(
            "Fashion-MNIST",
            CLASSES,
            f"--data digits, or install the Debian package dataset-fashion-mnist (files in {DEBIAN_PATH})",
        )


@hookimpl
def plugnn_register_datasets(register: Register) -> None:
    register("fashion-mnist", FashionMNIST, FashionMNISTDataset)
