"""What a sweep is: a base recipe, the fields it varies and the seeds, as plain, checkable data.

A sweep varies run-spec fields by their dotted paths (the paths of :mod:`plugnn.overrides`, e.g.
``network.optimizer.lr``, ``network.layers[0].units``, ``train.batch_size``):

- ``grid``: every combination of the listed values;
- ``random``: ``samples`` draws per grid point, each field from a distribution written as a
  one-key table: ``{uniform = [a, b]}``, ``{log_uniform = [a, b]}`` (a > 0), ``{int_uniform = [a, b]}``
  (both ends included) or ``{choice = [v1, v2, ...]}``, drawn from ``random_seed`` so a rerun
  draws the same values;
- ``seeds``: each configuration is trained once per seed (``train.seed``);
- ``overrides``: set for every trial (``--set``).

Trials are numbered grid point by grid point, then draw, then seed. :func:`expand` checks every
trial's spec before any is trained, so a wrong path, an empty grid or a value of the wrong type is
one clear error up front.
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from plugnn.builder import resolve
from plugnn.data import load_dataset
from plugnn.errors import PlugnnError, SpecError
from plugnn.metrics import HIGHER_IS_BETTER, metric_of
from plugnn.overrides import apply_overrides, parse_value
from plugnn.registry import Registry
from plugnn.serialize import unstructure
from plugnn.specfile import parse_file
from plugnn.specs import RunSpec
from plugnn.train import history_columns

DISTRIBUTIONS = ("uniform", "log_uniform", "int_uniform", "choice")
MAX_TRIALS = 100_000
"""The most trials one sweep may hold (grid points x draws x seeds), refused with the count before any
trial list is made: each trial is a run folder, and a hundred thousand of them is already days of work."""
SEARCHES = ("grid", "optuna")
"""How a sweep chooses its trials: the grid and random draws declared, or Optuna's TPE sampler."""
SENSES = ("max", "min")
"""How a sweep ranks trials on its metric: the highest final value is best, or the lowest."""


class SweepError(PlugnnError):
    """A sweep is declared wrongly, or its folder holds something else."""


@attrs.frozen
class Trial:
    """One run of a sweep: its folder name, the swept fields' values and its seed."""

    name: str
    fields: dict[str, Any]
    seed: int

    def overrides(self) -> dict[str, Any]:
        """The paths this trial sets on top of the sweep's own overrides."""
        return {**self.fields, "train.seed": self.seed}


def _too_many(count: int, what: str) -> SweepError:
    return SweepError(
        f"sweep: {what} make {count:,} trials, more than {MAX_TRIALS:,} (plugnn.sweeps.spec.MAX_TRIALS); "
        "sweep fewer values or seeds, or split it into several sweeps"
    )


def _seeds(value: Any) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise SweepError(f"sweep seeds: expected a count >= 1 or a list of seeds, got {value!r}")
        if value > MAX_TRIALS:
            raise _too_many(value, f"{value:,} seeds")
        return tuple(range(value))
    if (
        isinstance(value, (list, tuple))
        and value
        and all(isinstance(s, int) and not isinstance(s, bool) for s in value)
    ):
        if min(value) < 0 or len(set(value)) != len(value):
            raise SweepError(f"sweep seeds: expected distinct seeds >= 0, got {list(value)!r}")
        return tuple(value)
    raise SweepError(f"sweep seeds: expected a count >= 1 or a list of seeds, got {value!r}")


def _grid(value: Any) -> dict[str, tuple[Any, ...]]:
    if not isinstance(value, Mapping):
        raise SweepError(f"sweep grid: expected a table of path = [values], got {value!r}")
    grid = {}
    for path, values in value.items():
        if not isinstance(values, (list, tuple)):
            raise SweepError(f"sweep grid {path}: expected a list of values, got {values!r}")
        if not values:
            raise SweepError(f"sweep grid {path}: no values; give at least one, e.g. {path}=0.001,0.003")
        grid[str(path)] = tuple(values)
    return grid


def _check_distribution(path: str, value: Any) -> None:
    if not isinstance(value, Mapping) or len(value) != 1 or next(iter(value)) not in DISTRIBUTIONS:
        raise SweepError(
            f"sweep random {path}: expected one of {{uniform = [a, b]}}, {{log_uniform = [a, b]}}, "
            f"{{int_uniform = [a, b]}}, {{choice = [...]}}; got {value!r}"
        )
    ((kind, args),) = value.items()
    if kind == "choice":
        if not isinstance(args, (list, tuple)) or not args:
            raise SweepError(f"sweep random {path}: choice needs a non-empty list, got {args!r}")
        return
    numbers = isinstance(args, (list, tuple)) and len(args) == 2
    numbers = numbers and all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args)
    if not numbers or not args[0] < args[1] or not all(math.isfinite(a) for a in args):
        raise SweepError(f"sweep random {path}: {kind} needs [low, high] with low < high, got {args!r}")
    if kind == "log_uniform" and args[0] <= 0:
        raise SweepError(f"sweep random {path}: log_uniform needs low > 0, got {args!r}")
    if kind == "int_uniform" and not all(isinstance(a, int) for a in args):
        raise SweepError(f"sweep random {path}: int_uniform needs integer ends, got {args!r}")


def _draw(kind: str, args: Sequence[Any], rng: np.random.Generator) -> Any:
    if kind == "uniform":
        return float(rng.uniform(args[0], args[1]))
    if kind == "log_uniform":
        return float(math.exp(rng.uniform(math.log(args[0]), math.log(args[1]))))
    if kind == "int_uniform":
        return int(rng.integers(args[0], args[1], endpoint=True))
    return args[int(rng.integers(len(args)))]


@attrs.frozen
class SweepSpec:
    """A sweep: the recipe (name or spec file), what it varies, the seeds and the ranking metric."""

    recipe: str
    grid: dict[str, tuple[Any, ...]] = attrs.field(factory=dict, converter=_grid)
    random: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    samples: int = 0
    seeds: tuple[int, ...] = attrs.field(default=(0,), converter=_seeds)
    overrides: dict[str, Any] = attrs.field(factory=dict)
    metric: str = "test_accuracy"
    random_seed: int = 0
    sense: str | None = None
    """``"max"`` or ``"min"``; None: from the metric's name (:attr:`ranking`)."""
    search: str = "grid"
    """``"grid"`` (the grid and random draws) or ``"optuna"`` (``n_trials`` trials chosen by TPE)."""
    n_trials: int = 0
    """The trials an Optuna search runs (``trials`` in sweep files, ``--trials``)."""

    def __attrs_post_init__(self) -> None:
        for path, distribution in self.random.items():
            _check_distribution(path, distribution)
        if self.search not in SEARCHES:
            raise SweepError(f"sweep search: expected one of {', '.join(SEARCHES)}, got {self.search!r}")
        if self.search == "optuna":
            self._check_optuna()
        elif self.n_trials:
            raise SweepError("sweep trials: a trial count is for --search optuna; a grid sweep runs every point")
        elif self.random and self.samples < 1:
            raise SweepError("sweep samples: random fields need samples >= 1 (draws per grid point)")
        count = math.prod(len(values) for values in self.grid.values()) * max(self.samples, 1) * len(self.seeds)
        if count > MAX_TRIALS:
            sizes = [*(f"{len(values)} values of {path}" for path, values in self.grid.items())]
            sizes += [f"{self.samples} samples"] if self.samples else []
            raise _too_many(count, " x ".join([*sizes, f"{len(self.seeds)} seeds"]))
        if not self.random and self.samples:
            raise SweepError("sweep samples: given without any random field to draw")
        if not isinstance(self.metric, str) or not self.metric.isidentifier():
            raise SweepError(f"sweep metric: expected a history column such as val_accuracy, got {self.metric!r}")
        if self.sense is not None and self.sense not in SENSES:
            raise SweepError(f"sweep sense: expected max or min, got {self.sense!r}")
        both = set(self.grid) & set(self.random)
        if both:
            raise SweepError(f"sweep: {', '.join(sorted(both))} is both in the grid and random; choose one")

    def _check_optuna(self) -> None:
        """An Optuna search: its space is the random fields, one seed, a trial count."""
        if not self.random or self.grid or self.samples:
            raise SweepError(
                "sweep search optuna: declare the space as --random fields only (a grid field becomes "
                "{choice = [...]}), without --samples; --trials N says how many trials"
            )
        if not 1 <= self.n_trials <= MAX_TRIALS:
            raise SweepError(f"sweep trials: --search optuna needs --trials N with 1 <= N <= {MAX_TRIALS}")
        if len(self.seeds) != 1:
            raise SweepError("sweep seeds: an Optuna search trains each configuration once (one seed)")

    @property
    def ranking(self) -> str:
        """``"max"`` or ``"min"``: ``sense``, else maximise accuracies and r2 and minimise the rest
        (loss, mae, rmse), as a callback's ``mode = "auto"`` does."""
        if self.sense is not None:
            return self.sense
        return "max" if metric_of(self.metric) in HIGHER_IS_BETTER else "min"

    @property
    def swept(self) -> list[str]:
        """The paths this sweep varies, grid first."""
        return [*self.grid, *self.random]

    def trials(self) -> list[Trial]:
        """Every trial in order: grid point, then random draw, then seed."""
        rng = np.random.default_rng(self.random_seed)
        trials: list[Trial] = []
        for point in itertools.product(*self.grid.values()):
            for _ in range(max(self.samples, 1)):
                drawn = {path: _draw(*next(iter(d.items())), rng) for path, d in self.random.items()}
                fields = {**dict(zip(self.grid, point, strict=True)), **drawn}
                for seed in self.seeds:
                    trials.append(Trial(f"trial-{len(trials):03d}", fields, seed))
        return trials

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the form of a sweep file and of ``sweep.json``)."""
        return {
            "recipe": self.recipe,
            "grid": {path: list(values) for path, values in self.grid.items()},
            "random": self.random,
            "samples": self.samples,
            "seeds": list(self.seeds),
            "set": self.overrides,
            "metric": self.metric,
            "random_seed": self.random_seed,
        } | (
            ({"sense": self.sense} if self.sense is not None else {})  # sweep.json of plugnn 0.2 has none
            | ({"search": self.search, "trials": self.n_trials} if self.search != "grid" else {})
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "sweep") -> SweepSpec:
        """The inverse of :meth:`to_dict`; unknown keys are refused."""
        known = {
            "recipe",
            "grid",
            "random",
            "samples",
            "seeds",
            "set",
            "metric",
            "sense",
            "random_seed",
            "search",
            "trials",
        }
        if not isinstance(data, Mapping):
            raise SweepError(f"{source}: expected a table of sweep settings, got {type(data).__name__}")
        unknown = sorted(set(data) - known)
        if unknown:
            raise SweepError(f"{source}: unknown key {unknown[0]!r}; valid keys: {', '.join(sorted(known))}")
        if not isinstance(data.get("recipe"), str):
            raise SweepError(f"{source}: 'recipe' must name a recipe or a spec file, got {data.get('recipe')!r}")
        for key in ("random", "set"):
            if not isinstance(data.get(key, {}), Mapping):
                raise SweepError(f"{source}: '{key}' must be a table of path = value, got {data[key]!r}")
        for key in ("samples", "random_seed", "trials"):
            value = data.get(key, 0)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise SweepError(f"{source}: '{key}' must be an integer >= 0, got {value!r}")
        return cls(
            recipe=data["recipe"],
            grid=dict(data.get("grid", {})),
            random={str(k): v for k, v in data.get("random", {}).items()},
            samples=data.get("samples", 0),
            seeds=data.get("seeds", 1),
            overrides={str(k): v for k, v in data.get("set", {}).items()},
            metric=data.get("metric", "test_accuracy"),
            random_seed=data.get("random_seed", 0),
            sense=data.get("sense"),
            search=data.get("search", "grid"),
            n_trials=data.get("trials", 0),
        )


def is_sweep_file(path: str | Path) -> bool:
    """A ``.toml``/``.json`` file whose top level names a ``recipe``: a sweep file, not a spec file."""
    path = Path(path)
    if path.suffix not in (".toml", ".json") or not path.is_file():
        return False
    data = parse_file(path)
    return isinstance(data, dict) and "recipe" in data


def load_sweep_file(path: str | Path) -> SweepSpec:
    """A sweep file's :class:`SweepSpec`; a relative ``recipe`` file is found next to the sweep file."""
    path = Path(path)
    data = parse_file(path)
    spec = SweepSpec.from_dict(data, str(path))
    beside = path.parent / spec.recipe
    if Path(spec.recipe).suffix in (".toml", ".json") and not Path(spec.recipe).is_absolute() and beside.is_file():
        spec = attrs.evolve(spec, recipe=str(beside))
    return spec


def grid_values(value: Any) -> list[Any]:
    """A grid's values from a ``--grid PATH=VALUES`` value as :func:`~plugnn.overrides.parse_value` read it.

    A TOML array stays a list; text is split at commas, each part read as by ``--set``:
    ``0.001,0.003`` -> ``[0.001, 0.003]``, ``digits,fashion-mnist`` -> two names; empty text -> ``[]``.
    """
    if isinstance(value, list):
        return value
    if not isinstance(value, str):
        return [value]
    if not value.strip():
        return []
    whole = parse_value(f"[{value}]")
    return whole if isinstance(whole, list) else [parse_value(part.strip()) for part in value.split(",")]


def expand(
    sweep: SweepSpec, base: RunSpec, registry: Registry, trials: list[Trial] | None = None
) -> list[tuple[Trial, dict[str, Any]]]:
    """Every trial (``trials``, else the sweep's own) with its full spec as plain data, each checked;
    raises before any of them runs."""
    try:
        common = apply_overrides(base, sweep.overrides, registry)
    except SpecError as exc:
        raise SweepError(f"sweep set: {exc}") from None
    expanded = []
    own_validation: dict[Any, bool] = {}  # by dataset: loaded at most once, and only for a val_ metric
    for trial in sweep.trials() if trials is None else trials:
        try:
            spec = apply_overrides(common, trial.overrides(), registry)
        except SpecError as exc:
            raise SweepError(f"sweep {trial.name} ({_describe(trial)}): {exc}") from None
        _check_metric(sweep.metric, spec, registry, own_validation, f"sweep {trial.name}")
        expanded.append((trial, unstructure(spec, registry)))
    return expanded


def _check_metric(metric: str, spec: RunSpec, registry: Registry, own_validation: dict[Any, bool], where: str) -> None:
    """Refuse a ranking metric the trial's history will not have (its columns follow from its spec)."""
    targets = resolve(spec.network.loss, "loss", registry, "network.loss")[1].targets
    validation = spec.train.validation is not None
    if not validation and metric.startswith("val_"):  # a dataset may bring its own validation split
        if spec.data not in own_validation:
            own_validation[spec.data] = load_dataset(spec.data, registry).validation is not None
        validation = own_validation[spec.data]
    columns = [c for c in history_columns(targets, validation=validation, test=True) if c not in ("epoch", "seconds")]
    if metric in columns:
        return
    close = difflib.get_close_matches(metric, columns, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    if metric.startswith("val_") and not validation:
        hint = "it has no validation split: hold one out with --set train.validation=0.1; "
    raise SweepError(f"{where}: its history has no column {metric!r}; {hint}columns: {', '.join(columns)}")


def _describe(trial: Trial) -> str:
    return ", ".join(f"{path}={value!r}" for path, value in trial.overrides().items())
