r"""Adam (Kingma & Ba 2015, Algorithm 1), as ``torch.optim.Adam`` computes it.

For each parameter :math:`w` with gradient :math:`g`, at step :math:`t = 1, 2, \dots`:

.. math::

    m &\leftarrow \beta_1 m + (1 - \beta_1) g \\
    v &\leftarrow \beta_2 v + (1 - \beta_2) g^2 \\
    \hat m &= m / (1 - \beta_1^t), \qquad \hat v = v / (1 - \beta_2^t) \\
    w &\leftarrow w - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)

``m`` and ``v`` stay uncorrected; the bias correction applies only to the step. This is the
paper's Algorithm 1 with :math:`\epsilon` added to :math:`\sqrt{\hat v}` (PyTorch's form), not the
":math:`\hat\epsilon`" form of scikit-learn, Keras and Thinc, which differs at small ``t``.
With :math:`|g| \gg \epsilon` the first step is :math:`\approx -\eta\,\mathrm{sign}(g)`.
"""

from __future__ import annotations

import attrs
import numpy as np

from plugnn import OptimizerSpec, hookimpl
from plugnn import validators as v
from plugnn.kernels import optim as kernels
from plugnn.optim import BufferedOptimizer
from plugnn.protocols import Array
from plugnn.registry import Register
from plugnn.specs import Float64Array


@attrs.frozen
class Adam(OptimizerSpec):
    """Adam's hyper-parameters: ``lr`` > 0, ``0 <= beta1, beta2 < 1``, ``eps`` > 0."""

    lr: float = attrs.field(default=0.001, validator=v.positive)
    beta1: float = attrs.field(default=0.9, validator=v.in_range(0.0, 1.0))
    beta2: float = attrs.field(default=0.999, validator=v.in_range(0.0, 1.0))
    eps: float = attrs.field(default=1e-8, validator=v.positive)

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"lr": 0.0}, {"beta1": 1.0}, {"beta2": -0.1}, {"eps": 0.0}]

    def reference_step(
        self, param: Float64Array, grad: Float64Array, state: dict[str, Float64Array], *, lr: float, t: int
    ) -> tuple[Float64Array, dict[str, Float64Array]]:
        """Kingma & Ba's Algorithm 1 with ε added to √v̂, as the module docstring writes it."""
        m = self.beta1 * state.get("m", np.zeros_like(param)) + (1 - self.beta1) * grad
        v = self.beta2 * state.get("v", np.zeros_like(param)) + (1 - self.beta2) * grad**2
        m_hat, v_hat = m / (1 - self.beta1**t), v / (1 - self.beta2**t)
        return param - lr * m_hat / (np.sqrt(v_hat) + self.eps), {"m": m, "v": v}


class AdamOptimizer(BufferedOptimizer):
    """Runtime Adam; state ``t`` and buffers ``m``, ``v`` per parameter."""

    buffer_names = ("m", "v")
    decay = 0.0
    """Decoupled weight decay λ (AdamW's): ``w ← w (1 − ηλ)`` before the step."""

    def update(self, param: Array, grad: Array, buffers: dict[str, Array], scratch: Array) -> None:
        spec = self.spec
        kernels.adam(
            param,
            grad,
            buffers["m"],
            buffers["v"],
            scratch,
            lr=self.lr,
            beta1=spec.beta1,
            beta2=spec.beta2,
            eps=spec.eps,
            t=self.t,
            decay=self.decay,
        )


@hookimpl
def plugnn_register_optimizers(register: Register) -> None:
    register("adam", Adam, AdamOptimizer)
