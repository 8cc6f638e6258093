"""Input checks run before any work starts: a clear message instead of a numpy traceback."""

from __future__ import annotations

import math
import os
import sys
import warnings
from types import FrameType
from typing import Any

import numpy as np

from plugnn.errors import DataError
from plugnn.memory import converted
from plugnn.protocols import Array, Labels, Shape

MAX_INPUT_MAGNITUDE = 1e15
"""The largest absolute input value plugnn trains on (10^15). A first layer's weight gradient sums
``|x|`` over a batch, and Adam and RMSprop square it: beyond ``sqrt(3.4e38)``, float32's largest
value, that square is infinite and training is meaningless (the quickstart network on digits scaled
by 1e15 reached 0.918 test accuracy, by 1e20 0.902, by 1e30 0.078, chance, without a word). 10^15
leaves room for batches of 10^4 samples; see docs/reliability.md."""

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
"""Frames from files under it are plugnn's own: warnings skip them to name the caller's line."""


def check_features(x: Any, sample_shape: Shape | int, dtype: np.dtype, name: str = "X") -> Array:
    """``x`` as a finite ``(N, *sample_shape)`` array of ``dtype`` (a copy only when the dtype differs).

    An int ``D`` stands for ``(D,)``. For flat samples ``(D,)``, samples of any shape holding ``D``
    values are accepted and flattened in C order (a view when ``x`` is contiguous): that is how
    images were fed to networks of plugnn 0.1, whose model files keep working on image datasets.
    Any other mismatch names the expected and got per-sample shapes and, when only the layout
    differs, says how to reshape.
    """
    shape = (sample_shape,) if isinstance(sample_shape, (int, np.integer)) else tuple(sample_shape)
    try:
        array = np.asarray(x)
    except ValueError as exc:  # ragged nested sequences
        raise DataError(f"{name}: not a rectangular array ({str(exc).split(';')[0]})") from None
    if np.iscomplexobj(array):
        raise DataError(f"{name}: complex values (dtype {array.dtype}); plugnn trains on real numbers only")
    if len(shape) == 1 and array.ndim > 2 and math.prod(array.shape[1:]) == shape[0]:
        array = array.reshape(len(array), shape[0])
    if array.ndim < 2 and len(shape) == 1:
        raise DataError(f"{name}: expected a 2-D array (samples, features), got shape {array.shape}")
    if array.ndim < 1 or array.shape[0] == 0:
        raise DataError(f"{name}: no samples (shape {array.shape})")
    got = array.shape[1:]
    if got != shape:
        if len(shape) == 1 and len(got) == 1:
            raise DataError(
                f"{name}: the network expects {shape[0]} features per sample, got {got[0]} "
                f"(shape {array.shape}); build the network for this data's width"
            )
        hint = (
            f"reshape it: {name.split()[-1]}.reshape(-1, {', '.join(map(str, shape))})"
            if math.prod(got) == math.prod(shape)
            else "build the network for this data's sample shape"
        )
        raise DataError(
            f"{name}: the network expects samples of shape {shape}, got {got} (array shape {array.shape}); {hint}"
        )
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise DataError(f"{name}: expected numbers, got dtype {array.dtype}")
    largest = max(-float(array.min()), float(array.max()))  # NaN compares False; before float32 rounds 1e300 to inf
    if largest > MAX_INPUT_MAGNITUDE and math.isfinite(largest):
        var = name.split()[-1]
        raise DataError(
            f"{name}: values up to {largest:.3g} (first at {_where(array, np.abs(array) > MAX_INPUT_MAGNITUDE)}) are "
            f"beyond {MAX_INPUT_MAGNITUDE:.0e} (plugnn.checks.MAX_INPUT_MAGNITUDE), where float32 training is "
            f"meaningless; scale the features first, e.g. ({var} - {var}.mean(0)) / {var}.std(0)"
        )
    if looks_like_pixels(array):
        low, high = array.min(), array.max()
        divisor = "255.0 for 8-bit pixels" if high <= 255 else "65535.0 for 16-bit pixels"
        warn_at_caller(
            f"{name} looks like unscaled pixels (integer values in [{low:g}, {high:g}], dtype {array.dtype}); "
            f"if they are, scale them to [0, 1] first: X / {divisor}, or sklearn's MinMaxScaler"
        )
    array = converted(array, dtype, name)
    if not (np.isfinite(array.min()) and np.isfinite(array.max())):  # NaN and ±Inf surface here, no copy
        raise DataError(f"{name}: holds NaN or Inf (first at {_where(array, ~np.isfinite(array))})")
    return array


def _where(array: np.ndarray, mask: np.ndarray) -> str:
    """``row 5, column 2`` (or ``position (3, 4)`` in a sample of several dimensions): the first True of ``mask``."""
    bad = [int(i) for i in np.argwhere(mask)[0]]
    return f"row {bad[0]}, " + (f"column {bad[1]}" if array.ndim == 2 else f"position {tuple(bad[1:])}")


def looks_like_pixels(array: np.ndarray) -> bool:
    """Whether ``array`` is plausibly unscaled pixels: non-negative whole numbers reaching 2 or more.

    Scaled data (pixels in [0, 1], standardised or MinMax-scaled features, whose held-out folds may
    overshoot 1) holds fractions; the whole-number test stops at the first block that does, so it
    costs little on such data.
    """
    if array.size == 0 or array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number):
        return False
    if not (array.min() >= 0 and array.max() >= 2):  # False for NaN too
        return False
    if np.issubdtype(array.dtype, np.integer):
        return True
    rows = array.reshape(len(array), -1)
    step = max(1, (1 << 16) // max(1, rows.shape[1]))  # about 64 K values a block
    blocks = (rows[start : start + step] for start in range(0, len(rows), step))
    return all(np.array_equal(block, np.rint(block)) for block in blocks)


def warn_at_caller(message: str) -> None:
    """A ``UserWarning`` attributed to the first frame outside plugnn: the user's line, not plugnn's."""
    frame: FrameType | None = sys._getframe(1)
    level = 2
    while frame is not None and frame.f_code.co_filename.startswith(PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level)


def check_targets(
    y: Any, n_samples: int, targets: str, output_shape: Shape, dtype: np.dtype, name: str = "y"
) -> np.ndarray:
    """``y`` checked for a network whose loss takes ``targets`` (``"labels"`` or ``"values"``, see
    :class:`plugnn.LossSpec`): :func:`check_labels` or :func:`check_values`."""
    if targets == "labels":
        return check_labels(y, n_samples, output_shape[0], name)
    return check_values(y, n_samples, output_shape, dtype, name)


def check_values(y: Any, n_samples: int, output_shape: Shape, dtype: np.dtype, name: str = "y") -> Array:
    """``y`` as finite real targets ``(N, *output_shape)`` of ``dtype``; ``(N,)`` is taken for ``(N, 1)``."""
    values = np.asarray(y)
    if not (np.issubdtype(values.dtype, np.number) or values.dtype == np.bool_):
        raise DataError(f"{name}: expected real-valued targets, got dtype {values.dtype}")
    if values.ndim == 0:
        raise DataError(f"{name}: expected an array of targets, got the scalar {values.item()!r}")
    if values.ndim == 1 and tuple(output_shape) == (1,):
        values = values[:, None]
    if len(values) != n_samples:
        raise DataError(f"{name}: {len(values)} targets for {n_samples} samples; they must match one to one")
    if values.shape[1:] != tuple(output_shape):
        raise DataError(
            f"{name}: the network has {output_shape} outputs per sample, got targets of shape {values.shape}; "
            "give the last layer as many units as targets per sample"
        )
    values = converted(values, dtype, name)
    finite = np.isfinite(values)
    if not finite.all():
        bad = np.argwhere(~finite)[0]
        raise DataError(f"{name}: holds NaN or Inf (first at row {bad[0]}); regression targets must be finite")
    return values


def check_labels(y: Any, n_samples: int, n_classes: int, name: str = "y") -> Labels:
    """``y`` as an ``(N,)`` integer array with every label in ``[0, n_classes)``."""
    try:
        labels = np.asarray(y)
    except ValueError as exc:
        raise DataError(f"{name}: not a 1-D array of class indices ({str(exc).split(';')[0]})") from None
    if labels.ndim != 1:
        raise DataError(f"{name}: expected a 1-D array of class indices, got shape {labels.shape}")
    if len(labels) != n_samples:
        raise DataError(f"{name}: {len(labels)} labels for {n_samples} samples; they must match one to one")
    if not np.issubdtype(labels.dtype, np.integer):
        if np.issubdtype(labels.dtype, np.floating) and np.all(np.mod(labels, 1) == 0):
            labels = labels.astype(np.intp)
        else:
            raise DataError(
                f"{name}: expected integer class indices, got dtype {labels.dtype} (e.g. {labels[0].item()!r}); "
                "for real-valued targets (regression) use a loss such as mse"
            )
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= n_classes:
        raise DataError(
            f"{name}: labels must lie in [0, {n_classes}) for a network with {n_classes} outputs, "
            f"got values in [{low}, {high}]"
        )
    return labels.astype(np.intp, copy=False)
