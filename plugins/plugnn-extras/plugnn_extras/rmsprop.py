r"""RMSprop (Tieleman & Hinton 2012), as ``torch.optim.RMSprop`` computes it (no momentum, not centred).

.. math::

    s \leftarrow \rho s + (1 - \rho) g^2, \qquad w \leftarrow w - \eta\, g / (\sqrt{s} + \epsilon)
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import OptimizerSpec, hookimpl
from plugnn import validators as v
from plugnn.kernels import optim as kernels
from plugnn.optim import BufferedOptimizer
from plugnn.protocols import Array


@attrs.frozen
class RMSprop(OptimizerSpec):
    """RMSprop: ``lr`` > 0, decay ``rho`` in [0, 1), ``eps`` > 0."""

    lr: float = attrs.field(default=0.001, validator=v.positive)
    rho: float = attrs.field(default=0.99, validator=v.in_range(0.0, 1.0))
    eps: float = attrs.field(default=1e-8, validator=v.positive)

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"lr": -1.0}, {"rho": 1.5}, {"eps": 0.0}]

    def reference_step(self, param, grad, state, *, lr, t):
        """s ← ρ·s + (1 − ρ)·g², then w ← w − lr·g / (√s + ε)."""
        square_avg = self.rho * state.get("square_avg", np.zeros_like(param)) + (1 - self.rho) * grad**2
        return param - lr * grad / (np.sqrt(square_avg) + self.eps), {"square_avg": square_avg}


class RMSpropOptimizer(BufferedOptimizer):
    buffer_names = ("square_avg",)

    def update(self, param: Array, grad: Array, buffers: dict[str, Array], scratch: Array) -> None:
        spec = self.spec
        kernels.rmsprop(param, grad, buffers["square_avg"], scratch, lr=self.lr, rho=spec.rho, eps=spec.eps)


@hookimpl
def plugnn_register_optimizers(register) -> None:
    register("rmsprop", RMSprop, RMSpropOptimizer)
