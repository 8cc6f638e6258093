"""plugnn's standard components, registered through the ``plugnn`` entry-point group.

Import the spec classes from here to declare networks in Python::

    from plugnn_std import Adam, Dense, EarlyStopping, He, RandomShift
"""

from plugnn_std.augmentations.random_erasing import RandomErasing
from plugnn_std.augmentations.random_flip import RandomFlip
from plugnn_std.augmentations.random_shift import RandomShift
from plugnn_std.callbacks.best_checkpoint import BestCheckpoint
from plugnn_std.callbacks.early_stopping import EarlyStopping
from plugnn_std.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from plugnn_std.initializers.glorot import Glorot
from plugnn_std.initializers.he import He
from plugnn_std.initializers.normal import Normal
from plugnn_std.layers.dense import Dense
from plugnn_std.layers.identity import Identity
from plugnn_std.layers.parallel import Parallel
from plugnn_std.layers.relu import ReLU
from plugnn_std.layers.residual import Residual
from plugnn_std.layers.sequential import Sequential
from plugnn_std.losses.huber import Huber
from plugnn_std.losses.mae import MAE
from plugnn_std.losses.mse import MSE
from plugnn_std.losses.softmax_cross_entropy import SoftmaxCrossEntropy
from plugnn_std.optimizers.adam import Adam
from plugnn_std.optimizers.sgd import SGD

__all__ = [
    "MAE",
    "MSE",
    "SGD",
    "Adam",
    "BestCheckpoint",
    "Dense",
    "EarlyStopping",
    "Glorot",
    "He",
    "Huber",
    "Identity",
    "Normal",
    "Parallel",
    "RandomErasing",
    "RandomFlip",
    "RandomShift",
    "ReLU",
    "ReduceLROnPlateau",
    "Residual",
    "Sequential",
    "SoftmaxCrossEntropy",
]
