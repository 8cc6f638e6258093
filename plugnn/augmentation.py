"""Data augmentation in the train loop: the augmentations ``train.augment`` declares, built and applied.

:func:`build_augmentations` builds each one for the shape of one training sample before anything
is trained or written, so that a shift asked of flat features, or a setting that does not fit the
images, is one line naming its place (``train.augment[0] (random_shift): ...``). The train loop
then calls :func:`augment_batch` on every gathered training batch, and on nothing else: validation,
test and evaluation data are never augmented. A run without augmentation does no work for it.

The augmentations draw from a generator of their own, the fourth stream spawned from the run's
seed (:func:`augmentation_generator`; weights, shuffling and dropout take the first three), so that
adding an augmentation to a spec changes neither the initial weights, nor the order of the samples,
nor the dropout masks. Checkpoints and model files keep its state, so that ``--resume`` and
``train(..., start_from=...)`` draw exactly what an uninterrupted run would have.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from plugnn.builder import made, resolve
from plugnn.errors import FieldError, PlugnnError, ShapeError, SpecError
from plugnn.protocols import Array, Augmentation, Shape
from plugnn.registry import Registry
from plugnn.specs import TrainSpec

STREAM = 3
"""The index of the augmentation stream among those spawned from the run's seed (0: weights,
1: shuffling, 2: run-time noise)."""


def augmentation_generator(seed: int) -> np.random.Generator:
    """The generator a run seeded with ``seed`` augments its batches from (also for files saved without one)."""
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(STREAM + 1)[STREAM])


def build_augmentations(spec: TrainSpec, sample_shape: Shape, registry: Registry) -> list[Augmentation]:
    """The augmentations ``spec.augment`` declares, in order, each built for samples of ``sample_shape``.

    A factory that cannot take the shape raises :class:`ShapeError` (naming the shape), reported
    with the augmentation's place and name; a setting it finds does not fit the
    shape (a :class:`plugnn.FieldError`) becomes a :class:`SpecError` at ``train.augment[i].field``.
    """
    augmentations = []
    for index, ref in enumerate(spec.augment):
        path = f"train.augment[{index}]"
        component, augmentation_spec = resolve(ref, "augmentation", registry, path)
        where = f"{path} ({component.name})"
        try:
            result = component.factory(augmentation_spec, sample_shape)
        except ShapeError as exc:
            raise ShapeError(f"{where}: {exc}") from None
        except FieldError as exc:
            raise SpecError([(f"{path}.{exc.field}", exc.message)]) from None
        except PlugnnError:
            raise
        except Exception as exc:
            raise PlugnnError(
                f"{where}, from plugin {component.plugin!r}: building it for sample shape {sample_shape} "
                f"failed with {type(exc).__name__}: {exc}"
            ) from exc
        augmentations.append(made(component, result, Augmentation))
    return augmentations


def augment_batch(x: Array, augmentations: Sequence[Augmentation], rng: np.random.Generator) -> Array:
    """``x`` ``(N, *sample_shape)`` through each augmentation in turn, each drawing from ``rng``.

    ``x`` itself is never written (it may be the dataset's array). An augmentation that returns
    another shape or dtype is an error naming it, before the network sees the batch.
    """
    for index, augmentation in enumerate(augmentations):
        out = augmentation(x, rng)
        if out.shape != x.shape or out.dtype != x.dtype:
            raise PlugnnError(
                f"train.augment[{index}] ({type(augmentation).__name__}) turned a batch {x.dtype}{x.shape} "
                f"into {out.dtype}{out.shape}; an augmentation keeps the shape and dtype (plugnn.Augmentation)"
            )
        x = out
    return x
