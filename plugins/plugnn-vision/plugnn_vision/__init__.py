"""plugnn-vision: convolution, pooling, flatten and batch norm for plugnn, channels-last ``(N, H, W, C)``."""
