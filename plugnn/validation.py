"""The validation set: a seeded, stratified fraction of the training data, or a dataset's own split.

``TrainSpec.validation`` holds the fraction; :func:`split_indices` carves it from the training data with
scikit-learn's ``train_test_split`` (stratified by class for integer labels), seeded by the run's
seed through a stream of its own, so the same spec always holds out the same samples (a resumed run
included) and the weights, shuffling and noise streams stay what they were without validation.
"""

from __future__ import annotations

import math

import numpy as np

from plugnn.errors import DataError

SEED_STREAM = 3
"""Index of the validation split's child of ``SeedSequence(seed)`` (0-2 are weights, shuffling, noise)."""


def split_indices(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train_index, val_index)``: row indices of ``y`` with ``fraction`` held out, stratified by integer labels.

    Only the labels are needed, so the split can be checked before any data is copied. Raises
    :class:`DataError` (one line, before any training) when the fraction leaves the training or the
    validation part without a sample of some class of ``y`` (without any sample at all for
    real-valued targets).
    """
    from sklearn.model_selection import train_test_split  # imported here: importing plugnn stays light

    n = len(y)
    n_val = math.ceil(fraction * n)  # scikit-learn's rounding of a fractional test_size
    stratify = np.issubdtype(y.dtype, np.integer)
    classes, counts = np.unique(y, return_counts=True) if stratify else (np.zeros(1), np.full(1, n))
    where = f"train.validation = {fraction:g} of {n} training samples"
    need = f"the {len(classes)} classes" if stratify else "one"
    if n_val < len(classes):
        raise DataError(f"{where} holds out {n_val}, fewer than {need}; choose a larger fraction")
    if n - n_val < len(classes):
        raise DataError(f"{where} keeps {n - n_val} for training, fewer than {need}; choose a smaller fraction")
    if counts.min() < 2:
        raise DataError(
            f"{where}: class {classes[counts.argmin()]} has a single sample, so the training or the validation "
            "part would have none; drop the class or train without a validation split"
        )
    seed_sequence = np.random.SeedSequence(seed).spawn(SEED_STREAM + 1)[SEED_STREAM]
    train_index, val_index = train_test_split(
        np.arange(n),
        test_size=n_val,
        stratify=y if stratify else None,
        random_state=int(seed_sequence.generate_state(1)[0]),
    )
    for part, index in (("training", train_index), ("validation", val_index)):
        missing = np.setdiff1d(classes, y[index]) if stratify else classes[:0]
        if len(missing):
            raise DataError(
                f"{where} leaves class {missing[0]} ({counts[np.searchsorted(classes, missing[0])]} samples) "
                f"with no {part} samples; choose a {'larger' if part == 'validation' else 'smaller'} fraction"
            )
    return train_index, val_index
