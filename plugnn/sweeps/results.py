"""A sweep's results: one row per trial, the best trial, and the metric against each swept field.

Rows hold the trial, its seed, each swept path's value (a column named by the path), how the trial
went (``ran``, ``resumed``, ``done`` from an earlier run, ``failed``), the final value of every
metric its history records, the best value of the ranking metric and its epoch, and its seconds.
``results.csv`` and ``results.json`` hold the same rows; ``results.png`` plots the ranking metric
against each swept field (one point per trial, the mean over seeds joined by a line).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from plugnn.atomicfile import atomic_writer, write_text
from plugnn.sweeps.spec import Trial

NOT_METRICS = ("epoch", "seconds")
"""History columns that are not metrics: every other column's final value is a results column."""


def trial_row(trial: Trial, outcome: dict[str, Any], metric: str, sense: str) -> dict[str, Any]:
    """The results row of ``trial`` from its worker's ``outcome`` (see :func:`plugnn.sweeps.trial.run_trial`).

    ``final_<column>`` for every metric column of the trial's history (``final_loss``,
    ``final_val_accuracy``, ``final_test_loss``, ...), ``best_<metric>`` and ``best_epoch`` for the
    ranking ``metric`` (its highest value for ``sense`` ``"max"``, lowest for ``"min"``; the first
    epoch that reached it), and the seconds. A failed trial's metrics are NaN.
    """
    row: dict[str, Any] = {"trial": trial.name, "seed": trial.seed, **trial.fields}
    history = outcome.get("history")
    row["status"] = outcome["status"]
    row["retried"] = bool(outcome.get("retried", False))
    if history:
        columns = {k: [math.nan if v is None else v for v in vs] for k, vs in history.items() if k not in NOT_METRICS}
        row |= {f"final_{column}": values[-1] for column, values in columns.items()}
        sign = 1.0 if sense == "max" else -1.0
        values = columns.get(metric, [math.nan])
        best = max(range(len(values)), key=lambda i: (sign * values[i] if math.isfinite(values[i]) else -math.inf, -i))
        row |= {f"best_{metric}": values[best], "best_epoch": history["epoch"][best] if metric in columns else None}
        row["train_seconds"] = sum(history["seconds"])
    else:
        row |= {f"final_{metric}": math.nan, f"best_{metric}": math.nan, "best_epoch": None, "train_seconds": math.nan}
    row["wall_seconds"] = outcome.get("wall_seconds", math.nan)
    row["threads"] = outcome.get("threads")
    row["folder"] = trial.name
    row["error"] = outcome.get("error", "")
    return row


def metric_value(row: dict[str, Any], metric: str) -> float:
    """The trial's final value of the history column ``metric`` (NaN when it failed)."""
    return float(row.get(f"final_{metric}", math.nan))


def best_row(rows: Sequence[dict[str, Any]], metric: str, sense: str) -> dict[str, Any] | None:
    """The trial with the highest (``sense`` ``"max"``) or lowest final ``metric``; None when every trial failed."""
    sign = 1.0 if sense == "max" else -1.0
    scored = [row for row in rows if math.isfinite(metric_value(row, metric))]
    return max(scored, key=lambda row: sign * metric_value(row, metric)) if scored else None


def log_axis(field: str, values: Sequence[Any]) -> bool:
    """Whether a swept field is drawn on a log axis: a rate (a path ending in ``lr``), or positive
    numbers spanning two decades or more."""
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numbers) < len(values) or not numbers or min(numbers) <= 0:
        return False
    return field.rsplit(".", 1)[-1] == "lr" or max(numbers) / min(numbers) >= 100


def write_results(folder: Path, rows: Sequence[dict[str, Any]]) -> None:
    """``results.csv`` (a row per trial) and ``results.json`` (a list of rows), written atomically."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(folder / "results.csv", text.getvalue())
    plain = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()} for row in rows]
    write_text(folder / "results.json", json.dumps(plain, indent=2) + "\n")


def plot_results(rows: Sequence[dict[str, Any]], swept: Sequence[str], metric: str, path: Path) -> None:
    """``metric`` against each swept field: a panel per field, a point per trial, the seed mean as a line."""
    from matplotlib.figure import Figure

    panels = list(swept) or ["seed"]
    fig = Figure(figsize=(4.2 * len(panels), 3.6), dpi=100)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    scored = [row for row in rows if math.isfinite(metric_value(row, metric))]
    for axis, field in zip(axes, panels, strict=True):
        values = [row[field] for row in scored]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        labels = sorted({json.dumps(v, sort_keys=True) for v in values}) if not numeric else []
        xs = [v if numeric else labels.index(json.dumps(v, sort_keys=True)) for v in values]
        ys = [metric_value(row, metric) for row in scored]
        axis.scatter(xs, ys, s=18, alpha=0.7)
        means: dict[Any, list[float]] = {}
        for x, y in zip(xs, ys, strict=True):
            means.setdefault(x, []).append(y)
        line = sorted((x, sum(v) / len(v)) for x, v in means.items())
        axis.plot([x for x, _ in line], [y for _, y in line], color="tab:orange", lw=1.2)
        if log_axis(field, xs if numeric else values):
            axis.set_xscale("log")
        if not numeric:
            axis.set_xticks(range(len(labels)), labels, rotation=20, fontsize=8)
        axis.set(xlabel=field, ylabel=metric.replace("_", " "))
        axis.grid(alpha=0.3)
    fig.suptitle(f"final {metric.replace('_', ' ')} per trial ({len(scored)} of {len(rows)} trials)")
    fig.tight_layout()
    with atomic_writer(path) as stream:
        fig.savefig(stream, format="png")
