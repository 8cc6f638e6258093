r"""What the fan-scaled initializers (He, Glorot) share: a normal or a uniform of a given variance.

Each says only its variance (``variance(fan_in, fan_out)``) and its default distribution. A uniform
on :math:`[-a, a]` has variance :math:`a^2/3`, so variance :math:`\sigma^2` needs :math:`a = \sqrt{3}\,\sigma`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self

import attrs
import numpy as np

from plugnn import InitializerSpec
from plugnn import validators as v
from plugnn.protocols import Array

DISTRIBUTIONS = ("normal", "uniform")


@attrs.frozen
class FanScaled(InitializerSpec):
    """Base of a fan-scaled initializer's spec: ``distribution`` is ``"normal"`` or ``"uniform"``."""

    distribution: str = attrs.field(default="normal", validator=v.one_of(DISTRIBUTIONS))

    @classmethod
    def examples(cls) -> list[Self]:
        return [cls(distribution) for distribution in DISTRIBUTIONS]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"distribution": "truncated"}]


class FanScaledInitializer(ABC):
    """Base of a fan-scaled initializer at run time: draws with the standard deviation of ``variance``."""

    def __init__(self, spec: FanScaled) -> None:
        self.distribution = spec.distribution

    def __call__(
        self, shape: tuple[int, ...], *, fan_in: int, fan_out: int, rng: np.random.Generator, dtype: np.dtype
    ) -> Array:
        return draw(self.distribution, np.sqrt(self.variance(fan_in, fan_out)), shape, rng, dtype)

    @abstractmethod
    def variance(self, fan_in: int, fan_out: int) -> float:
        """The variance of the initial weights of a layer with these fans."""


def draw(distribution: str, std: float, shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> Array:
    """An array of ``shape`` and ``dtype`` with zero mean and standard deviation ``std``."""
    if distribution == "normal":
        values = rng.standard_normal(shape, dtype=dtype)
        values *= std
        return values
    limit = np.sqrt(3.0) * std
    values = rng.random(shape, dtype=dtype)
    values *= 2 * limit
    values -= limit
    return values
