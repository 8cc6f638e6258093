"""Conformance checks for callbacks: the protocol, valid training-event hooks, state as plain arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import pluggy

from plugnn import hookspecs
from plugnn.protocols import Callback
from plugnn.registry import Component, Registry
from plugnn.testing.build import label
from plugnn.testing.errors import ConformanceError

TRAINING_EVENTS = ("plugnn_train_start", "plugnn_batch_end", "plugnn_epoch_end", "plugnn_train_end")


def _build(component: Component, spec: Any) -> Callback:
    callback = component.factory(spec)
    if not isinstance(callback, Callback):
        raise ConformanceError(
            f"{label(component, spec)}: not a plugnn Callback (needs monitors, state_dict and load_state_dict)"
        )
    return callback


def check_protocol(component: Component, spec: Any, registry: Registry) -> None:
    """A :class:`plugnn.protocols.Callback` with ``monitors`` a tuple of column names and valid event hooks."""
    callback = _build(component, spec)
    if not isinstance(callback.monitors, tuple) or not all(isinstance(c, str) and c for c in callback.monitors):
        raise ConformanceError(
            f"{label(component, spec)}: monitors must be a tuple of column names, got {callback.monitors!r}"
        )
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    try:
        pm.register(callback)
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise ConformanceError(f"{label(component, spec)}: invalid hook implementation: {exc}") from None
    events = [name for name in TRAINING_EVENTS if getattr(pm.hook, name).get_hookimpls()]
    if not events:
        raise ConformanceError(
            f"{label(component, spec)}: implements none of the training events ({', '.join(TRAINING_EVENTS)}); "
            "mark its methods with @plugnn.hookimpl"
        )


def check_state_round_trip(component: Component, spec: Any, registry: Registry) -> None:
    """``state_dict`` gives named arrays (no objects: checkpoints never unpickle) that a new instance takes back."""
    state = _build(component, spec).state_dict()
    bad = {k: type(v).__name__ for k, v in state.items() if not isinstance(v, np.ndarray) or v.dtype.hasobject}
    if not isinstance(state, dict) or bad:
        raise ConformanceError(f"{label(component, spec)}: state_dict must map names to numeric arrays, got {bad}")
    other = _build(component, spec)
    other.load_state_dict(state)
    again = other.state_dict()
    if sorted(again) != sorted(state) or not all(np.array_equal(again[k], state[k]) for k in state):
        raise ConformanceError(f"{label(component, spec)}: load_state_dict(state_dict()) did not give the same state")
