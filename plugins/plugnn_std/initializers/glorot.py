r"""Glorot & Bengio (2010) initialization: variance :math:`2/(\mathrm{fan\_in} + \mathrm{fan\_out})`.

``uniform`` (the paper's, default): :math:`W \sim U(-a, a)`, :math:`a = \sqrt{6/(\mathrm{fan\_in}+\mathrm{fan\_out})}`.
``normal``: :math:`W \sim \mathcal N(0, 2/(\mathrm{fan\_in}+\mathrm{fan\_out}))`.
"""

from __future__ import annotations

import attrs

from plugnn import hookimpl
from plugnn import validators as v
from plugnn.registry import Register
from plugnn_std.initializers.scaled import DISTRIBUTIONS, FanScaled, FanScaledInitializer


@attrs.frozen
class Glorot(FanScaled):
    """Glorot initializer; ``distribution`` is ``"uniform"`` (default) or ``"normal"``."""

    distribution: str = attrs.field(default="uniform", validator=v.one_of(DISTRIBUTIONS))


class GlorotInitializer(FanScaledInitializer):
    """Runtime Glorot initializer."""

    def variance(self, fan_in: int, fan_out: int) -> float:
        return 2.0 / (fan_in + fan_out)


@hookimpl
def plugnn_register_initializers(register: Register) -> None:
    register("glorot", Glorot, GlorotInitializer)
