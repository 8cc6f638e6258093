"""The conformance kit's failure and skip, and what a failing check was working on."""

from __future__ import annotations

from contextvars import ContextVar

_SUBJECT: ContextVar[str | None] = ContextVar("plugnn_testing_subject", default=None)


class ConformanceError(AssertionError):
    """A component broke one of plugnn's contracts; the message names it, the check, expected and got."""


class CheckSkipped(Exception):
    """A check that cannot run here (an optional extra is missing, the component declares nothing to
    compare with); :class:`plugnn.testing.Check` reports it as a skipped case with this reason."""


def working_on(subject: str | None) -> None:
    """Record what the running check feeds the component now, e.g. ``input shape (N, 5)``.

    :class:`plugnn.testing.Check` names it when the component raises something other than a
    :class:`ConformanceError` (a numpy broadcast error in a layer's forward, say).
    """
    _SUBJECT.set(subject)


def subject() -> str | None:
    """What :func:`working_on` last recorded in this context (None: nothing yet)."""
    return _SUBJECT.get()
