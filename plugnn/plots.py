"""The pictures a run leaves: learning curves, sample predictions and a confusion matrix.

matplotlib is imported inside each function, so importing plugnn or starting the CLI stays fast.
Figures are built with matplotlib's object API (``Figure``, never pyplot's global figure manager),
and one lock serialises the drawing: matplotlib is not thread-safe (its mathtext parser fails when two
threads format log-scale tick labels at once), so runs in parallel threads take turns to draw.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ParamSpec

import numpy as np

from plugnn.atomicfile import atomic_writer
from plugnn.history import History

_P = ParamSpec("_P")


def _save(fig: Any, path: Path) -> None:
    """``fig`` as a PNG at ``path``, written atomically (see :mod:`plugnn.atomicfile`)."""
    with atomic_writer(path) as stream:
        fig.savefig(stream, format="png")


def _name(classes: Sequence[str], label: int) -> str:
    """A class's name, or its index when the model predicts a class the data does not name."""
    return classes[label] if 0 <= label < len(classes) else str(label)


_DRAWING = threading.Lock()


def _drawing(function: Callable[_P, None]) -> Callable[_P, None]:
    """Run ``function`` holding the drawing lock."""

    @functools.wraps(function)
    def locked(*args: _P.args, **kwargs: _P.kwargs) -> None:
        with _DRAWING:
            function(*args, **kwargs)

    return locked


def _figure(**options: Any) -> Any:
    """A new figure of its own (no pyplot state): ``figsize``, ``dpi``, ..."""
    from matplotlib.figure import Figure

    return Figure(**options)


SPLITS = {"train": "train", "val": "validation", "test": "test"}
"""Column prefix -> legend label; the training loss column is plain ``loss``."""


def curve_panels(columns: Sequence[str]) -> dict[str, dict[str, str]]:
    """Group history columns by metric: ``{"loss": {"train": "loss", "validation": "val_loss", ...}, ...}``."""
    panels: dict[str, dict[str, str]] = {"loss": {"train": "loss"}} if "loss" in columns else {}
    for column in columns:
        prefix, _, metric = column.partition("_")
        if prefix in SPLITS and metric:
            panels.setdefault(metric, {})[SPLITS[prefix]] = column
    return panels


@_drawing
def plot_curves(history: History, path: Path, title: str = "") -> None:
    """One panel per metric (loss, accuracy, ...), each with its train, validation and test curves."""
    epochs = history.column("epoch")
    panels = curve_panels(history.columns)
    fig = _figure(figsize=(5 * len(panels), 4), dpi=100)
    axes = fig.subplots(1, len(panels), squeeze=False)
    for axis, (metric, curves) in zip(axes.flat, panels.items(), strict=True):
        for label, column in curves.items():
            values = [np.nan if value is None else value for value in history.column(column)]
            axis.plot(epochs, values, marker="o", ms=3, label=label)
        axis.set(xlabel="epoch", ylabel=metric, title=metric.replace("_", " ").capitalize())
        if metric == "loss":
            axis.set_yscale("log")
        axis.legend()
        axis.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)


@_drawing
def plot_samples(
    images: np.ndarray,
    labels: np.ndarray,
    predicted: np.ndarray,
    image_shape: tuple[int, ...],
    classes: Sequence[str],
    path: Path,
    count: int = 32,
) -> None:
    """A grid of test images titled ``predicted (true)``, mistakes in red.

    Shows the first images in order, with up to a quarter of the grid given to the first mistakes
    so that some are always visible when there are any. Images of several channels are shown as
    their channel mean.
    """
    from matplotlib import colormaps

    count = min(count, len(images))
    mistakes = np.flatnonzero(predicted != labels)[: count // 4]
    shown = np.union1d(mistakes, np.setdiff1d(np.arange(count), mistakes)[: count - len(mistakes)])
    columns = 8
    rows = -(-count // columns)
    height, width = image_shape[:2]
    gap = height // 2 + 1  # room above each image for its caption
    # one mosaic drawn once: a single imshow is several times faster than a subplot per image
    tiles = np.full((rows * columns, height + gap, width + 1), np.nan, dtype=np.float32)
    tiles[:count, gap:, :width] = images[shown].reshape(count, height, width, -1).mean(axis=3)
    mosaic = tiles.reshape(rows, columns, height + gap, width + 1).transpose(0, 2, 1, 3)
    cmap = colormaps["gray_r"].with_extremes(bad="white")
    fig = _figure(figsize=(columns * 1.3, rows * 1.5), dpi=100)
    axis = fig.subplots()
    axis.imshow(mosaic.reshape(rows * (height + gap), columns * (width + 1)), cmap=cmap, interpolation="nearest")
    axis.axis("off")
    for index, row in enumerate(shown):
        wrong = predicted[row] != labels[row]
        top, left = divmod(index, columns)
        axis.text(
            left * (width + 1) + width / 2,
            top * (height + gap) + gap - 0.5,
            f"{_name(classes, predicted[row])}\n({_name(classes, labels[row])})",
            ha="center",
            va="bottom",
            fontsize=7,
            color="red" if wrong else "black",
            fontweight="bold" if wrong else "normal",
        )
    fig.suptitle("test samples: predicted (true); mistakes in red", fontsize=9)
    fig.tight_layout()
    _save(fig, path)


@_drawing
def plot_confusion(labels: np.ndarray, predicted: np.ndarray, classes: Sequence[str], path: Path) -> None:
    """The test-set confusion matrix (rows: true class, columns: predicted)."""
    from sklearn.metrics import ConfusionMatrixDisplay

    fig = _figure(figsize=(7, 6), dpi=100)
    axis = fig.subplots()
    ConfusionMatrixDisplay.from_predictions(
        labels,
        predicted,
        labels=np.arange(len(classes)),
        display_labels=list(classes),
        ax=axis,
        colorbar=False,
        xticks_rotation=45,
    )
    axis.set_title(f"test accuracy {np.mean(labels == predicted):.4f}")
    fig.tight_layout()
    _save(fig, path)
