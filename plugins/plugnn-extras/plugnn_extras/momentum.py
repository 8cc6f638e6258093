r"""SGD with momentum, optionally Nesterov's, in PyTorch's convention.

.. math::

    v \leftarrow \mu v + g, \qquad
    w \leftarrow w - \eta\, v \quad\text{or, with Nesterov,}\quad w \leftarrow w - \eta\,(g + \mu v)

This is ``torch.optim.SGD(momentum=μ, nesterov=...)``. The Sutskever / scikit-learn convention
(:math:`v \leftarrow \mu v - \eta g;\ w \leftarrow w + v`) gives the same steps while the learning rate
is constant and differs when a schedule changes it: here a new rate applies to the whole velocity
at once.
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
class Momentum(OptimizerSpec):
    """Momentum SGD: ``lr`` > 0, ``momentum`` in [0, 1), ``nesterov``."""

    lr: float = attrs.field(default=0.01, validator=v.positive)
    momentum: float = attrs.field(default=0.9, validator=v.in_range(0.0, 1.0))
    nesterov: bool = attrs.field(default=False, validator=v.boolean)

    @classmethod
    def examples(cls) -> list[Momentum]:
        return [cls(), cls(nesterov=True)]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"lr": 0.0}, {"momentum": 1.0}]

    def reference_step(self, param, grad, state, *, lr, t):
        """v ← μ·v + g, then w ← w − lr·v, or w ← w − lr·(g + μ·v) with Nesterov."""
        velocity = self.momentum * state.get("velocity", np.zeros_like(param)) + grad
        step = grad + self.momentum * velocity if self.nesterov else velocity
        return param - lr * step, {"velocity": velocity}


class MomentumOptimizer(BufferedOptimizer):
    buffer_names = ("velocity",)

    def update(self, param: Array, grad: Array, buffers: dict[str, Array], scratch: Array) -> None:
        spec = self.spec
        kernels.momentum(
            param, grad, buffers["velocity"], scratch, lr=self.lr, momentum=spec.momentum, nesterov=spec.nesterov
        )


@hookimpl
def plugnn_register_optimizers(register) -> None:
    register("momentum", Momentum, MomentumOptimizer)
