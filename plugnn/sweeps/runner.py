"""``plugnn.sweep``: run every trial of a sweep in its own run folder and tabulate the results.

A sweep folder holds ``sweep.json`` (what the sweep is: its declaration and the recipe's resolved
spec), one ordinary run folder per trial (``trial-000``, ``trial-001``, ...), and, once the trials
are done, ``results.csv``, ``results.json`` and ``results.png``. Everything is checked before any
trial starts: the declaration, every trial's spec, the folder (another sweep's is refused), and the
backend (an unreachable scheduler is an error within its timeout). Rerunning the same sweep into
the same folder skips finished trials and resumes interrupted ones from their checkpoints.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

import attrs

from plugnn.atomicfile import write_text
from plugnn.plugins import default_registry
from plugnn.readers import UnreadableFileError, parse, read_text, refuse_unknown
from plugnn.registry import Registry
from plugnn.run import load_recipe
from plugnn.runfolder import LOCK_NAME, SWEEP_FILE, locked, refuse_nesting
from plugnn.serialize import unstructure
from plugnn.sweeps.backends import BACKENDS, Dask, Local
from plugnn.sweeps.optuna_search import OptunaSearch
from plugnn.sweeps.results import best_row, metric_value, plot_results, trial_row, write_results
from plugnn.sweeps.spec import SweepError, SweepSpec, Trial, expand, is_sweep_file, load_sweep_file
from plugnn.threads import available_cores, resolve_threads

RESULT_FILES = ("results.csv", "results.json", "results.png")


@attrs.frozen
class SweepResult:
    """What :func:`sweep` returns: the sweep folder, a row per trial (see :mod:`plugnn.sweeps.results`), the best."""

    out: Path
    rows: list[dict[str, Any]]
    best: dict[str, Any] | None
    metric: str
    swept: list[str]
    sense: str = "max"


def sweep(
    target: str | Path | SweepSpec = "quickstart",
    *,
    grid: Mapping[str, Any] | None = None,
    random: Mapping[str, Any] | None = None,
    samples: int | None = None,
    seeds: int | list[int] | None = None,
    overrides: Mapping[str, Any] | None = None,
    metric: str | None = None,
    sense: str | None = None,
    search: str | None = None,
    trials: int | None = None,
    workers: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    timeout: float = 10.0,
    threads: int | None = None,
    out: str | Path | None = None,
    quiet: bool = False,
    stream: TextIO | None = None,
    registry: Registry | None = None,
) -> SweepResult:
    """Run a sweep over ``target`` (a recipe, a spec file, a sweep file or a :class:`SweepSpec`).

    ``grid`` maps paths to value lists, ``random`` paths to distributions (with ``samples`` draws
    per grid point), ``seeds`` is a count or a list; they extend a sweep file's. ``overrides`` are
    set for every trial. Trials are ranked on their final ``metric``, any column of their history
    (``val_accuracy``, ``val_loss``, ``test_accuracy``, ...), by ``sense`` (``"max"`` or ``"min"``;
    by default accuracies and r2 are maximised, the rest minimised). ``workers`` trials run at once
    on ``backend`` (``"local"`` or ``"dask"``; ``scheduler`` is an existing Dask cluster's address,
    reached within ``timeout`` seconds), sharing the thread budget ``threads`` (see
    :mod:`plugnn.threads`). ``out`` defaults to ``sweeps/<recipe>-<timestamp>``. Progress goes to
    ``stream`` (stderr) unless ``quiet``.
    """
    registry = registry or default_registry()
    spec = _declare(target, grid, random, samples, seeds, overrides, metric, sense, search, trials)
    if backend not in BACKENDS:
        raise SweepError(f"sweep backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise SweepError(f"sweep workers: expected a positive integer, got {workers!r}")
    if scheduler is not None and backend != "dask":
        raise SweepError("sweep scheduler: a scheduler address needs the dask backend (--backend dask)")
    name, base = load_recipe(spec.recipe, registry)
    optuna = OptunaSearch(spec) if spec.search == "optuna" else None
    planned = expand(spec, base, registry, optuna.ask(1) if optuna is not None else None)  # all checked now
    total = spec.n_trials if optuna is not None else len(planned)
    declaration = json.loads(json.dumps({"sweep": spec.to_dict(), "base": unstructure(base, registry)}))
    folder = Path(out) if out is not None else Path("sweeps") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    _check_folder(folder, declaration)
    refuse_nesting(folder, "sweep")
    stream = stream or sys.stderr
    if scheduler is None:  # processes of this machine: no more than the trials, nor than its cores
        usable = min(total, available_cores())
        if workers > usable:
            print(
                f"plugnn sweep: {workers} workers capped at {usable} ({total} trials, {available_cores()} cores)",
                file=stream,
            )
            workers = usable
    if backend == "local":
        runner: Local | Dask = Local(workers, resolve_threads(threads))
    else:
        budget = threads if scheduler is not None else resolve_threads(threads)
        runner = Dask(workers, scheduler, timeout, budget)
    by_name: dict[str, Trial] = {}
    rows: dict[str, dict[str, Any]] = {}
    with runner.connected():
        folder.mkdir(parents=True, exist_ok=True)
        with locked(folder):
            if not (folder / SWEEP_FILE).is_file():
                write_text(folder / SWEEP_FILE, json.dumps(declaration, indent=2) + "\n")

            def report(outcome: dict[str, Any]) -> None:
                row = trial_row(by_name[outcome["name"]], outcome, spec.metric, spec.ranking)
                rows[row["trial"]] = row
                if not quiet:
                    print(f"[{len(rows)}/{total}] {_progress(by_name[row['trial']], row, spec.metric)}", file=stream)

            def note(message: str) -> None:
                print(f"plugnn sweep: {message}", file=stream)

            def run(batch: list[tuple[Trial, dict[str, Any]]]) -> None:
                by_name.update((trial.name, trial) for trial, _ in batch)
                tasks = [{"name": t.name, "folder": str(folder / t.name), "spec": d, "threads": None} for t, d in batch]
                runner.run(tasks, report, note)

            if optuna is None:
                run(planned)
            while optuna is not None and len(rows) < total:  # a round of trials, then their results
                batch = planned + expand(
                    spec, base, registry, optuna.ask(min(workers, total - len(rows)) - len(planned))
                )
                planned = []
                run(batch)
                for trial, _ in batch:
                    optuna.tell(trial.name, metric_value(rows[trial.name], spec.metric))
            ordered = [rows[name] for name in by_name]
            write_results(folder, ordered)
            runner.call(plot_results, ordered, spec.swept, spec.metric, folder / "results.png")
    best = best_row(ordered, spec.metric, spec.ranking)
    return SweepResult(folder, ordered, best, spec.metric, spec.swept, spec.ranking)


def _declare(
    target: str | Path | SweepSpec,
    grid: Mapping[str, Any] | None,
    random: Mapping[str, Any] | None,
    samples: int | None,
    seeds: int | list[int] | None,
    overrides: Mapping[str, Any] | None,
    metric: str | None,
    sense: str | None,
    search: str | None,
    trials: int | None,
) -> SweepSpec:
    """The sweep ``target`` declares (or a bare recipe's), extended by the call's settings."""
    if isinstance(target, SweepSpec):
        spec = target
    elif is_sweep_file(target):
        spec = load_sweep_file(target)
    else:
        spec = SweepSpec(recipe=str(target))
    data = spec.to_dict()
    data["grid"] |= {path: list(values) for path, values in (grid or {}).items()}
    data["random"] |= dict(random or {})
    data["set"] |= dict(overrides or {})
    settings = (("samples", samples), ("seeds", seeds), ("metric", metric), ("sense", sense), ("search", search))
    for key, value in (*settings, ("trials", trials)):
        if value is not None:
            data[key] = value
    return SweepSpec.from_dict(data)


def _check_folder(folder: Path, declaration: dict[str, Any]) -> None:
    """Refuse a folder that holds anything but this very sweep (which is then resumed)."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise SweepError(f"{folder} exists and is not a folder; choose another --out")
    entries = [entry.name for entry in folder.iterdir() if entry.name != LOCK_NAME]
    if not entries:
        return
    if SWEEP_FILE not in entries:
        raise SweepError(f"{folder} is not empty and holds no sweep; choose another --out")
    path = folder / SWEEP_FILE
    try:
        saved = parse(read_text(path), "json", str(path))
        if not (isinstance(saved, dict) and isinstance(saved.get("sweep"), dict)):
            raise UnreadableFileError(str(path), "not a plugnn sweep record (a table of 'sweep' and 'base')")
        refuse_unknown(str(path), saved, declaration)
        refuse_unknown(f"{path}: sweep", saved["sweep"], declaration["sweep"])
    except OSError as exc:
        raise SweepError(f"{path}: unreadable ({exc}); choose another --out") from None
    except UnreadableFileError as exc:
        raise SweepError(f"{exc}; choose another --out") from None
    if saved != declaration:
        differs = [key for key in declaration["sweep"] if saved.get("sweep", {}).get(key) != declaration["sweep"][key]]
        what = f"its {', '.join(differs)} differ" if differs else "its recipe's spec differs"
        raise SweepError(
            f"{folder} holds another sweep ({what}); choose another --out, or repeat that sweep's command to resume it"
        )


def _progress(trial: Trial, row: dict[str, Any], metric: str) -> str:
    fields = " ".join(f"{path}={value}" for path, value in trial.fields.items())
    where = f"{trial.name} {fields} seed={trial.seed}".replace("  ", " ")
    if row["status"] == "failed":
        return f"{where}: failed: {row['error']}"
    retried = ", retried after its worker died" if row["retried"] else ""
    return f"{where}: {metric} {metric_value(row, metric):.4f} ({row['status']}{retried}, {row['wall_seconds']:.1f} s)"


def describe_best(result: SweepResult) -> str:
    """One line naming the best trial, its fields and metric, and where the table is."""
    if result.best is None:
        return f"no trial finished; see {result.out / 'results.csv'}"
    best = result.best
    fields = "".join(f"{path}={best[path]}, " for path in result.swept)
    return (
        f"best: {best['trial']} ({fields}seed={best['seed']}): {result.metric} "
        f"{metric_value(best, result.metric):.4f}; folder {result.out / best['folder']}; "
        f"results in {result.out / 'results.csv'}"
    )
