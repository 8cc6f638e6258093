"""What a run leaves in its folder once trained: history files, the model and the plots.

Every file goes through :mod:`plugnn.atomicfile` (written whole or not at all, never through a
link). A run is finished only when all of :func:`expected_outputs` exist; ``plugnn run --resume``
of a run killed while writing them writes them again from the final checkpoint.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from plugnn.atomicfile import write_text
from plugnn.data import DataSplit
from plugnn.history import History
from plugnn.model_io import save_model
from plugnn.network import Network
from plugnn.plots import plot_confusion, plot_curves, plot_samples
from plugnn.registry import Registry
from plugnn.scoring import score
from plugnn.specs import RunSpec

OUTPUT_FILES = (
    "spec.toml",
    "history.json",
    "history.csv",
    "model.npz",
    "curves.png",
    "samples.png",
    "confusion.png",
    "checkpoint.npz",
)
"""Every file a run folder can hold (``samples.png`` only for image data)."""


def expected_outputs(split: DataSplit, targets: str = "labels") -> tuple[str, ...]:
    """The files a finished run on ``split`` holds; a regressor (``targets`` = ``"values"``) draws
    neither sample predictions nor a confusion matrix."""
    skip = {"samples.png"} if split.image_shape is None else set()
    if targets != "labels":
        skip |= {"samples.png", "confusion.png"}
    return tuple(name for name in OUTPUT_FILES if name not in skip)


def missing_outputs(folder: Path, split: DataSplit, targets: str = "labels") -> list[str]:
    """The expected files that ``folder`` lacks (none once the run is finished)."""
    return [name for name in expected_outputs(split, targets) if not (folder / name).is_file()]


def write_history(history: History, folder: Path) -> None:
    """``history.json`` (columns) and ``history.csv`` (a row per epoch)."""
    columns = history.to_dict()
    write_text(folder / "history.json", json.dumps(columns, indent=2) + "\n")
    rows = io.StringIO(newline="")
    writer = csv.writer(rows)
    writer.writerow(columns)
    writer.writerows(zip(*columns.values(), strict=True))
    write_text(folder / "history.csv", rows.getvalue())


def write_outputs(
    folder: Path, title: str, spec: RunSpec, split: DataSplit, network: Network, history: History, registry: Registry
) -> dict[str, float]:
    """Write the history, the model and the plots of a trained run; returns its test scores (:func:`plugnn.score`)."""
    scores = score(network, split.x_test, split.y_test)
    write_history(history, folder)
    save_model(folder / "model.npz", network, spec, registry)
    plot_curves(history, folder / "curves.png", title=title)
    if network.targets == "labels":
        predicted = network.predict(split.x_test)
        if split.image_shape is not None:
            plot_samples(
                split.x_test, split.y_test, predicted, split.image_shape, split.classes, folder / "samples.png"
            )
        plot_confusion(split.y_test, predicted, split.classes, folder / "confusion.png")
    return scores
