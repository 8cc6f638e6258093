"""Running recipes: the Python twin of every ``plugnn`` command (run, resume, evaluate, show, recipes).

``run`` trains a recipe (or spec file) and leaves a run folder::

    runs/quickstart-20261129-101500/
        spec.toml       the fully resolved spec; `plugnn run spec.toml` repeats the run
        history.json    per-epoch loss and accuracy (train, validation, test), seconds
        history.csv     the same, a row per epoch
        model.npz       weights and spec, loadable without pickle (`plugnn evaluate`)
        curves.png      accuracy and loss per epoch
        samples.png     test images with predicted and true labels, mistakes in red
        confusion.png   the test confusion matrix
        checkpoint.npz  the latest checkpoint; `plugnn run --resume <folder>` continues from it

This module orchestrates; the folder itself (claiming, locking) is :mod:`plugnn.runfolder`, the
files a trained run writes are :mod:`plugnn.outputs`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO, TypedDict, Unpack

import attrs
import numpy as np

from plugnn import fingerprint
from plugnn.atomicfile import clean_stale, write_text
from plugnn.checkpoint import CHECKPOINT, Checkpoint, Checkpointer, load_checkpoint, restore
from plugnn.data import DataSplit, load_dataset, parse_data_option
from plugnn.errors import PlugnnError
from plugnn.history import History
from plugnn.loopstate import LoopState
from plugnn.model_io import load_model
from plugnn.network import Network
from plugnn.outputs import OUTPUT_FILES, missing_outputs, write_outputs
from plugnn.overrides import apply_overrides
from plugnn.plugins import default_registry
from plugnn.progress import Progress
from plugnn.protocols import Optimizer
from plugnn.registry import Registry
from plugnn.runfolder import claim_new, locked
from plugnn.scoring import score
from plugnn.serialize import unstructure
from plugnn.specfile import SUFFIXES, dumps, load_spec
from plugnn.specs import CallbackSpec, DatasetRef, RunSpec
from plugnn.train import (
    DivergenceError,
    TrainingInterrupted,
    build_for_training,
    carried_callback_states,
    fit,
    more_epochs,
    prepare,
)

DEFAULT_RECIPE = "quickstart"


@attrs.frozen
class RunResult:
    """What :func:`run` returns: the run folder, the resolved spec, the history and the test accuracy."""

    out: Path
    spec: RunSpec
    history: History
    test_scores: dict[str, float]

    @property
    def test_accuracy(self) -> float | None:
        """The test accuracy of a classifier (None for a regressor: see :attr:`test_scores`)."""
        return self.test_scores.get("accuracy")

    @property
    def files(self) -> dict[str, Path]:
        """Each output file by name."""
        return {name: self.out / name for name in OUTPUT_FILES}


def load_recipe(recipe: str | Path, registry: Registry) -> tuple[str, RunSpec]:
    """A recipe name or a ``.toml``/``.json`` spec file -> ``(name, spec)``."""
    if not str(recipe).strip():
        raise PlugnnError("an empty recipe name; give a recipe (plugnn recipes) or a .toml/.json spec file")
    path = Path(recipe)
    if path.suffix in SUFFIXES or path.is_file():
        return path.stem, load_spec(path, RunSpec, registry)
    found = registry.recipe(str(recipe))
    return found.name, load_spec(found.path, RunSpec, registry)


FLAG_PATHS = {
    "data": "data",
    "epochs": "train.epochs",
    "batch_size": "train.batch_size",
    "lr": "network.optimizer.lr",
    "seed": "train.seed",
    "full_train_accuracy": "train.full_train_accuracy",
}
"""Each shorthand setting of :func:`run` (and its ``plugnn run`` flag) and the spec path it sets."""


class Settings(TypedDict, total=False):
    """The shorthand settings :func:`run` and :func:`override` take as keywords (``plugnn run``'s flags).

    ``data`` … ``full_train_accuracy`` set the spec paths in :data:`FLAG_PATHS` (``None`` leaves a field
    as it is); ``overrides`` sets any field by its path; ``callbacks`` are added to ``train.callbacks``.
    """

    data: DatasetRef | dict[str, Any] | None
    epochs: int | None
    batch_size: int | None
    lr: float | None
    seed: int | None
    full_train_accuracy: bool | None
    overrides: Mapping[str, Any] | None
    callbacks: Sequence[Any]


def override(spec: RunSpec, registry: Registry, **settings: Unpack[Settings]) -> RunSpec:
    """``spec`` with the named settings (paths in :data:`FLAG_PATHS`), then ``overrides`` (path: value), set.

    ``data`` also takes ``"idx:DIR"``; ``callbacks`` (names, dicts or specs) are added after the spec's
    own ``train.callbacks``. Every new value is validated with its path.
    """
    flags: dict[str, Any] = {name: value for name, value in settings.items() if name in FLAG_PATHS}
    if isinstance(flags.get("data"), str):
        flags["data"] = parse_data_option(flags["data"])
    changes = {FLAG_PATHS[name]: value for name, value in flags.items() if value is not None}
    spec = apply_overrides(spec, changes | dict(settings.get("overrides") or {}), registry)
    callbacks = settings.get("callbacks", ())
    if callbacks:
        added = [unstructure(c, registry) if isinstance(c, CallbackSpec) else c for c in callbacks]
        spec = apply_overrides(
            spec, {"train.callbacks": [*unstructure(spec.train.callbacks, registry), *added]}, registry
        )
    return spec


def run(
    recipe: str | Path | RunSpec | None = None,
    *,
    start_from: str | Path | None = None,
    out: str | Path | None = None,
    quiet: bool = False,
    stream: TextIO | None = None,
    registry: Registry | None = None,
    plugins: Iterable[object] = (),
    **settings: Unpack[Settings],
) -> RunResult:
    """Train a recipe (``quickstart`` by default), a spec file or a :class:`RunSpec` and write its run folder.

    Everything is checked (spec, overrides, output folder, data) before training starts. The
    ``settings`` (:class:`Settings`) are ``data``, ``epochs``, ``batch_size``, ``lr``, ``seed``,
    ``full_train_accuracy``, ``overrides`` and ``callbacks``: ``data``
    takes a name, ``"idx:DIR"`` or a dataset spec; ``overrides`` sets any field by its path, e.g.
    ``{"network.optimizer.lr": 0.01}`` (see :mod:`plugnn.overrides`), after the named settings;
    ``callbacks`` are added to the spec's ``train.callbacks``;
    ``out`` defaults to ``runs/<name>-<timestamp>``.
    Progress goes to ``stream`` (stderr) unless ``quiet``. A checkpoint is written every
    ``spec.train.checkpoint_every`` epochs and on Ctrl-C; :func:`resume` continues from it.

    ``start_from`` (instead of a recipe) trains the finished run in that folder for ``epochs`` more
    epochs, into a new run folder: from its last checkpoint, so the new folder holds exactly what
    one run of all the epochs would have (its ``spec.toml`` is that run's spec). Its data, optimizer
    settings and train settings may be overridden; its network may not. Its callbacks go on from
    their states, and callbacks added (``callbacks``) start fresh. ``plugins`` receive this
    run's training events (the registry is never changed, so runs in parallel threads do not see
    each other's).
    """
    registry = registry or default_registry()
    checkpoint = None
    if start_from is not None:
        if recipe is not None:
            raise PlugnnError("a run started from another run's checkpoint takes no recipe: it has its spec")
        if settings.get("epochs") is None and "train.epochs" not in (settings.get("overrides") or {}):
            raise PlugnnError("say how many more epochs to train the run for: --epochs N (epochs=N)")
        checkpoint = _finished_run(Path(start_from), registry)
        name, spec = Path(start_from).name, checkpoint.spec
    elif isinstance(recipe, RunSpec):
        name, spec = "spec", recipe
    else:
        name, spec = load_recipe(DEFAULT_RECIPE if recipe is None else recipe, registry)
    spec = override(spec, registry, **settings)
    if checkpoint is not None:
        spec = _continued_spec(checkpoint.spec, spec, Path(start_from), registry)  # type: ignore[arg-type]
    with claim_new(out, name) as folder:
        split = load_dataset(spec.data, registry)
        if checkpoint is None:
            network, optimizer, *generators = build_for_training(spec.network, split.sample_shape, spec.train, registry)
            point = None
        else:
            network, optimizer, *generators = restore(attrs.evolve(checkpoint, spec=spec), registry)
            carried = carried_callback_states(checkpoint.resume, checkpoint.spec.train, spec.train, registry)
            point = attrs.evolve(checkpoint.resume, callback_states=carried)
        # checked before anything is written: an error here leaves no run folder
        own_validation = split.validation is not None
        prepare(
            spec.train,
            split.y_train,
            network.targets,
            sample_shape=split.sample_shape,
            own_validation=own_validation,
            test=True,
            registry=registry,
        )
        spec_text = dumps(spec, registry)
        write_text(folder / "spec.toml", spec_text)
        digest = fingerprint.record(folder, spec_text, split, name)
        history = _train(
            folder, spec, split, network, optimizer, generators, point, None, digest, quiet, stream, registry, plugins
        )
        scores = write_outputs(folder, _title(name, spec, registry), spec, split, network, history, registry)
    return RunResult(folder, spec, history, scores)


def _finished_run(folder: Path, registry: Registry) -> Checkpoint:
    """The final checkpoint of the finished run in ``folder``, or an error saying why there is none."""
    path = folder / CHECKPOINT
    if not path.is_file():
        raise PlugnnError(
            f"{folder}: no {CHECKPOINT} to continue from (is this a run folder? "
            "a run with train.checkpoint_every = 0 keeps none)"
        )
    checkpoint = load_checkpoint(path, registry)
    point, epochs = checkpoint.resume, checkpoint.spec.train.epochs
    if (point.epoch <= epochs and not point.stop) or not (folder / "model.npz").is_file():
        raise PlugnnError(
            f"{folder}: the run stopped in epoch {min(point.epoch, epochs)} of {epochs}; "
            f"finish it first: plugnn run --resume {folder}"
        )
    if point.stop:  # stopped early (a callback): go on as if it had been declared with the epochs it trained
        spec = checkpoint.spec
        return attrs.evolve(
            checkpoint,
            spec=attrs.evolve(spec, train=attrs.evolve(spec.train, epochs=point.epoch - 1)),
            resume=attrs.evolve(point, stop=False, stop_reason=""),
        )
    return checkpoint


def _continued_spec(before: RunSpec, spec: RunSpec, source: Path, registry: Registry) -> RunSpec:
    """``spec`` (``before`` with overrides, ``train.epochs`` counting the epochs to add) as one run of all epochs."""
    same_optimizer = attrs.evolve(spec.network, optimizer=before.network.optimizer)
    if same_optimizer != before.network or _name(spec.network.optimizer, registry) != _name(
        before.network.optimizer, registry
    ):
        raise PlugnnError(
            f"{source}: a continued run keeps its layers, loss, initializer and optimizer; "
            "only their settings (network.optimizer.lr, ...), the data and the train settings may change"
        )
    if spec.train.dtype != before.train.dtype:
        raise PlugnnError(f"{source}: a continued run keeps its dtype ({before.train.dtype})")
    done = before.train.epochs
    note = f"Continued from {source} after epoch {done}."
    return attrs.evolve(
        spec,
        train=more_epochs(spec.train, done),
        description=f"{spec.description} {note}".strip(),
    )


def _name(ref: Any, registry: Registry) -> str:
    plain = unstructure(ref, registry)
    return plain if isinstance(plain, str) else plain["type"]


def resume(
    run_dir: str | Path,
    *,
    threads: int | None = None,
    quiet: bool = False,
    stream: TextIO | None = None,
    registry: Registry | None = None,
    plugins: Iterable[object] = (),
) -> RunResult:
    """Continue the run in ``run_dir`` from its checkpoint; the result is bit-identical to an uninterrupted run.

    Refuses, saying what differs, an edited ``spec.toml``, changed data or a checkpoint of another
    run (:mod:`plugnn.fingerprint`). A run killed before its first checkpoint starts again from its
    ``spec.toml``; one killed after training but before all its files were written gets them
    written; a finished run is left alone.

    The BLAS trains with the thread count the checkpoint records, the one the run started with,
    whatever the machine's load, an enclosing budget or ``PLUGNN_THREADS`` say now; plugnn's own
    pool takes the budget as a new run would. ``threads`` (``plugnn run --resume RUN_DIR --threads N``)
    sets both for the rest of the run, as ``train.threads`` would, without touching its spec; a count
    other than the recorded one is used with a warning that the results may then differ in the
    last bits from the uninterrupted run's.
    """
    registry = registry or default_registry()
    folder = Path(run_dir)
    if not folder.is_dir():
        raise PlugnnError(f"{folder}: no such run folder")
    if not any((folder / name).exists() for name in (CHECKPOINT, "spec.toml")):  # before any lock file is made
        raise PlugnnError(f"{folder}: no {CHECKPOINT} to resume from (is this a run folder?)")
    with locked(folder):
        clean_stale(folder)
        if not (folder / CHECKPOINT).exists():
            return _restart(folder, quiet, stream, registry, plugins, threads=threads)
        path = folder / CHECKPOINT
        checkpoint = load_checkpoint(path, registry)
        spec, point = checkpoint.spec, checkpoint.resume
        record = fingerprint.verify_spec(folder, spec, checkpoint.fingerprint, registry)
        split = load_dataset(spec.data, registry)
        fingerprint.verify_data(folder, record, split)
        network, optimizer, *generators = restore(checkpoint, registry)
        if not missing_outputs(folder, split, network.targets):
            how = f": {point.stop_reason or 'stopped by a hook'}" if point.stop else f" its {spec.train.epochs} epochs"
            raise PlugnnError(f"{folder}: the run already finished{how}; nothing to resume")
        if point.epoch > spec.train.epochs or point.stop:  # trained to the end; only some outputs are missing
            history = point.history
        else:
            history = _train(
                folder,
                spec,
                split,
                network,
                optimizer,
                generators,
                point,
                point.epoch - 1,
                checkpoint.fingerprint,
                quiet,
                stream,
                registry,
                plugins,
                threads=threads,
            )
        name = str(record.get("name", folder.name)) if record else folder.name
        scores = write_outputs(folder, _title(name, spec, registry), spec, split, network, history, registry)
    return RunResult(folder, spec, history, scores)


def _restart(
    folder: Path,
    quiet: bool,
    stream: TextIO | None,
    registry: Registry,
    plugins: Iterable[object],
    *,
    threads: int | None,
) -> RunResult:
    """A run killed before its first checkpoint starts again from its ``spec.toml`` (fingerprint-checked)."""
    spec_path = folder / "spec.toml"
    spec = load_spec(spec_path, RunSpec, registry)
    split = load_dataset(spec.data, registry)
    name = folder.name
    if (folder / fingerprint.FINGERPRINT).exists():
        digest = fingerprint.digest(folder)
        record = fingerprint.verify_spec(folder, spec, digest, registry)
        fingerprint.verify_data(folder, record, split)
        name = str(record.get("name", name)) if record else name
    else:  # killed between writing spec.toml and fingerprint.json: the name is the folder's
        digest = fingerprint.record(folder, spec_path.read_text(encoding="utf-8"), split, name)
    network, optimizer, *generators = build_for_training(spec.network, split.sample_shape, spec.train, registry)
    history = _train(
        folder,
        spec,
        split,
        network,
        optimizer,
        generators,
        None,
        None,
        digest,
        quiet,
        stream,
        registry,
        plugins,
        threads=threads,
    )
    scores = write_outputs(folder, _title(name, spec, registry), spec, split, network, history, registry)
    return RunResult(folder, spec, history, scores)


def _train(
    folder: Path,
    spec: RunSpec,
    split: DataSplit,
    network: Network,
    optimizer: Optimizer,
    generators: Sequence[np.random.Generator],  # shuffling, augmentation
    point: LoopState | None,
    saved_epoch: int | None,
    digest: str,
    quiet: bool,
    stream: TextIO | None,
    registry: Registry,
    plugins: Iterable[object],
    *,
    threads: int | None = None,
) -> History:
    """Train in ``folder`` with its checkpointer; ``threads`` (if given) stands for ``train.threads``
    in this part of the run only (``spec.toml`` and the checkpoints keep the run's spec)."""
    checkpointer = Checkpointer(
        folder / CHECKPOINT,
        spec,
        registry,
        spec.train.checkpoint_every,
        saved_epoch=saved_epoch,
        fingerprint=digest,
    )
    own = [checkpointer] if quiet else [checkpointer, Progress(stream)]
    try:
        return fit(
            network,
            optimizer,
            split.x_train,
            split.y_train,
            spec.train if threads is None else attrs.evolve(spec.train, threads=threads),
            test=(split.x_test, split.y_test),
            validation=split.validation,
            rng=generators[0],
            augment_rng=generators[1],
            registry=registry,
            resume=point,
            plugins=[*plugins, *own],
            folder=folder,
        )
    except TrainingInterrupted as exc:
        raise TrainingInterrupted(
            f"{exc}; its state is saved in {checkpointer.path}. Resume with: plugnn run --resume {folder}"
        ) from None
    except DivergenceError as exc:
        kept = (
            f"the checkpoint of epoch {checkpointer.saved_epoch} in {checkpointer.path} is intact"
            if checkpointer.saved_epoch
            else "no checkpoint had been written yet"
        )
        raise DivergenceError(f"{exc}; {kept}") from None


def _title(name: str, spec: RunSpec, registry: Registry) -> str:
    return f"{name} on {_data_name(spec.data, registry)}"


def _data_name(ref: DatasetRef, registry: Registry) -> str:
    return ref if isinstance(ref, str) else registry.tables["dataset"].name_of(type(ref))


def evaluate(run_dir: str | Path, *, data: DatasetRef | None = None, registry: Registry | None = None) -> float:
    """Reload a run's ``model.npz`` and return its test accuracy on its data (or ``data``); R² for a regressor."""
    scores = test_scores(run_dir, data=data, registry=registry)
    return scores["accuracy"] if "accuracy" in scores else scores["r2"]


def test_scores(
    run_dir: str | Path, *, data: DatasetRef | None = None, registry: Registry | None = None
) -> dict[str, float]:
    """Reload a run's ``model.npz`` and :func:`plugnn.score` it on the test split of its data (or ``data``)."""
    registry = registry or default_registry()
    network, spec = load_model(Path(run_dir) / "model.npz", registry)
    if data is not None:
        spec = override(spec, registry, data=data)
    split = load_dataset(spec.data, registry)
    return score(network, split.x_test, split.y_test)


def recipe_table(registry: Registry | None = None) -> list[tuple[str, str, str]]:
    """``(name, dataset, description)`` of every bundled recipe."""
    registry = registry or default_registry()
    rows = []
    for name in sorted(registry.recipes):
        spec = load_spec(registry.recipes[name].path, RunSpec, registry)
        rows.append((name, _data_name(spec.data, registry), spec.description))
    return rows


def show(recipe: str | Path, registry: Registry | None = None) -> str:
    """The resolved spec of a recipe or file as TOML; ``plugnn run`` accepts it back."""
    registry = registry or default_registry()
    return dumps(load_recipe(recipe, registry)[1], registry)
