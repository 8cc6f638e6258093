r"""Glorot & Bengio (2010) initialization: variance :math:`2/(\mathrm{fan\_in} + \mathrm{fan\_out})`.

``uniform`` (the paper's, default): :math:`W \sim U(-a, a)`, :math:`a = \sqrt{6/(\mathrm{fan\_in}+\mathrm{fan\_out})}`.
``normal``: :math:`W \sim \mathcal N(0, 2/(\mathrm{fan\_in}+\mathrm{fan\_out}))`.
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import InitializerSpec, hookimpl
from plugnn import validators as v
from plugnn.protocols import Array
from plugnn.registry import Register
from plugnn_std.initializers.scaled import draw


@attrs.frozen
class Glorot(InitializerSpec):
    """Glorot initializer; ``distribution`` is ``"uniform"`` (default) or ``"normal"``."""

    distribution: str = attrs.field(default="uniform", validator=v.one_of(("uniform", "normal")))

    @classmethod
    def examples(cls) -> list[Glorot]:
        return [cls("uniform"), cls("normal")]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"distribution": "truncated"}]


class GlorotInitializer:
    """Runtime Glorot initializer."""

    def __init__(self, spec: Glorot) -> None:
        self.distribution = spec.distribution

    def __call__(
        self, shape: tuple[int, ...], *, fan_in: int, fan_out: int, rng: np.random.Generator, dtype: np.dtype
    ) -> Array:
        return draw(self.distribution, np.sqrt(self.variance(fan_in, fan_out)), shape, rng, dtype)

    def variance(self, fan_in: int, fan_out: int) -> float:
        return 2.0 / (fan_in + fan_out)


@hookimpl
def plugnn_register_initializers(register: Register) -> None:
    register("glorot", Glorot, GlorotInitializer)
