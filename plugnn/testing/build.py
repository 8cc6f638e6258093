"""Building single components for checks, as the builder would."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugnn.builder import BuildContext
from plugnn.protocols import Array, Layer, Shape
from plugnn.registry import Component, Registry
from plugnn.shapes import as_shape
from plugnn.testing.errors import working_on

BATCH = 3
"""Batch size of the gradient checks (odd, so that nothing can rely on pairs)."""


class FixedNormal:
    """The default initializer in checks: N(0, 0.5²), so that no registered initializer is required."""

    def __call__(
        self, shape: tuple[int, ...], *, fan_in: int, fan_out: int, rng: np.random.Generator, dtype: np.dtype
    ) -> Array:
        return (rng.standard_normal(shape) * 0.5).astype(dtype)

    def variance(self, fan_in: int, fan_out: int) -> float:
        return 0.25


def make_layer(
    component: Component,
    spec: Any,
    registry: Registry,
    *,
    input_shape: Shape | int = (5,),
    dtype: str = "float64",
    seed: int = 0,
    noise_seed: int = 1,
) -> tuple[Layer, np.random.Generator]:
    """One layer built for samples of ``input_shape`` on its own, and the noise generator it draws from.

    A check that then fails with an error of the layer's own (not a :class:`ConformanceError`) is
    reported as being on input shape ``(N, *input_shape)``.
    """
    noise = np.random.default_rng(noise_seed)
    ctx = BuildContext(np.random.default_rng(seed), np.dtype(dtype), FixedNormal(), registry, noise, component.name)
    shape = as_shape(input_shape)
    working_on(f"input shape {batch_shape(shape)}")
    return component.factory(spec, shape, ctx), noise


def batch_shape(shape: Shape, n: int | str = "N") -> str:
    """``(N, 5, 4, 2)``: a batch of samples of ``shape``, as messages write it."""
    return f"({', '.join(map(str, (n, *shape)))})"


def input_shapes(spec: Any) -> list[Shape]:
    """The per-sample shapes a layer is checked with: its spec class's ``example_input_shapes()``."""
    return [as_shape(shape, f"{type(spec).__name__}.example_input_shapes()") for shape in spec.example_input_shapes()]


def batch(shape: Shape, n: int, seed: int, dtype: str = "float64") -> Array:
    """``n`` standard-normal samples of ``shape``: an array ``(n, *shape)``."""
    return np.random.default_rng(seed).standard_normal((n, *shape)).astype(dtype)


def label(component: Component, spec: Any) -> str:
    """``layer 'dense' (Dense(units=3, init=None))``."""
    return f"{component.kind} {component.name!r} ({spec!r})"
