r"""A zero-mean normal with a fixed standard deviation: :math:`W \sim \mathcal N(0, \sigma^2)`.

The notebook's first network used :math:`\sigma = 0.01`.
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import InitializerSpec, hookimpl
from plugnn import validators as v
from plugnn.protocols import Array
from plugnn.registry import Register


@attrs.frozen
class Normal(InitializerSpec):
    """Normal initializer with standard deviation ``std`` (> 0)."""

    std: float = attrs.field(default=0.01, validator=v.positive)

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"std": 0.0}]


class NormalInitializer:
    """Runtime fixed-std normal initializer."""

    def __init__(self, spec: Normal) -> None:
        self.std = spec.std

    def __call__(
        self, shape: tuple[int, ...], *, fan_in: int, fan_out: int, rng: np.random.Generator, dtype: np.dtype
    ) -> Array:
        values = rng.standard_normal(shape, dtype=dtype)
        values *= self.std
        return values

    def variance(self, fan_in: int, fan_out: int) -> float:
        return self.std**2


@hookimpl
def plugnn_register_initializers(register: Register) -> None:
    register("normal", Normal, NormalInitializer)
