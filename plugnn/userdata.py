r"""A user's own data: arrays from an ``.npz`` file or a CSV table, checked, as a :class:`DataSplit`.

Both readers check before they allocate (the file is a regular file of a bounded size, the arrays'
headers match what they store, everything fits in memory), never unpickle, and refuse bad content
with one line naming the file and where: a missing array or column, ragged rows, text that is not
UTF-8 or not a number, NaN or Inf, mismatched lengths or sample shapes.

Features become float32 ``(N, D)`` rows, or channels-last images: ``(N, H, W)`` arrays gain a
channel axis, ``(N, H, W, C)`` stay; ``scale`` divides them (255 for 8-bit pixels). Targets that are
integers or text are class labels: the classes are their sorted distinct values (numbers in numeric
order) and each label becomes its class's index. Targets that are real numbers (a float array, or
a column with fractions) are regression targets, float32. A single ``(x, y)`` pair is split into
train and test parts with ``test_size`` and ``seed``, stratified by class, as scikit-learn's
``train_test_split`` does.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import os
import re
from pathlib import Path

import numpy as np

from plugnn.data import DataSplit
from plugnn.errors import DataError
from plugnn.memory import ensure_fits
from plugnn.npzfile import read_arrays
from plugnn.readers import UnreadableFileError, decode_utf8, open_regular

SPLIT_ARRAYS = ("x_train", "y_train", "x_test", "y_test")
PAIR_ARRAYS = ("x", "y")
MAX_CSV_BYTES = 1 << 30
"""The largest CSV file plugnn reads (1 GiB of text, about 100 million numbers)."""


def read_npz_data(path: Path, *, test_size: float, seed: int, scale: float) -> DataSplit:
    """An ``.npz`` file's ``x_train, y_train, x_test, y_test`` (and optionally ``x_val, y_val``), or ``x, y`` split."""
    arrays = read_arrays(path, DataError)
    names = sorted(arrays)
    if all(name in arrays for name in SPLIT_ARRAYS):
        parts = {name: arrays[name] for name in (*SPLIT_ARRAYS, "x_val", "y_val") if name in arrays}
    elif all(name in arrays for name in PAIR_ARRAYS):
        parts = _split(arrays["x"], arrays["y"], test_size, seed, f"{path}: x, y")
    else:
        raise DataError(
            f"{path}: holds arrays {', '.join(names) or 'none'}; expected x_train, y_train, x_test, y_test "
            "(and optionally x_val, y_val), or one pair x, y to split"
        )
    return _data_split(parts, scale, str(path))


def read_csv_data(path: Path, *, label: str, test_size: float, seed: int, scale: float) -> DataSplit:
    """A CSV table with a header row: the column named ``label`` holds the targets, every other one a feature."""
    text = _read_csv_text(path)
    header_line = text.split("\n", 1)[0].rstrip("\r")
    header = next(csv.reader([header_line]), [])
    if not header_line.strip() or not header:
        raise DataError(f"{path}: empty; expected a header row naming the columns, then one row per sample")
    if label not in header:
        close = difflib.get_close_matches(label, header, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise DataError(f"{path}: no column {label!r}; {hint}columns: {', '.join(header)}")
    if len(header) < 2:
        raise DataError(f"{path}: the label column {label!r} is its only column; there are no features")
    if not text.partition("\n")[2].strip():
        raise DataError(f"{path}: a header but no rows; expected one row per sample")
    where = header.index(label)
    codes: dict[str, int] = {}
    try:
        table = np.loadtxt(
            io.StringIO(text),
            delimiter=",",
            skiprows=1,
            dtype=np.float64,
            quotechar='"',
            ndmin=2,
            converters={where: lambda field: codes.setdefault(field.strip(), len(codes))},
        )
    except ValueError as exc:  # numpy counts rows after the header: from 0 in conversions, from 1 otherwise
        message = str(exc).split(";")[0].rstrip(".")
        first = 2 if message.startswith("could not convert") else 1
        message = re.sub(r"at row (\d+)", lambda m: f"on line {int(m[1]) + first}", message)
        raise DataError(f"{path}: {message}") from None
    features = np.delete(table, where, axis=1)
    targets = _column_targets(table[:, where].astype(np.intp), list(codes))
    return _data_split(_split(features, targets, test_size, seed, str(path)), scale, str(path))


def _read_csv_text(path: Path) -> str:
    try:
        handle = open_regular(path)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except UnreadableFileError as exc:
        raise DataError(str(exc)) from None
    with os.fdopen(handle, "rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > MAX_CSV_BYTES:
            raise DataError(f"{path}: {size} bytes, more than the {MAX_CSV_BYTES} plugnn reads from a CSV file")
        ensure_fits(4 * size, f"{path}: reading {size} bytes of CSV")  # the text, its parse and float32 copies
        data = stream.read(MAX_CSV_BYTES + 1)
    try:
        return decode_utf8(data, str(path)).removeprefix("\ufeff")
    except UnreadableFileError as exc:
        raise DataError(str(exc)) from None


def _column_targets(codes: np.ndarray, values: list[str]) -> np.ndarray:
    """A label column's codes (index into ``values``, in order of appearance) as targets.

    Whole numbers and text are classes; real numbers with fractions are regression targets.
    """
    try:
        numbers = np.array([float(v) for v in values])  # one per distinct value, not per row
    except ValueError:
        distinct = np.array(values)  # text labels: classes in sorted order, below
    else:
        whole = np.all(np.isfinite(numbers)) and np.all(numbers == np.rint(numbers))
        distinct = numbers.astype(np.int64) if whole else numbers
    targets: np.ndarray = distinct[codes]
    return targets


def _split(x: np.ndarray, y: np.ndarray, test_size: float, seed: int, source: str) -> dict[str, np.ndarray]:
    """One ``(x, y)`` pair as train and test parts, stratified by class when ``y`` holds labels."""
    from sklearn.model_selection import train_test_split  # imported here: building a registry stays light

    _check_numbers(x, f"{source.removesuffix(': x, y')}: x")
    if len(x) != len(y):
        raise DataError(f"{source}: {len(x)} samples but {len(y)} targets; they must match one to one")
    if len(x) < 2:
        raise DataError(f"{source}: {len(x)} sample(s); a train/test split needs at least 2")
    labels = y.ndim == 1 and y.dtype.kind in "iubU"
    try:
        x_train, x_test, y_train, y_test = train_test_split(
            x, y, test_size=test_size, random_state=seed, stratify=y if labels else None
        )
    except ValueError as exc:
        raise DataError(f"{source}: cannot split with test_size {test_size:g}: {exc}") from None
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _data_split(parts: dict[str, np.ndarray], scale: float, source: str) -> DataSplit:
    """Checked parts as a :class:`DataSplit`: float32 samples of one shape, labels as class indices."""
    splits = [s for s in ("train", "val", "test") if f"x_{s}" in parts]
    xs = {s: _features(parts[f"x_{s}"], scale, f"{source}: x_{s}") for s in splits}
    ys = {s: np.asarray(parts[f"y_{s}"]) for s in splits}
    for s in splits:
        if len(xs[s]) != len(ys[s]):
            raise DataError(f"{source}: x_{s} has {len(xs[s])} samples but y_{s} {len(ys[s])} targets")
        if xs[s].shape[1:] != xs["train"].shape[1:]:
            raise DataError(
                f"{source}: x_{s}'s samples are {xs[s].shape[1:]} but x_train's {xs['train'].shape[1:]}; "
                "every split needs one sample shape"
            )
    kinds = {ys[s].dtype.kind for s in splits}
    targets: dict[str, np.ndarray] = {}  # class indices (int64), or float32 regression targets
    if any(y.ndim != 1 for y in ys.values()) or not (kinds <= set("iub") or kinds <= {"U"} or kinds <= {"f"}):
        shapes = ", ".join(f"y_{s} {ys[s].shape} {ys[s].dtype}" for s in splits)
        raise DataError(
            f"{source}: targets must be 1-D integer or text class labels, or real numbers (regression), got {shapes}"
        )
    if kinds == {"f"}:
        for s in splits:
            if not np.all(np.isfinite(ys[s])):
                raise DataError(f"{source}: y_{s} holds NaN or Inf (first at row {int(np.argmin(np.isfinite(ys[s])))})")
        targets |= {s: ys[s].astype(np.float32) for s in splits}
        classes: tuple[str, ...] = ()
    else:
        values = np.unique(np.concatenate([ys[s] for s in splits]))
        targets |= {s: np.searchsorted(values, ys[s]).astype(np.int64) for s in splits}
        classes = tuple(str(v) for v in values)
    return DataSplit(
        xs["train"],
        targets["train"],
        xs["test"],
        targets["test"],
        classes,
        xs.get("val"),
        targets.get("val"),
    )


def _check_numbers(x: np.ndarray, source: str) -> None:
    if x.dtype.kind not in "fiub":
        raise DataError(f"{source}: expected numbers, got dtype {x.dtype}")


def _features(x: np.ndarray, scale: float, source: str) -> np.ndarray:
    """``x`` as finite float32 samples ``(N, D)`` or ``(N, H, W, C)``, divided by ``scale``."""
    _check_numbers(x, source)
    if x.ndim == 3:
        x = x[..., None]  # grey-scale images (N, H, W) -> (N, H, W, 1)
    if x.ndim not in (2, 4) or len(x) == 0 or math.prod(x.shape[1:]) == 0:
        raise DataError(f"{source}: expected (N, D) features or (N, H, W[, C]) images with N >= 1, got shape {x.shape}")
    samples = x.astype(np.float32)
    if scale != 1:
        samples /= np.float32(scale)
    finite = np.isfinite(samples)
    if not finite.all():
        bad = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise DataError(f"{source}: holds NaN or Inf (first at row {bad[0]}, position {bad[1:]})")
    return samples
