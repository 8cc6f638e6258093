r"""He et al. (2015) initialization for ReLU networks: variance :math:`2/\mathrm{fan\_in}`.

``normal`` (the paper's): :math:`W \sim \mathcal N(0, 2/\mathrm{fan\_in})`, std :math:`\sqrt{2/\mathrm{fan\_in}}`.
``uniform``: :math:`W \sim U(-a, a)`, :math:`a = \sqrt{6/\mathrm{fan\_in}}` (same variance).
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
class He(InitializerSpec):
    """He initializer; ``distribution`` is ``"normal"`` (default) or ``"uniform"``."""

    distribution: str = attrs.field(default="normal", validator=v.one_of(("normal", "uniform")))

    @classmethod
    def examples(cls) -> list[He]:
        return [cls("normal"), cls("uniform")]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"distribution": "truncated"}]


class HeInitializer:
    """Runtime He initializer."""

    def __init__(self, spec: He) -> None:
        self.distribution = spec.distribution

    def __call__(
        self, shape: tuple[int, ...], *, fan_in: int, fan_out: int, rng: np.random.Generator, dtype: np.dtype
    ) -> Array:
        return draw(self.distribution, np.sqrt(self.variance(fan_in, fan_out)), shape, rng, dtype)

    def variance(self, fan_in: int, fan_out: int) -> float:
        return 2.0 / fan_in


@hookimpl
def plugnn_register_initializers(register: Register) -> None:
    register("he", He, HeInitializer)
