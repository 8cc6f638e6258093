"""attrs validators for spec fields, with messages that say what was expected and what came.

Each raises :class:`plugnn.errors.FieldError`, which carries the field name so that error paths
end in it: ``layers[2].units: must be > 0 (got 0)``. Every number check refuses NaN and ±Inf
first (``lr: must be a finite number (got inf)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from numbers import Real
from typing import Any

import attrs

from plugnn.errors import FieldError

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _number_check(test: Callable[[float], bool], expected: str) -> Validator:
    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not _is_number(value):
            raise FieldError(attribute.name, f"expected a number, got {type(value).__name__} {value!r}")
        if not math.isfinite(value):
            raise FieldError(attribute.name, f"must be a finite number (got {value!r})")
        if not test(value):
            raise FieldError(attribute.name, f"must be {expected} (got {value!r})")

    return check


positive: Validator = _number_check(lambda v: v > 0, "> 0")
"""A finite number > 0 (learning rates, epsilons, standard deviations, sizes)."""

non_negative: Validator = _number_check(lambda v: v >= 0, ">= 0")
"""A finite number >= 0."""

MAX_UNITS = 1 << 20
"""The largest width a layer may declare (1,048,576); memory is checked separately when building."""

MAX_EPOCHS = 1_000_000
"""The most epochs a run may declare (``train.epochs``, counting those a continued run already trained).

Far beyond any real run (the bundled recipes train 10 to 60); a bigger number is a typo, or a
wish to train until the loss stops improving, which the ``early_stopping`` callback does."""

MAX_BATCH_SIZE = 1 << 24
"""The largest ``train.batch_size`` (16,777,216 samples, 50 GiB of 28×28 float32 images).

A batch larger than the training set is one batch of all of it (with a warning), as in PyTorch's
``DataLoader``, Keras's ``fit`` and scikit-learn's ``MLPClassifier`` (which clips it the same way);
memory is bounded by the data, not by this number."""


def at_most(limit: int, why: str = "") -> Validator:
    """A number ``<= limit``; ``why`` (e.g. the name of the limit) is added to the message."""
    return _number_check(lambda v: v <= limit, f"<= {limit:,}{f' ({why})' if why else ''}")


fraction: Validator = _number_check(lambda v: 0 < v < 1, "in (0, 1)")
"""A number strictly between 0 and 1."""


def in_range(low: float, high: float, *, include_high: bool = False) -> Validator:
    """``low <= value < high`` (or ``<= high`` with ``include_high``)."""
    if include_high:
        return _number_check(lambda v: low <= v <= high, f"in [{low}, {high}]")
    return _number_check(lambda v: low <= v < high, f"in [{low}, {high})")


def magnitude_at_most(limit: float) -> Validator:
    """A number no larger than ``limit`` in size: ``-limit <= value <= limit``."""
    return _number_check(lambda v: abs(v) <= limit, f"between {-limit:g} and {limit:g}")


def integer(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An int, not a bool or a float."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise FieldError(attribute.name, f"expected an integer, got {type(value).__name__} {value!r}")


def boolean(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """True or False, not a truthy stand-in."""
    if not isinstance(value, bool):
        raise FieldError(attribute.name, f"expected true or false, got {type(value).__name__} {value!r}")


def text(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        raise FieldError(attribute.name, f"expected a non-empty string, got {type(value).__name__} {value!r}")


def one_of(choices: Collection[str]) -> Validator:
    """A string among ``choices``."""

    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in choices:
            raise FieldError(attribute.name, f"must be one of {', '.join(map(repr, choices))} (got {value!r})")

    return check
