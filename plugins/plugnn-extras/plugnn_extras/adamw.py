r"""AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay, as ``torch.optim.AdamW``.

Before the Adam step (see ``plugnn_std.optimizers.adam``), every weight decays on its own:

.. math:: w \leftarrow w - \eta \lambda w

not through the gradient (adding :math:`\lambda w` to :math:`g` would be L2 regularisation, which
Adam's per-coordinate scaling distorts). Biases decay too, as in PyTorch's default.
"""

from __future__ import annotations

import attrs
from plugnn_std.optimizers.adam import Adam, AdamOptimizer

from plugnn import hookimpl
from plugnn import validators as v


@attrs.frozen
class AdamW(Adam):
    """Adam's settings plus ``weight_decay`` λ >= 0 (0.01 by default, as PyTorch)."""

    weight_decay: float = attrs.field(default=0.01, validator=v.non_negative)

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [*super().invalid_examples(), {"weight_decay": -0.1}]

    def reference_step(self, param, grad, state, *, lr, t):
        """The decay w ← w − lr·λ·w, then Adam's step from the decayed weights."""
        return super().reference_step(param - lr * self.weight_decay * param, grad, state, lr=lr, t=t)


class AdamWOptimizer(AdamOptimizer):
    """Adam's update, decaying every weight by the spec's ``weight_decay`` first."""

    @property
    def decay(self) -> float:  # type: ignore[override]
        return float(self.spec.weight_decay)


@hookimpl
def plugnn_register_optimizers(register) -> None:
    register("adamw", AdamW, AdamWOptimizer)
