r"""Conformance checks for optimizers, on the convex quadratic :math:`f(w) = \tfrac12 \sum_i a_i (w_i - c_i)^2`."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugnn.protocols import Optimizer
from plugnn.registry import Component, Registry
from plugnn.specs import OptimizerSpec
from plugnn.testing.build import label
from plugnn.testing.errors import CheckSkipped, ConformanceError, working_on

STEPS = 300


def _problem(size: int, seed: int, dtype: str = "float64") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    working_on(f"parameter shape {(size,)}")
    scale = rng.uniform(0.5, 2.0, size).astype(dtype)
    centre = rng.standard_normal(size).astype(dtype)
    return scale, centre, (centre + 0.5).astype(dtype)


def _grad(scale: np.ndarray, centre: np.ndarray, w: np.ndarray) -> np.ndarray:
    grad: np.ndarray = scale * (w - centre)
    return grad


def _run(optimizer: Optimizer, problems: list[tuple[np.ndarray, np.ndarray, np.ndarray]], steps: int) -> None:
    for _ in range(steps):
        optimizer.step([w for _, _, w in problems], [_grad(a, c, w) for a, c, w in problems])


def check_protocol(component: Component, spec: Any, registry: Registry) -> None:
    """The optimizer satisfies :class:`plugnn.Optimizer`; ``spec`` is the spec it was built from, ``lr`` its rate."""
    optimizer = component.factory(spec)
    if not isinstance(optimizer, Optimizer) or not isinstance(optimizer.lr, float):
        raise ConformanceError(
            f"{label(component, spec)}: not a plugnn Optimizer (spec, step, state_dict, load_state_dict and a float lr)"
        )
    if optimizer.spec is not spec or optimizer.lr != spec.lr:
        raise ConformanceError(
            f"{label(component, spec)}: expected .spec to be the spec it was built from and .lr == spec.lr "
            f"({spec.lr!r}), got .spec {optimizer.spec!r} and .lr {optimizer.lr!r}"
        )


def check_decreases_quadratic(component: Component, spec: Any, registry: Registry) -> None:
    """300 steps on a convex quadratic lower it to below 90% of where it started."""
    optimizer = component.factory(spec)
    scale, centre, w = _problem(6, 0)
    start = 0.5 * np.sum(scale * (w - centre) ** 2)
    _run(optimizer, [(scale, centre, w)], STEPS)
    end = 0.5 * np.sum(scale * (w - centre) ** 2)
    if not end < 0.9 * start:
        raise ConformanceError(
            f"{label(component, spec)}: f went from {start:.4g} to {end:.4g} in {STEPS} steps, "
            "expected below 90% of the start"
        )


def check_separate_state(component: Component, spec: Any, registry: Registry) -> None:
    """Two parameters updated together move exactly as each does alone (state is per parameter)."""
    together = [_problem(3, 1), _problem(4, 2)]
    _run(component.factory(spec), together, 20)
    for index, seed in enumerate((1, 2)):
        alone = [_problem(3 + index, seed)]
        _run(component.factory(spec), alone, 20)
        if not np.allclose(together[index][2], alone[0][2], rtol=1e-12, atol=0):
            raise ConformanceError(
                f"{label(component, spec)}: parameter {index} moved differently beside another "
                f"parameter ({together[index][2]}) than alone ({alone[0][2]}): shared state?"
            )


def check_state_round_trip(component: Component, spec: Any, registry: Registry) -> None:
    """Exported state loaded into a fresh optimizer continues bit for bit; the state is plain arrays."""
    first = component.factory(spec)
    problem = [_problem(5, 3)]
    _run(first, problem, 7)
    state = first.state_dict()
    bad = {k: type(v).__name__ for k, v in state.items() if not isinstance(v, np.ndarray) or v.dtype.hasobject}
    if bad:
        raise ConformanceError(f"{label(component, spec)}: state_dict values must be numeric numpy arrays, got {bad}")
    second = component.factory(spec)
    second.load_state_dict({k: v.copy() for k, v in state.items()})
    copy = [(a, c, w.copy()) for a, c, w in problem]
    _run(first, problem, 5)
    _run(second, copy, 5)
    if not np.array_equal(problem[0][2], copy[0][2]):
        raise ConformanceError(
            f"{label(component, spec)}: after load_state_dict the next steps differ "
            f"({copy[0][2]} instead of {problem[0][2]})"
        )


def check_dtype(component: Component, spec: Any, registry: Registry) -> None:
    """float32 parameters stay float32, and so does the optimizer's state."""
    optimizer = component.factory(spec)
    problem = [_problem(4, 4, "float32")]
    _run(optimizer, problem, 3)
    wrong = {k: str(v.dtype) for k, v in optimizer.state_dict().items() if v.dtype == np.float64}
    if problem[0][2].dtype != np.float32 or wrong:
        raise ConformanceError(
            f"{label(component, spec)}: float32 parameters gave {problem[0][2].dtype} "
            f"parameters and float64 state {wrong}"
        )


def check_state_layout(component: Component, spec: Any, registry: Registry) -> None:
    """The state keeps one layout (names, shapes, dtypes) from the first step on.

    Saved states are checked against the layout after one step (:mod:`plugnn.optimizer_state`), so
    a state that grows with the steps could not be restored.
    """
    optimizer = component.factory(spec)
    problem = [_problem(5, 5, "float32")]
    layouts = []
    for steps in (1, 4):
        _run(optimizer, problem, steps)
        layouts.append({k: (v.shape, v.dtype.str) for k, v in optimizer.state_dict().items()})
    if layouts[0] != layouts[1]:
        raise ConformanceError(
            f"{label(component, spec)}: the state's names, shapes or dtypes changed between step 1 "
            f"({layouts[0]}) and step 5 ({layouts[1]}); a saved state is checked against its layout after one step"
        )


REFERENCE_STEPS = 60
"""Steps the optimizer and its reference step are compared over."""
REFERENCE_RTOL = 1e-6
"""Largest allowed error of a step ``|Δ - Δref| / max(|Δref|, 1e-3 · max |Δref|)``: far above float64
round-off, far below what a wrong constant does (the ε̂ form of Adam differs by about 1e-4 here)."""


def _declares_reference(spec: Any) -> bool:
    return type(spec).reference_step is not OptimizerSpec.reference_step


def _worst(moved: np.ndarray, expected: np.ndarray) -> tuple[tuple[int, ...], float]:
    """Where the step ``moved`` is furthest from ``expected``, and the relative error there."""
    floor = max(float(np.max(np.abs(expected))) * 1e-3, np.finfo(np.float64).tiny)
    error = np.abs(moved - expected) / np.maximum(np.abs(expected), floor)
    worst = np.unravel_index(np.argmax(error), error.shape)
    return tuple(int(i) for i in worst), float(error[worst])


def check_reference_step(component: Component, spec: Any, registry: Registry) -> None:
    """The optimizer moves its parameters as its spec's ``reference_step`` (the paper's formula) does.

    Two float64 parameters, ``(4, 3)`` and ``(5,)``, take :data:`REFERENCE_STEPS` steps with random
    gradients whose scale changes from step to step (1e-4 to 1) and a learning rate set before
    each step to ``spec.lr`` times a random factor in [0.1, 1] (as the train loop sets ``lr``);
    each step of each parameter is compared with the reference step from the same parameter values.
    Skipped when the spec declares no ``reference_step``.
    """
    what = label(component, spec)
    if not _declares_reference(spec):
        raise CheckSkipped(
            f"{type(spec).__name__} declares no reference_step (the paper's update in plain numpy), "
            "so the optimizer's numbers are not compared with its formula"
        )
    rng = np.random.default_rng(7)
    params = [rng.standard_normal((4, 3)), rng.standard_normal(5)]
    states: list[dict[str, np.ndarray]] = [{}, {}]
    optimizer = component.factory(spec)
    for t in range(1, REFERENCE_STEPS + 1):
        optimizer.lr = float(spec.lr) * float(rng.uniform(0.1, 1.0))
        grads = [rng.standard_normal(p.shape) * 10.0 ** rng.uniform(-4, 0) for p in params]
        before = [p.copy() for p in params]
        expected = []
        for index, (param, grad) in enumerate(zip(before, grads, strict=True)):
            working_on(f"parameter shape {param.shape}")
            new, states[index] = spec.reference_step(param.copy(), grad.copy(), states[index], lr=optimizer.lr, t=t)
            expected.append(np.asarray(new, dtype=np.float64) - param)
        working_on(f"parameters of shapes {params[0].shape} and {params[1].shape}")
        optimizer.step(params, [g.copy() for g in grads])
        for index, (param, start, step) in enumerate(zip(params, before, expected, strict=True)):
            moved = param - start
            where, error = _worst(moved, step)
            if not error <= REFERENCE_RTOL:
                raise ConformanceError(
                    f"{what}: step {t} (lr {optimizer.lr:.4g}) of parameter {index} {param.shape} differs from "
                    f"{type(spec).__name__}.reference_step: at index {where} it moved by {moved[where]:.6g}, the "
                    f"reference by {step[where]:.6g} (relative error {error:.3g}, tolerance {REFERENCE_RTOL:g})"
                )
