"""Any folder holding the four standard IDX files (gzipped or not): ``--data idx:DIR``."""

from __future__ import annotations

from pathlib import Path

import attrs

from plugnn import hookimpl
from plugnn.data import DataSplit, images_to_samples
from plugnn.errors import FieldError
from plugnn.idx import read_idx_folder
from plugnn.registry import Register
from plugnn.specs import DatasetSpec


def _non_empty(_instance: object, attribute: attrs.Attribute, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise FieldError(attribute.name, f"expected the path of a folder, got {value!r} (write idx:DIR)")


@attrs.frozen
class IDX(DatasetSpec):
    """An IDX folder at ``path``; labels must be 0..C-1 and name the classes."""

    path: str = attrs.field(validator=_non_empty)

    @classmethod
    def examples(cls) -> list[IDX]:
        return [cls("data/mnist")]


class IDXDataset:
    def __init__(self, spec: IDX) -> None:
        self.spec = spec

    def load(self) -> DataSplit:
        train_images, train_labels, test_images, test_labels = read_idx_folder(Path(self.spec.path))
        classes = tuple(str(c) for c in range(int(max(train_labels.max(), test_labels.max())) + 1))
        return DataSplit(
            images_to_samples(train_images),
            train_labels.astype("int64"),
            images_to_samples(test_images),
            test_labels.astype("int64"),
            classes,
        )


@hookimpl
def plugnn_register_datasets(register: Register) -> None:
    register("idx", IDX, IDXDataset)
