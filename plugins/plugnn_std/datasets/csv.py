"""Your own table in a CSV file: ``--data csv:FILE:label=COLUMN`` (see :mod:`plugnn.userdata`)."""

from __future__ import annotations

from pathlib import Path

import attrs

from plugnn import hookimpl
from plugnn import validators as v
from plugnn.data import DataSplit
from plugnn.registry import Register
from plugnn.specs import DatasetSpec
from plugnn.userdata import read_csv_data
from plugnn_std.datasets.npz import file_path


@attrs.frozen
class CSV(DatasetSpec):
    """The CSV file at ``path``: a header row, then a row per sample; the column named ``label``
    holds the targets and every other column is a feature. ``test_size`` of the rows are held out
    for testing (split with ``seed``, stratified by class); features are divided by ``scale``."""

    path: str = attrs.field(validator=file_path)
    label: str = attrs.field(default="label", validator=v.text)
    test_size: float = attrs.field(default=0.2, validator=v.in_range(0.05, 0.95, include_high=True))
    seed: int = attrs.field(default=0, validator=[v.integer, v.non_negative])
    scale: float = attrs.field(default=1.0, validator=v.positive)

    @classmethod
    def examples(cls) -> list[CSV]:
        return [cls("data/iris.csv", label="species"), cls("data/table.csv", test_size=0.3, seed=2, scale=16.0)]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"path": ""}, {"path": "a.csv", "label": ""}, {"path": "a.csv", "test_size": 0.0}]


class CSVDataset:
    def __init__(self, spec: CSV) -> None:
        self.spec = spec

    def load(self) -> DataSplit:
        spec = self.spec
        return read_csv_data(
            Path(spec.path), label=spec.label, test_size=spec.test_size, seed=spec.seed, scale=spec.scale
        )


@hookimpl
def plugnn_register_datasets(register: Register) -> None:
    register("csv", CSV, CSVDataset)
