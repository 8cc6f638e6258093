"""Saved optimizer states are checked against the parameters they will update, for any optimizer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs
import numpy as np
import pytest

import plugnn
from plugnn import validators as v
from plugnn.npzfile import CorruptFileError
from plugnn.optimizer_state import restore_optimizer


@attrs.frozen
class Averaging(plugnn.OptimizerSpec):
    lr: float = attrs.field(default=0.1, validator=v.positive)


class AveragingOptimizer:
    """A third-party optimizer on the protocol alone: SGD that also keeps a running mean of the weights."""

    def __init__(self, spec: Averaging) -> None:
        self.spec, self.lr = spec, spec.lr
        self.means: list[np.ndarray] = []
        self.steps = 0

    def step(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        if not self.means:
            self.means = [p.copy() for p in params]
        self.steps += 1
        for param, grad, mean in zip(params, grads, self.means, strict=True):
            param -= self.lr * grad
            mean += (param - mean) / (self.steps + 1)

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"steps": np.array(self.steps)} | {f"mean{i}": m.copy() for i, m in enumerate(self.means)}

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        self.steps = int(state["steps"])
        self.means = [np.array(state[f"mean{i}"]) for i in range(len(state) - 1)]


class AveragingPlugin:
    @plugnn.hookimpl
    def plugnn_register_optimizers(self, register):
        register("averaging", Averaging, AveragingOptimizer)


@pytest.fixture(scope="module")
def registry():
    return plugnn.load_registry(strict=True, third_party=False, extra_plugins=[AveragingPlugin()])


PARAMS = [np.linspace(-1, 1, 12, dtype=np.float32)]


def trained_state(name: str, registry, steps: int = 3) -> dict[str, np.ndarray]:
    optimizer = plugnn.build_optimizer(name, registry)
    param = PARAMS[0].copy()
    for k in range(steps):
        optimizer.step([param], [np.full_like(param, 0.1 * (k + 1))])
    return optimizer.state_dict()


@pytest.mark.parametrize("name", ["averaging", "adam", "sgd"])
def test_a_fitting_state_is_restored_and_continues_exactly(registry, name) -> None:
    state = trained_state(name, registry)
    restored = restore_optimizer(name, registry, state, PARAMS, "m.npz")
    assert restored.state_dict().keys() == state.keys()
    assert all(np.array_equal(restored.state_dict()[k], state[k]) for k in state)


@pytest.mark.parametrize("name", ["averaging", "adam"])
def test_the_state_of_an_optimizer_that_never_stepped_fits(registry, name) -> None:
    state = plugnn.build_optimizer(name, registry).state_dict()
    restore_optimizer(name, registry, state, PARAMS, "m.npz")


@pytest.mark.parametrize(
    ("name", "damage", "message"),
    [
        (
            "averaging",
            {"mean0": np.zeros(5, np.float32)},
            r"'optimizer/mean0' should be shape \(12,\) float32 like the state of averaging for these parameters, "
            r"got shape \(5,\) float32",
        ),
        ("averaging", {"mean0": np.zeros(12)}, r"'optimizer/mean0' should be .* got shape \(12,\) float64"),
        (
            "averaging",
            {"mean1": np.zeros(12, np.float32)},
            r"the optimizer state does not match the state of averaging .*\(unexpected 'optimizer/mean1'\)",
        ),
        (
            "averaging",
            {"mean0": np.full(12, np.nan, np.float32)},
            r"'optimizer/mean0' of the optimizer state holds NaN or Inf",
        ),
        (
            "adam",
            {"m.0": np.zeros((3, 4), np.float32)},
            r"'optimizer/m.0' should be shape \(12,\) float32 .*got shape \(3, 4\)",
        ),
        ("adam", {"t": np.array(-1)}, r"the optimizer state does not fit \(ValueError: .*step count >= 0"),
        (
            "sgd",
            {"t": np.array(1)},
            r"the optimizer state does not match the state of sgd .*\(unexpected 'optimizer/t'\)",
        ),
    ],
)
def test_a_state_that_does_not_fit_is_refused_in_one_line(registry, name, damage, message) -> None:
    state = trained_state(name, registry) | damage
    with pytest.raises(CorruptFileError, match=rf"^m.npz: {message}") as caught:
        restore_optimizer(name, registry, state, PARAMS, "m.npz", "optimizer/")
    assert "\n" not in str(caught.value)


def test_the_layout_follows_the_parameters_dtype(registry) -> None:
    state = trained_state("adam", registry)  # float32 moments
    with pytest.raises(CorruptFileError, match=r"'m.0' should be shape \(12,\) float64 .*got shape \(12,\) float32"):
        restore_optimizer("adam", registry, state, [PARAMS[0].astype(np.float64)], "m.npz")


def test_checking_leaves_the_parameters_alone(registry) -> None:
    params = [PARAMS[0].copy()]
    restore_optimizer("adam", registry, trained_state("adam", registry), params, "m.npz")
    np.testing.assert_array_equal(params[0], PARAMS[0])
