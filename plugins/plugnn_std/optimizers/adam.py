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

from collections.abc import Mapping, Sequence

import attrs
import numpy as np

from plugnn import OptimizerSpec, hookimpl
from plugnn import validators as v
from plugnn.protocols import Array
from plugnn.registry import Register


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


class AdamOptimizer:
    """Runtime Adam; state ``t`` and one ``m``, ``v`` pair per parameter index."""

    def __init__(self, spec: Adam) -> None:
        self.lr = spec.lr
        self.spec = spec
        self.t = 0
        self.m: list[Array] = []
        self.v: list[Array] = []
        self._scratch: list[Array] = []

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        beta1, beta2, eps = self.spec.beta1, self.spec.beta2, self.spec.eps
        if not self.m:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        if not self._scratch:
            self._scratch = [np.empty_like(p) for p in params]
        self.t += 1
        step_size = self.lr / (1 - beta1**self.t)
        root_correction = np.sqrt(1 - beta2**self.t)
        for param, grad, m, v, scratch in zip(params, grads, self.m, self.v, self._scratch, strict=True):
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            np.multiply(grad, grad, out=scratch)
            scratch *= 1 - beta2
            v += scratch
            np.sqrt(v, out=scratch)  # scratch = sqrt(v̂) + eps, with v̂ = v / (1 - beta2^t)
            scratch /= root_correction
            scratch += eps
            np.divide(m, scratch, out=scratch)
            scratch *= step_size
            param -= scratch

    def state_dict(self) -> dict[str, np.ndarray]:
        state = {"t": np.array(self.t, dtype=np.int64)}
        for index, (m, v) in enumerate(zip(self.m, self.v)):
            state[f"m.{index}"] = m.copy()
            state[f"v.{index}"] = v.copy()
        return state

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        count = sum(1 for key in state if key.startswith("m."))
        expected = {"t"} | {f"{k}.{i}" for k in "mv" for i in range(count)}
        if set(state) != expected:
            raise ValueError(f"Adam state needs keys {sorted(expected)}, got {sorted(state)}")
        self.t = int(state["t"])
        self.m = [np.array(state[f"m.{i}"]) for i in range(count)]
        self.v = [np.array(state[f"v.{i}"]) for i in range(count)]
        self._scratch = []


@hookimpl
def plugnn_register_optimizers(register: Register) -> None:
    register("adam", Adam, AdamOptimizer)
