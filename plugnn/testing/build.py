"""Building single components for checks, as the builder would."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugnn.builder import BuildContext
from plugnn.protocols import Array, Layer
from plugnn.registry import Component, Registry

IN_FEATURES = 5
"""Input width of the layers under test."""
BATCH = 4
"""Batch size of the gradient checks."""


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
    in_features: int = IN_FEATURES,
    dtype: str = "float64",
    seed: int = 0,
    noise_seed: int = 1,
) -> tuple[Layer, np.random.Generator]:
    """One layer on its own and the noise generator it draws from."""
    noise = np.random.default_rng(noise_seed)
    ctx = BuildContext(np.random.default_rng(seed), np.dtype(dtype), FixedNormal(), registry, noise, component.name)
    return component.factory(spec, in_features, ctx), noise


def label(component: Component, spec: Any) -> str:
    """``layer 'dense' (Dense(units=3, init=None))``."""
    return f"{component.kind} {component.name!r} ({spec!r})"
