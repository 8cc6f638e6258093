"""Conformance checks for learning-rate schedules."""

from __future__ import annotations

import math
from typing import Any

from plugnn.protocols import Schedule
from plugnn.registry import Component, Registry
from plugnn.testing.build import label
from plugnn.testing.errors import ConformanceError

EPOCHS = 10


def check_factors(component: Component, spec: Any, registry: Registry) -> None:
    """A :class:`plugnn.Schedule` giving a finite, positive, repeatable factor for every epoch."""
    schedule = component.factory(spec)
    if not isinstance(schedule, Schedule):
        raise ConformanceError(f"{label(component, spec)}: not a plugnn Schedule (callable as schedule(epoch, epochs))")
    factors = [schedule(epoch, EPOCHS) for epoch in range(EPOCHS)]
    if not all(isinstance(f, float) and math.isfinite(f) and f > 0 for f in factors):
        raise ConformanceError(f"{label(component, spec)}: factors must be finite floats > 0, got {factors}")
    if factors != [schedule(epoch, EPOCHS) for epoch in range(EPOCHS)]:
        raise ConformanceError(f"{label(component, spec)}: the same epoch gave different factors")
