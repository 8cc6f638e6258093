"""What training records: one row of named values per epoch, collected in a :class:`History`.

Columns are named, not fixed: ``epoch``, ``loss`` (training), ``train_accuracy``, then
``val_loss``/``val_accuracy`` with a validation set and ``test_loss``/``test_accuracy`` with test
data, and ``seconds``. Every ``<split>_<metric>`` pair follows the same pattern, so a metric added
to :func:`plugnn.metrics.evaluate` shows up in ``history.csv``, on ``curves.png`` and for callbacks
without any change here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from plugnn.errors import PlugnnError
from plugnn.readers import UnreadableFileError, parse, read_text

Value = float | int | None


@attrs.define
class History:
    """Per-epoch records of a training run: ``records[i]`` maps each column name to epoch ``i + 1``'s value."""

    records: list[dict[str, Value]] = attrs.Factory(list)

    def append(self, record: Mapping[str, Value]) -> None:
        """Add one epoch's values (``{"epoch": 3, "loss": 0.21, ...}``)."""
        self.records.append(dict(record))

    @property
    def columns(self) -> list[str]:
        """Column names in the order they first appear."""
        return list(dict.fromkeys(name for record in self.records for name in record))

    def column(self, name: str) -> list[Value]:
        """One column across epochs, e.g. ``history.column("val_loss")``; None where an epoch lacks it."""
        if self.records and name not in self.columns:
            raise PlugnnError(f"history has no column {name!r}; it has {', '.join(self.columns)}")
        return [record.get(name) for record in self.records]

    def to_dict(self) -> dict[str, list[Value]]:
        """Columns by name: ``{"epoch": [1, 2], "loss": [...], ...}`` (JSON- and CSV-ready)."""
        return {name: self.column(name) for name in self.columns}

    @classmethod
    def from_dict(cls, data: Mapping[str, list[Any]]) -> History:
        """Inverse of :meth:`to_dict`."""
        names = list(data)
        return cls([dict(zip(names, row, strict=True)) for row in zip(*data.values(), strict=True)])

    def __len__(self) -> int:
        return len(self.records)


def read_history(path: Path) -> dict[str, list[Value]]:
    """A run folder's ``history.json``: columns of one length holding numbers or nulls, or one line naming the file."""
    try:
        data = parse(read_text(path), "json", str(path))
    except UnreadableFileError as exc:
        raise PlugnnError(str(exc)) from None
    columns = [column for column in data.values() if isinstance(column, list)] if isinstance(data, dict) else []
    numbers = all(
        value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
        for column in columns
        for value in column
    )
    if not isinstance(data, dict) or len(columns) != len(data) or not numbers or len(set(map(len, columns))) > 1:
        raise PlugnnError(f"{path}: not a plugnn history (a table of columns of one length holding numbers)")
    return dict(data)
