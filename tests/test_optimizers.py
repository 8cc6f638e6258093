"""SGD and Adam against their formulas, written out independently here, over several steps."""

from __future__ import annotations

import numpy as np
import pytest
from plugnn_std import SGD, Adam

import plugnn

GRADS = [np.array([0.5, -2.0, 1e-3]), np.array([0.1, 0.3, -0.2]), np.array([-1.0, 0.0, 4.0])]


def run(optimizer: plugnn.Optimizer, start: np.ndarray, grads: list[np.ndarray]) -> list[np.ndarray]:
    param, seen = start.copy(), []
    for grad in grads:
        optimizer.step([param], [grad.copy()])
        seen.append(param.copy())
    return seen


def test_sgd_steps_are_w_minus_lr_g(registry) -> None:
    start = np.array([1.0, 2.0, 3.0])
    seen = run(plugnn.build_optimizer(SGD(lr=0.1), registry), start, GRADS)
    expected = start - 0.1 * np.cumsum(GRADS, axis=0)
    np.testing.assert_allclose(seen, expected, rtol=0, atol=1e-15)


def adam_reference(start, grads, lr, b1, b2, eps):
    """Kingma & Ba (2015), Algorithm 1, one step at a time."""
    w, m, v, out = start.copy(), np.zeros_like(start), np.zeros_like(start), []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(w.copy())
    return out, m, v


@pytest.mark.parametrize("settings", [{}, {"lr": 0.01, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3}])
def test_adam_matches_algorithm_1(registry, settings) -> None:
    spec = Adam(**settings)
    start = np.array([1.0, -1.0, 0.5])
    optimizer = plugnn.build_optimizer(spec, registry)
    seen = run(optimizer, start, GRADS)
    expected, m, v = adam_reference(start, GRADS, spec.lr, spec.beta1, spec.beta2, spec.eps)
    np.testing.assert_allclose(seen, expected, rtol=1e-12)
    state = optimizer.state_dict()
    assert int(state["t"]) == 3
    np.testing.assert_allclose(state["m.0"], m, rtol=1e-12)  # stored uncorrected
    np.testing.assert_allclose(state["v.0"], v, rtol=1e-12)


def test_adam_first_step_is_lr_times_sign(registry) -> None:
    param = np.array([0.0, 0.0, 0.0], dtype=np.float32)
    plugnn.build_optimizer(Adam(lr=0.001), registry).step([param], [np.array([3.0, -0.2, 50.0], dtype=np.float32)])
    np.testing.assert_allclose(param, [-0.001, 0.001, -0.001], rtol=1e-5)
    assert param.dtype == np.float32


def test_adam_keeps_state_per_parameter(registry) -> None:
    a, b = np.ones(2), np.ones(3)
    optimizer = plugnn.build_optimizer(Adam(), registry)
    for _ in range(2):
        optimizer.step([a, b], [np.full(2, 1.0), np.full(3, -4.0)])
    state = optimizer.state_dict()
    assert state["m.0"].shape == (2,) and state["m.1"].shape == (3,)
    np.testing.assert_allclose(a, 1 - 2e-3, rtol=1e-6)
    np.testing.assert_allclose(b, 1 + 2e-3, rtol=1e-6)


def test_adam_state_round_trip_resumes_exactly(registry) -> None:
    first = plugnn.build_optimizer(Adam(), registry)
    param = np.array([1.0, 2.0])
    first.step([param], [np.array([0.3, -0.1])])
    second = plugnn.build_optimizer(Adam(), registry)
    second.load_state_dict(first.state_dict())
    other = param.copy()
    first.step([param], [np.array([0.2, 0.4])])
    second.step([other], [np.array([0.2, 0.4])])
    np.testing.assert_array_equal(param, other)


@pytest.mark.parametrize("spec", [SGD(lr=0.1), Adam(lr=0.1)])
def test_optimizers_keep_float32(registry, spec) -> None:
    param = np.ones(4, dtype=np.float32)
    optimizer = plugnn.build_optimizer(spec, registry)
    optimizer.step([param], [np.full(4, 0.5, dtype=np.float32)])
    assert param.dtype == np.float32
    assert all(value.dtype != np.float64 for key, value in optimizer.state_dict().items() if key != "t")
