"""A :class:`plugnn.train.LoopState` as named arrays: how checkpoints and model files store it.

Both kinds of file hold the same arrays for it, beside their own:

* ``loop``: int64 ``[epoch, position, correct, stop]``;
* ``sums``: float64 ``[loss_sum, seconds, lr_scale, start_loss]`` (``start_loss`` is NaN before the
  first batch);
* ``order``: this epoch's sample order (empty when none is drawn yet);
* ``history``: the history so far as JSON text, ``stop_reason`` as text;
* ``callbacks``: how many callbacks there are, and ``callbacks/<index>/<key>`` each one's state;
* ``blas_threads``: int64, the BLAS's thread count the run trains with (absent before it is chosen).

:func:`stored_loop` reads them back checked (dimensions, dtypes, finite values, a consistent
position, the JSON's structure), raising :class:`plugnn.npzfile.CorruptFileError` naming the file.
Files of plugnn 0.1 stored 3 loop values and 2 sums; they load with the defaults of the rest. Files
of plugnn 0.2 hold no ``blas_threads``: None, and the run goes on with the count its budget gives.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from plugnn.history import History
from plugnn.loopstate import LoopState
from plugnn.npzfile import CorruptFileError, member, member_json

CALLBACK_PREFIX = "callbacks/"
LOOP_ARRAYS = ("loop", "sums", "order", "history", "stop_reason", "callbacks", "blas_threads")
"""The arrays :func:`loop_arrays` writes, besides the callbacks' ``callbacks/<index>/<key>``."""


def loop_arrays(state: LoopState) -> dict[str, np.ndarray]:
    """The arrays that store ``state`` (see the module docstring)."""
    arrays: dict[str, np.ndarray] = {
        "loop": np.array([state.epoch, state.position, state.correct, state.stop], dtype=np.int64),
        "sums": np.array([state.loss_sum, state.seconds, state.lr_scale, state.start_loss], dtype=np.float64),
        "order": state.order if state.order is not None else np.zeros(0, dtype=np.int64),
        "history": np.array(json.dumps(state.history.to_dict())),
        "stop_reason": np.array(state.stop_reason),
        "callbacks": np.array(len(state.callback_states), dtype=np.int64),
    }
    if state.blas_threads is not None:
        arrays["blas_threads"] = np.array(state.blas_threads, dtype=np.int64)
    for index, callback_state in enumerate(state.callback_states):
        arrays |= {f"{CALLBACK_PREFIX}{index}/{key}": np.asarray(value) for key, value in callback_state.items()}
    return arrays


def stored_loop(path: Path, arrays: Mapping[str, np.ndarray]) -> LoopState:
    """The loop state ``arrays`` (read from ``path``) hold, checked; see the module docstring."""
    history_data = member_json(path, arrays, "history")
    loop = member(path, arrays, "loop", "iu", 1)
    sums = member(path, arrays, "sums", "f", 1, finite=False)  # the start loss is NaN before the first batch
    order = member(path, arrays, "order", "iu", 1)
    if loop.shape not in ((3,), (4,)) or sums.shape not in ((2,), (3,), (4,)) or not np.all(np.isfinite(sums[:3])):
        raise CorruptFileError(f"{path}: malformed loop state (loop {loop.tolist()}, sums {sums.tolist()})")
    if np.isinf(sums[-1]) or (len(sums) > 2 and not sums[2] > 0):
        raise CorruptFileError(f"{path}: malformed loop state (loop {loop.tolist()}, sums {sums.tolist()})")
    epoch, position, correct = (int(v) for v in loop[:3])
    if epoch < 1 or position < 0 or not 0 <= correct <= position:
        raise CorruptFileError(f"{path}: inconsistent loop state (epoch {epoch}, sample {position}, {correct} right)")
    try:
        history = History.from_dict(history_data)
        callback_states = _callback_states(arrays)
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise CorruptFileError(f"{path}: 'history' or callback state malformed ({type(exc).__name__}: {exc})") from None
    loss_sum, seconds, lr_scale, start_loss = (float(v) for v in [*sums.tolist(), 1.0, np.nan][:4])
    return LoopState(
        epoch,
        position,
        order if order.size else None,
        loss_sum,
        correct,
        seconds,
        history,
        stop=bool(loop[3]) if len(loop) == 4 else False,
        stop_reason=str(member(path, arrays, "stop_reason", "U", 0)) if "stop_reason" in arrays else "",
        lr_scale=lr_scale,
        callback_states=callback_states,
        start_loss=start_loss,
        blas_threads=_blas_threads(path, arrays),
    )


def _blas_threads(path: Path, arrays: Mapping[str, np.ndarray]) -> int | None:
    """The stored BLAS thread count: a positive integer, or None where there is none (plugnn 0.2)."""
    if "blas_threads" not in arrays:
        return None
    count = int(member(path, arrays, "blas_threads", "iu", 0))
    if count < 1:
        raise CorruptFileError(f"{path}: 'blas_threads' must be a positive thread count, got {count}")
    return count


def _callback_states(arrays: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], ...]:
    """The callbacks' states, ``callbacks/<index>/<key>`` arrays grouped by index."""
    count = int(arrays["callbacks"]) if "callbacks" in arrays else 0
    states: list[dict[str, np.ndarray]] = [{} for _ in range(count)]
    for name, value in arrays.items():
        if name.startswith(CALLBACK_PREFIX):
            index, _, key = name.removeprefix(CALLBACK_PREFIX).partition("/")
            states[int(index)][key] = value
    return tuple(states)
