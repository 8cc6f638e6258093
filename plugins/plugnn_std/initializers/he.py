r"""He et al. (2015) initialization for ReLU networks: variance :math:`2/\mathrm{fan\_in}`.

``normal`` (the paper's): :math:`W \sim \mathcal N(0, 2/\mathrm{fan\_in})`, std :math:`\sqrt{2/\mathrm{fan\_in}}`.
``uniform``: :math:`W \sim U(-a, a)`, :math:`a = \sqrt{6/\mathrm{fan\_in}}` (same variance).
"""

from __future__ import annotations

import attrs

from plugnn import hookimpl
from plugnn.registry import Register
from plugnn_std.initializers.scaled import FanScaled, FanScaledInitializer


@attrs.frozen
class He(FanScaled):
    """He initializer; ``distribution`` is ``"normal"`` (default) or ``"uniform"``."""


class HeInitializer(FanScaledInitializer):
    """Runtime He initializer."""

    def variance(self, fan_in: int, fan_out: int) -> float:
        return 2.0 / fan_in


@hookimpl
def plugnn_register_initializers(register: Register) -> None:
    register("he", He, HeInitializer)
