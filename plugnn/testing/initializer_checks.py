"""Conformance checks for initializers."""

from __future__ import annotations

from typing import Any

import numpy as np

from plugnn.protocols import Initializer
from plugnn.registry import Component, Registry
from plugnn.testing.build import label
from plugnn.testing.errors import ConformanceError

FAN_IN, FAN_OUT = 400, 600


def _draw(init: Initializer, dtype: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return init((FAN_IN, FAN_OUT), fan_in=FAN_IN, fan_out=FAN_OUT, rng=rng, dtype=np.dtype(dtype))


def check_protocol(component: Component, spec: Any, registry: Registry) -> None:
    """The initializer satisfies :class:`plugnn.Initializer` (a call and ``variance``)."""
    if not isinstance(component.factory(spec), Initializer):
        raise ConformanceError(f"{label(component, spec)}: not a plugnn Initializer (callable, with variance())")


def check_shape_and_dtype(component: Component, spec: Any, registry: Registry) -> None:
    """The draw has the asked shape and dtype, float32 and float64 alike."""
    init = component.factory(spec)
    for dtype in ("float32", "float64"):
        values = _draw(init, dtype)
        if values.shape != (FAN_IN, FAN_OUT) or values.dtype != np.dtype(dtype):
            raise ConformanceError(
                f"{label(component, spec)}: asked for {dtype}{(FAN_IN, FAN_OUT)}, got {values.dtype}{values.shape}"
            )


def check_variance(component: Component, spec: Any, registry: Registry) -> None:
    """240,000 draws have the stated variance within 3% and a mean within 4 standard errors of 0."""
    init = component.factory(spec)
    values = _draw(init, "float64")
    stated = init.variance(FAN_IN, FAN_OUT)
    got = float(values.var())
    if abs(got / stated - 1) > 0.03 or abs(values.mean()) > 4 * np.sqrt(stated / values.size):
        raise ConformanceError(
            f"{label(component, spec)}: stated variance {stated:.6g}, drew variance {got:.6g} "
            f"and mean {values.mean():.3g}"
        )


def check_determinism(component: Component, spec: Any, registry: Registry) -> None:
    """The same generator seed gives the same draw; another seed another."""
    init = component.factory(spec)
    if not np.array_equal(_draw(init, "float32", 1), _draw(init, "float32", 1)):
        raise ConformanceError(f"{label(component, spec)}: the same seed drew different values")
    if np.array_equal(_draw(init, "float32", 1), _draw(init, "float32", 2)):
        raise ConformanceError(f"{label(component, spec)}: different seeds drew the same values")
