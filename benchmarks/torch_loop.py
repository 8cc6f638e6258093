"""The PyTorch peer's training loop, shared by bench.py (MLP) and bench_cnn.py (convnet).

Adam (lr 0.001) on the cross-entropy of shuffled mini-batches, timed per epoch; then the test
accuracy in evaluation mode. Inputs are already tensors in PyTorch's own layout.
"""

from __future__ import annotations

import time

import numpy as np


def train_torch(model, xs, ys, xt, yt: np.ndarray, epochs: int, batch: int) -> tuple[list[float], float]:
    """Train ``model`` on ``xs``, ``ys`` for ``epochs``; return the seconds of each epoch and the accuracy on ``xt``."""
    import torch

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    seconds = []
    for _ in range(epochs):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(xs))
        for first in range(0, len(xs), batch):
            index = order[first : first + batch]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xs[index]), ys[index])
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    model.eval()
    with torch.no_grad():
        predicted = model(xt).argmax(dim=1).numpy()
    return seconds, float(np.mean(predicted == yt))
