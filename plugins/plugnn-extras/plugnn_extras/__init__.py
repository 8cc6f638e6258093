"""plugnn-extras: an example third-party plugnn plugin distribution.

Its spec classes, for declaring networks in Python::

    from plugnn_extras import AdamW, Dropout, Tanh
"""

from plugnn_extras.activations import LeakyReLU, Sigmoid, Tanh
from plugnn_extras.adamw import AdamW
from plugnn_extras.dropout import Dropout
from plugnn_extras.momentum import Momentum
from plugnn_extras.onehot_mse import OneHotMSE
from plugnn_extras.rmsprop import RMSprop
from plugnn_extras.schedules import Cosine, Step

__all__ = ["AdamW", "Cosine", "Dropout", "LeakyReLU", "Momentum", "OneHotMSE", "RMSprop", "Sigmoid", "Step", "Tanh"]
