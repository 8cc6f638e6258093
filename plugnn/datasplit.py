"""What a dataset plugin returns: :class:`DataSplit`, a fixed split of float32 samples and their targets.

It sits below the protocols that name it and the modules that load data, so neither imports the
other for it; ``plugnn.DataSplit`` and ``plugnn.data.DataSplit`` are this class.
"""

from __future__ import annotations

import attrs

from plugnn.arrays import Array, Labels
from plugnn.errors import DataError


@attrs.frozen(eq=False)
class DataSplit:
    """A dataset ready to train on: float32 samples in [0, 1] and integer labels.

    Attributes
    ----------
    x_train, x_test : Array
        ``(N, *sample_shape)`` float32 samples: ``(N, D)`` features, or channels-last images
        ``(N, H, W, C)`` (grey-scale image sets are ``(N, H, W, 1)``).
    y_train, y_test : Labels
        ``(N,)`` integer labels in ``[0, len(classes))``.
    classes : tuple[str, ...]
        Class names, index by label.
    x_val, y_val : Array | None, Labels | None
        A validation split of the dataset's own, if it has one (both or neither). Training uses
        it unless ``train.validation`` is set too, which is an error: say which one.
    """

    x_train: Array
    y_train: Labels
    x_test: Array
    y_test: Labels
    classes: tuple[str, ...]
    x_val: Array | None = None
    y_val: Labels | None = None

    def __attrs_post_init__(self) -> None:
        if (self.x_val is None) != (self.y_val is None):
            raise DataError("a dataset's validation split needs both x_val and y_val")

    @property
    def validation(self) -> tuple[Array, Labels] | None:
        """``(x_val, y_val)``, or None when the dataset has no validation split of its own."""
        return None if self.x_val is None or self.y_val is None else (self.x_val, self.y_val)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """The shape of one sample: ``(D,)`` or ``(H, W, C)``; the network is built for it."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def image_shape(self) -> tuple[int, ...] | None:
        """How to draw one sample (sample plots): ``(H, W)`` for grey-scale ``(H, W, 1)`` samples,
        ``(H, W, C)`` for colour ones (C = 3 or 4); None when the samples are not images."""
        shape = self.sample_shape
        if len(shape) == 3 and shape[2] == 1:
            return shape[:2]
        return shape if len(shape) == 3 and shape[2] in (3, 4) else None
