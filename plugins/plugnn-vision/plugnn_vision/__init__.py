"""plugnn-vision: convolution, pooling, flatten and batch norm for plugnn, channels-last ``(N, H, W, C)``.

Each module is one plugin of the ``plugnn`` entry-point group; the spec classes are importable
from here for use in Python: ``NetworkSpec(layers=[Conv2D(32, 3, activation="relu"), MaxPool2D(2), ...])``.
"""

from plugnn_vision.batch_norm import BatchNorm
from plugnn_vision.conv2d import Conv2D
from plugnn_vision.flatten import Flatten
from plugnn_vision.pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D

__all__ = ["AvgPool2D", "BatchNorm", "Conv2D", "Flatten", "GlobalAvgPool2D", "MaxPool2D"]
