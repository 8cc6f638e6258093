"""What training records: one :class:`EpochRecord` per epoch, collected in a :class:`History`."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.define
class EpochRecord:
    """One epoch's numbers. Accuracies are fractions in [0, 1]; ``test_accuracy`` is None without test data."""

    epoch: int
    loss: float
    train_accuracy: float
    test_accuracy: float | None
    seconds: float


@attrs.define
class History:
    """Per-epoch records of a training run; a plain object that converts to and from dicts."""

    records: list[EpochRecord] = attrs.Factory(list)

    def column(self, name: str) -> list[Any]:
        """One field across epochs, e.g. ``history.column("test_accuracy")``."""
        return [getattr(record, name) for record in self.records]

    def to_dict(self) -> dict[str, list[Any]]:
        """Columns by field name: ``{"epoch": [1, 2], "loss": [...], ...}``."""
        return {field.name: self.column(field.name) for field in attrs.fields(EpochRecord)}

    @classmethod
    def from_dict(cls, data: dict[str, list[Any]]) -> History:
        """Inverse of :meth:`to_dict`."""
        names = [field.name for field in attrs.fields(EpochRecord)]
        return cls([EpochRecord(*row) for row in zip(*(data[name] for name in names), strict=True)])
