r"""The runtime network: layers in order, a loss, and all parameters in one flat buffer.

Every layer's parameters (and gradients) are views into ``Network.params`` (``Network.grads``), so
an optimizer updates the whole network in one pass over two flat arrays. The layers of composite
layers count as the network's own (:mod:`plugnn.layertree`): their parameters join the flat buffers
in the order :meth:`Network.tree` gives. State that is not trained (the layers' ``buffers``) stays
in the layers; :meth:`Network.buffer_state` and :meth:`Network.load_buffers` export and restore it
for model files and checkpoints, keyed by each layer's path (``layers[2].layers[0].mean``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from plugnn.checks import check_features
from plugnn.composite import backward_chain, forward_chain
from plugnn.errors import PlugnnError
from plugnn.layertree import walk
from plugnn.protocols import Array, Labels, Layer, Loss, Optimizer, Shape
from plugnn.shapes import batch_of

if TYPE_CHECKING:
    from plugnn.loopstate import TrainState
    from plugnn.specs import NetworkSpec

PREDICT_CHUNK = 4096
"""Most rows per forward pass in :meth:`Network.predict` and friends (bounds their memory)."""
ACTIVATION_BUDGET = 1 << 24
"""Most values one layer's output may hold in such a pass (64 MiB in float32): an image layer's output
per sample can be a hundred times an MLP's (26x26x32 against 200), so its passes take fewer rows."""
PASS_BUDGET = 1 << 25
"""Most values all layers' outputs together may hold in such a pass (128 MiB in float32; layers keep
what their backward needs): a deep network of image layers (a ResNet's thirty) takes fewer rows."""


def softmax(logits: Array) -> Array:
    r"""Row-wise :math:`\mathrm{softmax}(Z)_{nc} = e^{Z_{nc} - \max_k Z_{nk}} / \sum_j e^{Z_{nj} - \max_k Z_{nk}}`."""
    shifted: Array = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


class Network:
    """Layers, a loss and their parameters; built by :func:`plugnn.build_network`.

    Attributes
    ----------
    params, grads : Array
        Flat buffers of every parameter and its gradient, shape ``(n_params,)``.
    input_shape : tuple[int, ...]
        The shape of one input sample; inputs are ``(N, *input_shape)``.
    output_shape : tuple[int, ...]
        ``(C,)``, C the number of classes for a classifier; logits are ``(N, C)``.
    names : list[str]
        The registered name of each top-level layer (``"dense"``).
    layer_names : dict[str, str]
        The registered name of every layer of the tree by its path (``"layers[2].layers[0]"``).
    noise : numpy.random.Generator
        The generator the layers draw run-time randomness from (dropout masks).
    targets : {"labels", "values"}
        What the loss compares the outputs with (its spec's :attr:`plugnn.LossSpec.targets`):
        class labels (a classifier) or real values (a regressor).
    train_state : plugnn.train.TrainState or None
        What continuing to train needs (optimizer state, shuffling generator, history), set by
        :func:`plugnn.train` and restored by :func:`plugnn.load`; None for an untrained network.
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        loss: Loss,
        *,
        input_shape: Shape,
        dtype: np.dtype,
        names: Sequence[str] | Mapping[str, str] | None = None,
        spec: NetworkSpec | None = None,
        noise: np.random.Generator | None = None,
        targets: Literal["labels", "values"] = "labels",
    ) -> None:
        self.layers = list(layers)
        self.loss = loss
        self.targets = targets
        self.input_shape = tuple(input_shape)
        self.output_shape = tuple(self.layers[-1].output_shape)
        self.dtype = np.dtype(dtype)
        paths = [f"layers[{index}]" for index in range(len(self.layers))]
        if isinstance(names, Mapping):
            self.layer_names = dict(names)
        else:
            given = names if names is not None else [type(layer).__name__ for layer in self.layers]
            self.layer_names = dict(zip(paths, given, strict=True))
        self.names = [self.layer_names[path] for path in paths]
        self.spec = spec
        self.noise = noise if noise is not None else np.random.default_rng()
        self.params, self.grads = self._flatten()
        self._check_buffers()
        self.train_state: TrainState | None = None

    def tree(self) -> Iterator[tuple[str, Layer]]:
        """``(path, layer)`` for every layer, composite layers' children included, parents first."""
        for index, layer in enumerate(self.layers):
            yield from walk(layer, f"layers[{index}]")

    def _where(self, path: str) -> str:
        return f"{path} ({self.layer_names.get(path, '?')})"

    def _flatten(self) -> tuple[Array, Array]:
        total = sum(p.size for _, layer in self.tree() for p in layer.params.values())
        params = np.empty(total, dtype=self.dtype)
        grads = np.zeros(total, dtype=self.dtype)
        offset = 0
        for path, layer in self.tree():
            for key, value in layer.params.items():
                if value.dtype != self.dtype or layer.grads[key].shape != value.shape:
                    raise PlugnnError(
                        f"{self._where(path)} parameter {key!r}: expected dtype {self.dtype} "
                        f"and a gradient of shape {value.shape}, got {value.dtype} and {layer.grads[key].shape}"
                    )
                stop = offset + value.size
                params[offset:stop] = value.ravel()
                layer.params[key] = params[offset:stop].reshape(value.shape)
                layer.grads[key] = grads[offset:stop].reshape(value.shape)
                offset = stop
        return params, grads

    def _check_buffers(self) -> None:
        for path, layer in self.tree():
            for key, value in layer.buffers.items():
                if not isinstance(value, np.ndarray) or value.dtype != self.dtype:
                    got = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
                    raise PlugnnError(f"{self._where(path)} buffer {key!r}: expected a {self.dtype} array, got {got}")

    @property
    def n_params(self) -> int:
        """Total number of trainable scalars."""
        return int(self.params.size)

    @property
    def n_buffered(self) -> int:
        """Total number of scalars in the layers' buffers (state that is not trained)."""
        return sum(int(b.size) for _, layer in self.tree() for b in layer.buffers.values())

    def buffer_state(self) -> dict[str, Array]:
        """A copy of every layer's buffers, keyed ``<layer path>.<name>`` (what files store)."""
        return {f"{path}.{key}": value.copy() for path, layer in self.tree() for key, value in layer.buffers.items()}

    def load_buffers(self, state: Mapping[str, np.ndarray]) -> None:
        """Copy ``state`` (as :meth:`buffer_state` gives it) into the layers' buffers, in place.

        Everything is checked before anything is copied; a missing, extra, mis-shaped or
        other-dtype buffer raises :class:`PlugnnError` naming the layer and the buffer.
        """
        expected = {}
        for path, layer in self.tree():
            for key, value in layer.buffers.items():
                expected[f"{path}.{key}"] = (f"{self._where(path)} buffer {key!r}", value)
        for name, (what, value) in expected.items():
            if name not in state:
                raise PlugnnError(f"{what}: missing")
            got = np.asarray(state[name])
            if got.shape != value.shape:
                raise PlugnnError(f"{what}: has shape {got.shape}, the network's is {value.shape}")
            if got.dtype != value.dtype:
                raise PlugnnError(f"{what}: is {got.dtype}, the network's is {value.dtype}")
        extra = sorted(set(state) - set(expected))
        if extra:
            raise PlugnnError(f"holds buffer {extra[0]!r}, which no layer of the network has")
        for name, (_, value) in expected.items():
            value[...] = state[name]

    def forward(self, x: Array, *, training: bool = False) -> Array:
        """Logits ``(N, C)`` for inputs ``x`` ``(N, *input_shape)``; ``training`` only in the train loop."""
        return forward_chain(self.layers, x, training=training)

    def backward(self, grad_logits: Array) -> None:
        r"""Back-propagate :math:`\partial L/\partial Z` ``(N, C)``, filling :attr:`grads`."""
        backward_chain(self.layers, grad_logits, input_grad=False)  # nothing below the first layer needs dL/dX

    def train_step(self, x: Array, y: Labels, optimizer: Optimizer) -> tuple[float, Array]:
        """One forward, backward and optimizer step on a batch; returns the loss and the logits."""
        logits = self.forward(x, training=True)
        loss, grad = self.loss(logits, y)
        self.backward(grad)
        optimizer.step([self.params], [self.grads])
        return loss, logits

    @property
    def predict_chunk(self) -> int:
        """Rows per inference pass: :data:`PREDICT_CHUNK`, fewer when a layer's output per sample is large
        (:data:`ACTIVATION_BUDGET`) or all layers' outputs together are (:data:`PASS_BUDGET`)."""
        sizes = [math.prod(layer.output_shape) for _, layer in self.tree()]
        return max(1, min(PREDICT_CHUNK, ACTIVATION_BUDGET // max(sizes), PASS_BUDGET // sum(sizes)))

    def _chunks(self, x: Array) -> Array:
        chunk = self.predict_chunk
        return np.concatenate([self.forward(x[start : start + chunk]) for start in range(0, len(x), chunk)])

    def logits(self, x: Array) -> Array:
        """Inference-mode logits ``(N, C)``, computed in chunks of :attr:`predict_chunk` rows.

        ``x`` ``(N, *input_shape)`` is checked first (shape, finiteness) and converted to the
        network's dtype.
        """
        return self._chunks(check_features(x, self.input_shape, self.dtype, "X"))

    def predict_proba(self, x: Array) -> Array:
        """Class probabilities ``(N, C)``: the softmax of the logits (a classifier only)."""
        if self.targets != "labels":
            raise PlugnnError("predict_proba: this network is a regressor (its loss takes real values); use predict")
        return softmax(self.logits(x))

    def predict(self, x: Array) -> np.ndarray:
        """Predicted class indices ``(N,)`` (the argmax of the logits) for a classifier; a regressor's
        outputs ``(N, C)``, or ``(N,)`` when it has one output."""
        outputs = self.logits(x)
        if self.targets == "labels":
            labels: Labels = outputs.argmax(axis=1)
            return labels
        return outputs[:, 0] if self.output_shape == (1,) else outputs

    def summary(self) -> str:
        """A table of layers, output shapes and parameter counts, like Keras's ``model.summary()``.

        A composite layer's row counts the parameters of all its children, listed indented below it.
        """
        rows = [("layer", "output shape", "params")]
        for path, layer in self.tree():
            count = sum(p.size for _, node in walk(layer, path) for p in node.params.values())
            depth = path.count(".")
            place = f"{path.removeprefix('layers[').split(']')[0]}:" if depth == 0 else path.rsplit(".", 1)[1]
            rows.append(
                (f"{'  ' * depth}{place} {self.layer_names.get(path, '?')}", batch_of(layer.output_shape), f"{count:,}")
            )
        widths = [max(len(row[col]) for row in rows) for col in range(3)]
        rule = "-" * (sum(widths) + 4)
        lines = [f"{rows[0][0]:<{widths[0]}}  {rows[0][1]:<{widths[1]}}  {rows[0][2]:>{widths[2]}}", rule]
        lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows[1:]]
        buffered = f", {self.n_buffered:,} non-trainable values in buffers" if self.n_buffered else ""
        lines += [
            rule,
            f"input {batch_of(self.input_shape)}; {self.n_params:,} trainable parameters{buffered} ({self.dtype})",
        ]
        return "\n".join(lines)
