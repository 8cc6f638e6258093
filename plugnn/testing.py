r"""The conformance kit: checks any registered component against plugnn's contracts.

Use it from a plugin's own test suite, the way scikit-learn's ``parametrize_with_checks`` is used::

    from plugnn.testing import parametrize_with_checks

    @parametrize_with_checks(plugins=["my_plugin"])
    def test_conformance(check):
        check()

Each check is one pytest case named ``<kind>:<name>[<example>]-<check>``; a failure raises
:class:`ConformanceError` naming the component, the check and expected vs got. Components are
checked with every instance their spec class's ``examples()`` returns.

Gradients are checked in float64 by central differences,
:math:`\partial f/\partial a_i \approx (f(a + h e_i) - f(a - h e_i)) / 2h`, on the scalar
:math:`f = \sum Y \odot G` for a random upstream gradient ``G`` (layers) or on the loss value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs
import numpy as np

from plugnn.builder import BuildContext
from plugnn.plugins import default_registry
from plugnn.protocols import Array, Initializer, Layer, Loss
from plugnn.registry import Component, Registry

STEP = 1e-6
"""Central-difference step ``h``."""
RTOL = 1e-5
"""Largest allowed error ``|a - n| / max(|a| + |n|, FLOOR)`` between analytic and numeric gradients."""
FLOOR = 1e-3
"""Below this magnitude an entry is judged by absolute error (``RTOL * FLOOR``): central differences
carry a round-off of about ``1e-10`` that would swamp a purely relative test on tiny entries."""
IN_FEATURES = 5
BATCH = 4


class ConformanceError(AssertionError):
    """A component broke one of plugnn's contracts."""


@attrs.frozen
class Check:
    """One (component, example, check) case; call it to run the check."""

    component: Component
    example: int
    spec: Any
    name: str
    function: Callable[[Component, Any, Registry], None]
    registry: Registry

    @property
    def id(self) -> str:
        return f"{self.component.kind}:{self.component.name}[{self.example}]-{self.name}"

    def __call__(self) -> None:
        self.function(self.component, self.spec, self.registry)


def _fixed_initializer(
    shape: tuple[int, ...], *, fan_in: int, fan_out: int, rng: np.random.Generator, dtype: np.dtype
) -> Array:
    return (rng.standard_normal(shape) * 0.5).astype(dtype)


def make_layer(
    component: Component,
    spec: Any,
    registry: Registry,
    *,
    in_features: int = IN_FEATURES,
    dtype: str = "float64",
    seed: int = 0,
    default_init: Initializer = _fixed_initializer,
) -> Layer:
    """Build one layer on its own, as the builder would, for tests."""
    ctx = BuildContext(np.random.default_rng(seed), np.dtype(dtype), default_init, registry, component.name)
    return component.factory(spec, in_features, ctx)


def numeric_gradient(objective: Callable[[], float], array: Array, step: float = STEP) -> Array:
    """Central-difference gradient of ``objective()`` with respect to ``array``, perturbed in place."""
    grad = np.zeros_like(array, dtype=np.float64)
    flat = array.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + step
        plus = objective()
        flat[i] = saved - step
        minus = objective()
        flat[i] = saved
        grad.reshape(-1)[i] = (plus - minus) / (2 * step)
    return grad


def assert_gradient_close(analytic: Array, numeric: Array, what: str, rtol: float = RTOL) -> None:
    """Raise :class:`ConformanceError` with the largest relative error and where it is."""
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise ConformanceError(f"{what}: gradient shape {analytic.shape}, expected {numeric.shape}")
    error = np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), FLOOR)
    worst = np.unravel_index(np.argmax(error), error.shape) if error.size else ()
    if error.size and error[worst] > rtol:
        raise ConformanceError(
            f"{what}: wrong gradient, largest relative error {error[worst]:.3g} (tolerance {rtol:g}) "
            f"at index {tuple(int(i) for i in worst)}: analytic {analytic[worst]:.6g}, numeric {numeric[worst]:.6g}"
        )


def check_layer_gradients(component: Component, spec: Any, registry: Registry) -> None:
    """Analytic input and parameter gradients match central differences (float64, inference mode)."""
    rng = np.random.default_rng(1)
    layer = make_layer(component, spec, registry)
    x = rng.standard_normal((BATCH, IN_FEATURES))
    upstream = rng.standard_normal(layer.forward(x.copy()).shape)

    def objective() -> float:
        return float(np.sum(layer.forward(x.copy()) * upstream))

    layer.forward(x.copy())
    grad_x = layer.backward(upstream.copy(), input_grad=True)
    analytic = {name: grad.copy() for name, grad in layer.grads.items()}
    label = f"layer {component.name!r} ({spec!r})"
    assert_gradient_close(grad_x, numeric_gradient(objective, x), f"{label} d/dX")
    for name, param in layer.params.items():
        assert_gradient_close(analytic[name], numeric_gradient(objective, param), f"{label} d/d{name}")


def check_loss_gradients(component: Component, spec: Any, registry: Registry) -> None:
    """The loss gradient with respect to the logits matches central differences (float64)."""
    rng = np.random.default_rng(2)
    loss: Loss = component.factory(spec)
    logits = rng.standard_normal((BATCH + 1, 3)) * 3
    labels = rng.integers(0, 3, size=BATCH + 1)
    _, grad = loss(logits.copy(), labels)
    numeric = numeric_gradient(lambda: loss(logits.copy(), labels)[0], logits)
    assert_gradient_close(grad, numeric, f"loss {component.name!r} ({spec!r}) d/dZ")


CHECKS: dict[str, list[Callable[[Component, Any, Registry], None]]] = {
    "layer": [check_layer_gradients],
    "loss": [check_loss_gradients],
    "optimizer": [],
    "initializer": [],
    "dataset": [],
}
"""The checks each kind of component must pass."""


def iter_checks(registry: Registry | None = None, *, plugins: Iterable[str] | None = None) -> Iterator[Check]:
    """Every (component, example, check) of the registry, or of the named plugins only."""
    registry = registry or default_registry()
    wanted = set(plugins) if plugins is not None else None
    for component in registry.components():
        if wanted is not None and component.plugin not in wanted:
            continue
        for index, spec in enumerate(component.spec.examples()):
            for function in CHECKS[component.kind]:
                name = function.__name__.removeprefix("check_")
                yield Check(component, index, spec, name, function, registry)


def parametrize_with_checks(registry: Registry | None = None, *, plugins: Iterable[str] | None = None) -> Any:
    """A ``pytest.mark.parametrize("check", ...)`` over :func:`iter_checks`, one named case each."""
    import pytest

    checks = list(iter_checks(registry, plugins=plugins))
    return pytest.mark.parametrize("check", checks, ids=[check.id for check in checks])
