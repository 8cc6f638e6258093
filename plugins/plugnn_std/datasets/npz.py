"""Your own arrays in an ``.npz`` file: ``--data npz:FILE`` (see :mod:`plugnn.userdata`)."""

from __future__ import annotations

from pathlib import Path

import attrs

from plugnn import hookimpl
from plugnn import validators as v
from plugnn.data import DataSplit
from plugnn.errors import FieldError
from plugnn.registry import Register
from plugnn.specs import DatasetSpec
from plugnn.userdata import read_npz_data


def file_path(_instance: object, attribute: attrs.Attribute, value: object) -> None:
    """A non-empty path text."""
    if not isinstance(value, str) or not value:
        raise FieldError(attribute.name, f"expected the path of a file, got {value!r}")


@attrs.frozen
class NPZ(DatasetSpec):
    """Arrays ``x_train, y_train, x_test, y_test`` (optionally ``x_val, y_val``) in the ``.npz`` file
    at ``path``, or one pair ``x, y`` of which ``test_size`` is held out for testing (split with
    ``seed``, stratified by class); features are divided by ``scale`` (255 for 8-bit pixels)."""

    path: str = attrs.field(validator=file_path)
    test_size: float = attrs.field(default=0.2, validator=v.in_range(0.05, 0.95, include_high=True))
    seed: int = attrs.field(default=0, validator=[v.integer, v.non_negative])
    scale: float = attrs.field(default=1.0, validator=v.positive)

    @classmethod
    def examples(cls) -> list[NPZ]:
        return [cls("data/mine.npz"), cls("data/pixels.npz", test_size=0.25, seed=1, scale=255.0)]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"path": ""}, {"path": "a.npz", "test_size": 1.0}, {"path": "a.npz", "scale": 0.0}]


class NPZDataset:
    def __init__(self, spec: NPZ) -> None:
        self.spec = spec

    def load(self) -> DataSplit:
        spec = self.spec
        return read_npz_data(Path(spec.path), test_size=spec.test_size, seed=spec.seed, scale=spec.scale)


@hookimpl
def plugnn_register_datasets(register: Register) -> None:
    register("npz", NPZ, NPZDataset)
