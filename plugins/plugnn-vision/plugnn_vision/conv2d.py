r"""2-D convolution, channels-last: ``(N, H, W, C) -> (N, H', W', F)``.

.. math::

    Y[n, i, j, f] = b_f + Σ_{p < k_h,\ q < k_w,\ c < C} X_{pad}[n,\ s i + p,\ s j + q,\ c]\ K[p, q, c, f]

(a cross-correlation, as in every deep-learning library), with ``H' = (H + p_t + p_b − k_h) // s + 1``.
Computed as one matrix product of the im2col columns (:mod:`plugnn_vision.ops.im2col`):
``Y = cols · K`` with ``cols`` ``(N·H'·W', k_h·k_w·C)`` and ``K`` ``(k_h·k_w·C, F)``, which lands in
``(N, H', W', F)`` with no transpose. Backward, with ``G = ∂L/∂Y`` as ``(N·H'·W', F)``:

.. math::

    ∂L/∂K = \mathrm{cols}^\top G, \qquad ∂L/∂b = Σ G, \qquad
    ∂L/∂X = \mathrm{col2im}(G K^\top)\ \text{cropped to the unpadded input}

(:func:`~plugnn_vision.ops.im2col.input_gradient`), and ``∂L/∂X`` is skipped when nobody needs it
(the first layer). With at most
:data:`FEW_CHANNELS` input channels the layer builds ``colsᵀ`` instead (:func:`im2col_t`) with a last
row of ones, and ``K`` with ``b`` as a last row: ``Y = [colsᵀ; 1]ᵀ [K; b]`` adds the bias and
``[colsᵀ; 1] G`` gives ``∂L/∂K`` and ``∂L/∂b`` in one product. With ``activation = "relu"`` the
layer outputs ``max(Y, 0)`` in place and multiplies ``G`` by ``[Y > 0]`` first, as Keras'
``Conv2D(..., activation="relu")``: the same numbers as a separate ``relu`` layer, one pass and one
array fewer. ``K`` is drawn by the layer's
initializer with ``fan_in = k_h·k_w·C`` and ``fan_out = k_h·k_w·F`` (as Keras); ``b`` starts at zero.
Padding: ``"valid"`` (none), ``"same"`` (``ceil(H / s)`` outputs, the odd pixel after, as Keras) or
an int ``p`` (``p`` zeros on every side, as PyTorch).
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from plugnn import BuildContext, InitializerSpec, LayerSpec, ShapeError, hookimpl
from plugnn import validators as v
from plugnn.errors import FieldError
from plugnn.kernels import activation
from plugnn.parallel import for_rows
from plugnn.protocols import Array
from plugnn.specs import InitializerRef, component_ref
from plugnn_vision.ops.im2col import im2col, im2col_t, input_gradient, output_size, same_padding
from plugnn_vision.shapes import image_shape

COLUMN_BUDGET = 1 << 23
"""Most column-matrix entries held at once (32 MiB in float32); larger batches (inference) go in chunks."""
FEW_CHANNELS = 4
"""Inputs with at most this many channels use the transposed column matrix (:func:`im2col_t`):
measured for a 3×3 kernel on 128 images of 28×28, it is built 5.6× faster with 1 channel and 2.4×
with 3, and 2× slower with 8."""


def _padding(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value in ("valid", "same"):
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FieldError(attribute.name, f"expected 'valid', 'same' or an integer >= 0, got {value!r}")


@attrs.frozen
class Conv2D(LayerSpec):
    """A convolution of ``filters`` square ``kernel_size`` kernels moved by ``stride``.

    Parameters
    ----------
    filters : int
        Output channels ``F`` (> 0).
    kernel_size : int
        Kernel height and width ``k`` (> 0).
    stride : int
        Step ``s`` between windows in both directions (> 0).
    padding : "valid", "same" or int
        Zeros around the input: none, enough for ``ceil(H / s)`` outputs, or ``p`` on every side.
    init : str or InitializerSpec, optional
        Initializer of ``K``; the network's default when omitted.
    bias : bool
        Whether to add a bias ``b`` ``(F,)`` (drop it before a batch norm, which has its own shift).
    activation : "linear" or "relu"
        Applied to the output in place (see above).
    """

    filters: int = attrs.field(validator=[v.integer, v.positive])
    kernel_size: int = attrs.field(default=3, validator=[v.integer, v.positive])
    stride: int = attrs.field(default=1, validator=[v.integer, v.positive])
    padding: Any = attrs.field(default="valid", validator=_padding)  # "valid" | "same" | int; checked by _padding
    init: InitializerRef | None = attrs.field(default=None, validator=component_ref(InitializerSpec, optional=True))
    bias: bool = attrs.field(default=True, validator=v.boolean)
    activation: str = attrs.field(default="linear", validator=v.one_of(("linear", "relu")))

    @classmethod
    def examples(cls) -> list[Conv2D]:
        return [
            cls(filters=3, kernel_size=3),
            cls(filters=2, kernel_size=2, stride=2, padding="same"),
            cls(filters=2, kernel_size=3, padding=1, init="glorot", bias=False),
            cls(filters=3, kernel_size=2, activation="relu"),
        ]

    @classmethod
    def invalid_examples(cls) -> list[dict[str, object]]:
        return [
            {"filters": 0},
            {"filters": 4, "kernel_size": 0},
            {"filters": 4, "kernel_size": 2.5},
            {"filters": 4, "stride": 0},
            {"filters": 4, "stride": -1},
            {"filters": 4, "padding": "full"},
            {"filters": 4, "padding": -1},
            {"filters": 4, "activation": "tanh"},
        ]

    @classmethod
    def example_input_shapes(cls) -> list[tuple[int, ...]]:
        return [(5, 6, 2), (7, 7, 1), (4, 4, 3), (4, 5, 6)]  # the last: more channels than FEW_CHANNELS

    @classmethod
    def invalid_input_shapes(cls) -> list[tuple[int, ...]]:
        return [(64,), (8, 8)]


class Conv2DLayer:
    """Runtime convolution with ``K`` ``(k, k, C, F)`` and ``b`` ``(F,)``."""

    def __init__(self, spec: Conv2D, input_shape: tuple[int, ...], ctx: BuildContext) -> None:
        height, width, channels = image_shape(input_shape, "conv2d")
        k, s = spec.kernel_size, spec.stride
        if spec.padding == "same":
            self.pad = (*same_padding(height, k, s), *same_padding(width, k, s))
        elif spec.padding == "valid":
            self.pad = (0, 0, 0, 0)
        else:
            self.pad = (spec.padding,) * 4
        padded = (height + self.pad[0] + self.pad[1], width + self.pad[2] + self.pad[3])
        if k > min(padded):
            raise ShapeError(
                f"kernel {k}x{k} is larger than the input {tuple(input_shape)} padded to {padded[0]}x{padded[1]}; "
                "use a smaller kernel_size, padding='same', or fewer pooling layers before it"
            )
        self.kernel, self.stride, self.filters = (k, k), s, spec.filters
        self.input_shape = (height, width, channels)
        self.padded_shape = (*padded, channels)
        self.output_shape = (output_size(padded[0], k, s), output_size(padded[1], k, s), spec.filters)
        init = ctx.initializer(spec.init)
        shape = (k, k, channels, spec.filters)
        weights = init(shape, fan_in=k * k * channels, fan_out=k * k * spec.filters, rng=ctx.rng, dtype=ctx.dtype)
        self.params = {"W": weights}
        if spec.bias:
            self.params["b"] = np.zeros(spec.filters, dtype=ctx.dtype)
        self.grads = {name: np.zeros_like(value) for name, value in self.params.items()}
        self.buffers: dict[str, Array] = {}
        self.relu = spec.activation == "relu"
        self._transposed = channels <= FEW_CHANNELS
        # the transposed column matrix carries the bias as a last row of ones: Y = [colsᵀ; 1]ᵀ [K; b]
        self._depth = k * k * channels + (1 if self._transposed and spec.bias else 0)
        self._positions = self.output_shape[0] * self.output_shape[1]  # rows of the column matrix per sample
        self._chunk = max(1, COLUMN_BUDGET // (self._positions * self._depth))
        self._scratch: dict[str, Array] = {}
        self._xp: Array | None = None
        self._cols: Array | None = None
        self._active: Array | None = None

    def _kept(self, name: str, shape: tuple[int, ...], dtype: np.dtype, fill: int = 0, keep: bool = True) -> Array:
        """A scratch array kept between batches, made again (filled with ``fill``) when the shape or dtype
        changes; with ``keep=False`` (a batch larger than training ones) a new array, not kept."""
        if not keep:
            return np.full(shape, fill, dtype=dtype)
        array = self._scratch.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = self._scratch[name] = np.full(shape, fill, dtype=dtype)
        return array

    def _pad(self, x: Array) -> Array:
        """``x`` inside a zero border (kept for training-size batches: its border is never written), or ``x``."""
        if not any(self.pad):
            return x
        top, _, left, _ = self.pad
        shape = (len(x), *self.padded_shape)
        padded = self._kept("padded", shape, x.dtype, keep=len(x) <= self._chunk)
        padded[:, top : top + x.shape[1], left : left + x.shape[2]] = x
        return padded

    def _columns(self, xp: Array, kept: bool = True) -> Array:
        """The column matrix of ``xp`` (``colsᵀ`` with few channels), in a kept array or a new one."""
        rows = len(xp) * self._positions
        if self._transposed:
            shape = (self._depth, rows)
            out = self._kept("cols", shape, xp.dtype, fill=1, keep=kept)
            return im2col_t(xp, self.kernel, self.stride, out=out)
        shape = (rows, self._depth)
        return im2col(xp, self.kernel, self.stride, out=self._kept("cols", shape, xp.dtype) if kept else None)

    def _kernel_matrix(self) -> Array:
        """``K`` as ``(k·k·C, F)``, with ``b`` as a last row when the columns carry the bias."""
        kernel = self.params["W"].reshape(-1, self.filters)
        if self._depth == len(kernel):
            return kernel
        matrix = self._kept("kernel", (self._depth, self.filters), kernel.dtype)
        matrix[:-1], matrix[-1] = kernel, self.params["b"]
        return matrix

    def _product(self, cols: Array, kernel: Array, out: Array) -> None:
        np.matmul(cols.T if self._transposed else cols, kernel, out=out)

    def _finish(self, flat: Array, keep: bool) -> None:
        """Add the bias (unless the product did) and apply the ReLU, keeping its mask, in cache-sized blocks."""
        bias = self.params["b"] if "b" in self.params and not self._transposed else None
        if bias is None and not self.relu:
            return
        if not self.relu:
            for_rows(lambda rows: np.add(flat[rows], bias, out=flat[rows]), len(flat), flat[:1].nbytes)
            return
        self._active = self._kept("active", flat.shape, np.dtype(bool), keep=keep)
        activation.bias_relu(flat, bias, self._active)

    def forward(self, x: Array, *, training: bool = False) -> Array:
        self._xp = self._cols = self._active = None  # let the last batch's arrays go before making new ones
        xp = self._pad(x)
        kernel = self._kernel_matrix()
        out = np.empty((len(x), *self.output_shape), dtype=x.dtype)
        flat = out.reshape(-1, self.filters)
        if len(x) <= self._chunk:
            self._cols = self._columns(xp)
            self._product(self._cols, kernel, flat)
        else:  # a large inference batch: bounded memory, columns rebuilt by backward if ever asked
            for start in range(0, len(x), self._chunk):
                cols = self._columns(xp[start : start + self._chunk], kept=False)
                rows = slice(start * self._positions, (start + self._chunk) * self._positions)
                self._product(cols, kernel, flat[rows])
        self._finish(flat, keep=len(x) <= self._chunk)
        self._xp = xp
        return out

    def backward(self, grad_out: Array, *, input_grad: bool = True) -> Array | None:
        if self.relu:
            activation.relu_backward(grad_out, self._active.reshape(grad_out.shape))  # may reuse grad_out
        cols = self._cols if self._cols is not None else self._columns(self._xp, kept=False)
        grad = grad_out.reshape(-1, self.filters)
        weights = self.grads["W"].reshape(-1, self.filters)
        if self._transposed:
            if self._depth == len(weights):
                np.matmul(cols, grad, out=weights)
            else:  # the bias row of the columns gives ∂L/∂b = Σ G in the same product
                both = self._kept("dkernel", (self._depth, self.filters), grad.dtype)
                np.matmul(cols, grad, out=both)
                weights[...], self.grads["b"][...] = both[:-1], both[-1]
        else:
            np.matmul(cols.T, grad, out=weights)
            if "b" in self.params:
                ones = self._kept("ones", (len(grad),), grad.dtype, fill=1)
                np.matmul(ones, grad, out=self.grads["b"])  # Σ G as a product: ten times faster than a sum
        if not input_grad:
            return None
        kh, kw = self.kernel
        scratch = self._kept("dx", (kh, kw, len(grad), self.input_shape[2]), grad.dtype)
        dx = input_gradient(grad, self.params["W"], self._xp.shape, self.stride, scratch)
        top, _, left, _ = self.pad
        return dx[:, top : top + self.input_shape[0], left : left + self.input_shape[1]]


@hookimpl
def plugnn_register_layers(register) -> None:
    register("conv2d", Conv2D, Conv2DLayer)
