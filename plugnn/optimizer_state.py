"""Restoring an optimizer's saved state, checked against the parameters it will update.

Checkpoints and model files store an optimizer's ``state_dict`` (Adam: ``t``, ``m.0``, ``v.0``) as
named arrays. A crafted or mismatched file could hold too few or too many arrays, a moment of the
wrong shape or dtype, or NaN, which would only show later as a numpy error or a silently wrong
run. :func:`restore_optimizer` refuses such a state before any training, in one line naming the
file and the array, by comparing it with a *reference*: the ``state_dict`` of a fresh optimizer of
the same spec after one step with zero gradients on copies of the same parameters. This uses only
the :class:`plugnn.protocols.Optimizer` protocol, so every optimizer, a plugin's too, is checked;
the conformance kit checks that an optimizer's state keeps one layout (``state_layout``).

A state matches when it has exactly the reference's names, each array has the reference's shape
and dtype, and every float is finite. The state of an optimizer that has not stepped yet (its
``state_dict`` when new, e.g. ``{"t": 0}``) matches too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from plugnn.builder import made, resolve
from plugnn.npzfile import CorruptFileError
from plugnn.protocols import Array, Optimizer
from plugnn.registry import Registry
from plugnn.specs import ComponentSpec

SHOWN = 4
"""At most this many missing or unexpected names are listed in a message."""


def restore_optimizer(
    ref: str | ComponentSpec,
    registry: Registry,
    state: Mapping[str, np.ndarray],
    params: Sequence[Array],
    source: str,
    prefix: str = "",
) -> Optimizer:
    """A new optimizer ``ref`` holding ``state``, refused with :class:`CorruptFileError` if it does not fit ``params``.

    ``params`` are the arrays the optimizer will update (the network's ``[params]``); ``source``
    (the file) and ``prefix`` (how the file names the state's arrays, e.g. ``"optimizer/"``) go
    into the message, e.g. ``run/checkpoint.npz: 'optimizer/m.0' should be shape (610,) float32
    like the state of adam for these parameters, got shape (512,) float32``.
    """
    component, spec = resolve(ref, "optimizer", registry, "network.optimizer")
    fresh = made(component, component.factory(spec), Optimizer)
    before = fresh.state_dict()
    with np.errstate(all="ignore"):  # zero gradients may divide by zero in some optimizers: only the layout counts
        fresh.step([p.copy() for p in params], [np.zeros_like(p) for p in params])
    reference = fresh.state_dict() if set(state) != set(before) else before
    check_state(state, reference, f"{source}: ", prefix, f"the state of {component.name} for these parameters")
    optimizer = made(component, component.factory(spec), Optimizer)
    try:
        optimizer.load_state_dict(state)
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise CorruptFileError(f"{source}: the optimizer state does not fit ({type(exc).__name__}: {exc})") from None
    return optimizer


def check_state(
    state: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray], where: str, prefix: str, what: str
) -> None:
    """Refuse ``state`` unless it has ``reference``'s names, shapes and dtypes and only finite floats."""
    missing, extra = sorted(set(reference) - set(state)), sorted(set(state) - set(reference))
    if missing or extra:
        listed = "; ".join(
            f"{label} {', '.join(repr(prefix + k) for k in keys[:SHOWN])}{' ...' if len(keys) > SHOWN else ''}"
            for label, keys in (("missing", missing), ("unexpected", extra))
            if keys
        )
        raise CorruptFileError(f"{where}the optimizer state does not match {what} ({listed})")
    for key in sorted(reference):
        got, want = np.asarray(state[key]), reference[key]
        if got.shape != want.shape or got.dtype != want.dtype:
            raise CorruptFileError(f"{where}{prefix + key!r} should be {_layout(want)} like {what}, got {_layout(got)}")
        if got.dtype.kind in "fc" and not np.all(np.isfinite(got)):
            raise CorruptFileError(f"{where}{prefix + key!r} of the optimizer state holds NaN or Inf")


def _layout(array: np.ndarray) -> str:
    return f"shape {array.shape} {array.dtype}"
