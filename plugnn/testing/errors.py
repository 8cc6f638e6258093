"""The conformance kit's failure and skip, and what a failing check was working on."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from plugnn.errors import ShapeError

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


def expect_shape_error(what: str, shape: tuple[int, ...], build: Callable[[], object]) -> None:
    """``build()`` must raise :class:`plugnn.ShapeError`, one line naming ``shape``; ``what`` names the case.

    The check of a spec class's ``invalid_input_shapes()``, shared by the kinds that are built for a
    sample shape (layers, augmentations).
    """
    try:
        build()
    except ShapeError as exc:
        message = str(exc)
        if "\n" in message or str(tuple(shape)) not in message:
            raise ConformanceError(
                f"{what}: the ShapeError must be one line naming the shape it got, got {message!r}"
            ) from None
    except Exception as exc:
        raise ConformanceError(f"{what}: raised {type(exc).__name__} ({exc}) instead of plugnn.ShapeError") from None
    else:
        raise ConformanceError(f"{what}: accepted a shape its spec lists in invalid_input_shapes()")
