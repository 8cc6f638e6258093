r"""Plain stochastic gradient descent: :math:`w \leftarrow w - \eta\, g`. Stateless."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs
import numpy as np

from plugnn import OptimizerSpec, hookimpl
from plugnn import validators as v
from plugnn.kernels import optim as kernels
from plugnn.protocols import Array
from plugnn.registry import Register
from plugnn.specs import Float64Array


@attrs.frozen
class SGD(OptimizerSpec):
    """SGD with learning rate ``lr`` (> 0)."""

    lr: float = attrs.field(default=0.01, validator=v.positive)

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [{"lr": 0.0}, {"lr": -1.0}]

    def reference_step(
        self, param: Float64Array, grad: Float64Array, state: dict[str, Float64Array], *, lr: float, t: int
    ) -> tuple[Float64Array, dict[str, Float64Array]]:
        """w ← w − lr·g."""
        return param - lr * grad, {}


class SGDOptimizer:
    """Runtime SGD."""

    def __init__(self, spec: SGD) -> None:
        self.spec = spec
        self.lr = spec.lr  # the current rate: the train loop scales it by the schedule

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        for param, grad in zip(params, grads, strict=True):
            kernels.sgd(param, grad, lr=self.lr)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {}

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        if state:
            raise ValueError(f"SGD has no state, got keys {sorted(state)}")


@hookimpl
def plugnn_register_optimizers(register: Register) -> None:
    register("sgd", SGD, SGDOptimizer)
