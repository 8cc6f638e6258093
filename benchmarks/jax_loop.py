"""The JAX peers' training loops, shared by bench.py (MLP) and bench_cnn.py (convnet).

* ``train_jax``: the whole train step (gather of the shuffled batch, forward, loss, gradient, Adam)
  is one ``jax.jit`` function; both batch shapes of an epoch (full and last) are compiled before the
  clock starts, and that compile time is reported apart.
* ``train_keras``: Keras 3 on the JAX backend (``KERAS_BACKEND=jax``), ``model.fit`` as a user calls
  it (XLA-compiled train step); its compile time is the first epoch's excess over the median epoch.

Adam is PyTorch's (lr 0.001, betas 0.9/0.999, eps 1e-8 added to the corrected root), as in plugnn.
``pip install "jax[cpu]" keras``; the number of threads is set with ``XLA_FLAGS`` before jax loads.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np


def limit_threads(threads: int) -> None:
    """XLA's CPU thread pool at ``threads`` (call before jax is imported)."""
    os.environ["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={threads}"
    os.environ.setdefault("KERAS_BACKEND", "jax")


def train_jax(
    params: dict,
    apply: Callable,
    x: np.ndarray,
    y: np.ndarray,
    xt: np.ndarray,
    yt: np.ndarray,
    epochs: int,
    batch: int,
    seed: int,
) -> tuple[list[float], float, float]:
    """Train ``apply(params, x, key, training)`` -> logits with Adam on shuffled batches; return the
    seconds of each epoch, the test accuracy and the seconds spent compiling."""
    import jax
    import jax.numpy as jnp

    def loss_fn(p, xb, yb, key):
        logits = apply(p, xb, key, True)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), yb[:, None], axis=1))

    def step(p, m, v, t, xs, ys, index, key):
        grads = jax.grad(loss_fn)(p, xs[index], ys[index], key)
        t = t + 1
        m = jax.tree.map(lambda a, g: 0.9 * a + 0.1 * g, m, grads)
        v = jax.tree.map(lambda a, g: 0.999 * a + 0.001 * g * g, v, grads)
        c1, c2 = 1 - 0.9**t, jnp.sqrt(1 - 0.999**t)

        def update(w, a, b):
            return w - (1e-3 / c1) * a / (jnp.sqrt(b) / c2 + 1e-8)

        return jax.tree.map(update, p, m, v), m, v, t

    xs, ys = jax.device_put(x), jax.device_put(y.astype(np.int32))
    m = jax.tree.map(jnp.zeros_like, params)
    v = jax.tree.map(jnp.zeros_like, params)
    t = jnp.zeros((), jnp.float32)
    key = jax.random.PRNGKey(seed)
    jitted = jax.jit(step, donate_argnums=(0, 1, 2))
    started = time.perf_counter()
    compiled = {}
    for size in sorted({batch, len(x) % batch} - {0}):
        index = jnp.zeros(size, jnp.int32)
        compiled[size] = jitted.lower(params, m, v, t, xs, ys, index, key).compile()
    compile_seconds = time.perf_counter() - started
    rng = np.random.default_rng(seed)
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = rng.permutation(len(x)).astype(np.int32)
        for first in range(0, len(x), batch):
            index = order[first : first + batch]
            key, sub = jax.random.split(key)
            params, m, v, t = compiled[len(index)](params, m, v, t, xs, ys, index, sub)
        jax.block_until_ready(params)
        seconds.append(time.perf_counter() - start)
    predict = jax.jit(lambda p, xb: jnp.argmax(apply(p, xb, key, False), axis=1))
    predicted = np.concatenate([np.asarray(predict(params, xt[i : i + 1000])) for i in range(0, len(xt), 1000)])
    return seconds, float(np.mean(predicted == yt)), compile_seconds


def train_keras(model, x, y, xt, yt, epochs: int, batch: int) -> tuple[list[float], float, float]:
    """``model.fit`` with Adam; the seconds of each epoch after the first, the test accuracy and the
    compile time: the first epoch's excess over the median of the others (with one epoch, its time
    is returned with the compile included, and the compile time is NaN)."""
    import keras

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    seconds: list[float] = []
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-8),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=True, verbose=0, callbacks=[Timer()])
    predicted = model.predict(xt, batch_size=1000, verbose=0).argmax(axis=1)
    if len(seconds) == 1:
        return seconds, float(np.mean(predicted == yt)), float("nan")
    compile_seconds = max(0.0, seconds[0] - float(np.median(seconds[1:])))
    return seconds[1:], float(np.mean(predicted == yt)), compile_seconds
