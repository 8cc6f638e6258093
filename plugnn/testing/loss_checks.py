"""Conformance checks for losses."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugnn.protocols import Loss
from plugnn.registry import Component, Registry
from plugnn.testing.build import BATCH, label
from plugnn.testing.errors import ConformanceError, working_on
from plugnn.testing.gradients import assert_gradient_close, numeric_gradient

CLASSES = 3


def _batch(spec: Any, n: int, dtype: str = "float64", seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Outputs ``(n, 3)`` and what the loss takes (its ``LossSpec.targets``): labels ``(n,)`` or values ``(n, 3)``."""
    rng = np.random.default_rng(seed)
    outputs = (rng.standard_normal((n, CLASSES)) * 3).astype(dtype)
    working_on(f"input shape {outputs.shape}")
    if getattr(type(spec), "targets", "labels") == "values":
        return outputs, (rng.standard_normal((n, CLASSES)) * 3).astype(dtype)
    return outputs, rng.integers(0, CLASSES, size=n)


def check_protocol(component: Component, spec: Any, registry: Registry) -> None:
    """The loss satisfies :class:`plugnn.Loss` and returns ``(float, array)``."""
    loss = component.factory(spec)
    what = label(component, spec)
    if not isinstance(loss, Loss):
        raise ConformanceError(f"{what}: not a plugnn Loss (it must be callable as loss(logits, labels))")
    result = loss(*_batch(spec, BATCH))
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], float)):
        raise ConformanceError(f"{what}: expected (float, gradient array), got {type(result).__name__} {result!r:.80}")


def check_gradients(component: Component, spec: Any, registry: Registry) -> None:
    """The gradient with respect to the logits matches central differences (float64)."""
    loss = component.factory(spec)
    logits, labels = _batch(spec, BATCH + 1)
    _, grad = loss(logits.copy(), labels)
    numeric = numeric_gradient(lambda: loss(logits.copy(), labels)[0], logits)
    assert_gradient_close(grad, numeric, f"{label(component, spec)} d/dZ")


def check_dtype(component: Component, spec: Any, registry: Registry) -> None:
    """float32 logits give a float32 gradient."""
    _, grad = component.factory(spec)(*_batch(spec, BATCH, "float32"))
    if grad.dtype != np.float32:
        raise ConformanceError(f"{label(component, spec)}: float32 logits gave a {grad.dtype} gradient")


def check_shapes(component: Component, spec: Any, registry: Registry) -> None:
    """Batches of 1 and 7 give a finite value and a gradient shaped like the logits."""
    loss = component.factory(spec)
    for n in (1, 7):
        logits, labels = _batch(spec, n)
        value, grad = loss(logits, labels)
        if grad.shape != logits.shape or not np.isfinite(value):
            raise ConformanceError(
                f"{label(component, spec)}: batch of {n} gave value {value!r} and gradient {grad.shape}, "
                f"expected a finite value and {logits.shape}"
            )


def check_inputs_unchanged(component: Component, spec: Any, registry: Registry) -> None:
    """The loss leaves its inputs as they were: read-only logits and targets (batches of 1 and 7, in C
    and Fortran order) work, and the gradient is a new array (the train loop reads the logits after)."""
    loss, what = component.factory(spec), label(component, spec)
    for n in (1, 7):
        for order in ("C", "F"):
            logits, targets = _batch(spec, n)
            logits = np.asarray(logits, order=order)
            kept = logits.copy(), np.copy(targets)
            logits.setflags(write=False)
            targets.setflags(write=False)
            try:
                _, grad = loss(logits, targets)
            except ValueError as exc:
                if "read-only" not in str(exc):
                    raise
                raise ConformanceError(f"{what}: wrote into its inputs (batch of {n}): {exc}") from None
            if not (np.array_equal(logits, kept[0]) and np.array_equal(targets, kept[1])):
                raise ConformanceError(f"{what}: changed its inputs (batch of {n}, {order} order)")
            if np.shares_memory(grad, logits):
                raise ConformanceError(f"{what}: its gradient shares memory with the logits")
