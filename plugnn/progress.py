"""Training progress as a plugin of the training-event hooks: a bar on a terminal, a line per epoch otherwise."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from plugnn.hookspecs import hookimpl
from plugnn.kernels import describe
from plugnn.threads import current_blas_threads, current_threads
from plugnn.train import TrainContext

POSTFIX_INTERVAL = 0.25
"""Seconds between updates of the bar's loss read-out (formatting it every batch would cost time)."""


def epoch_line(context: TrainContext) -> str:
    """``epoch 3/25  loss 0.2135  train_accuracy 0.9412  val_loss 0.2410 ...  1.23 s``: every column of the epoch."""
    record = context.history.records[-1]
    values = "  ".join(
        f"{name} {value:.4f}"
        for name, value in record.items()
        if name not in ("epoch", "seconds") and value is not None
    )
    return f"epoch {record['epoch']}/{context.spec.epochs}  {values}  {record['seconds']:.2f} s"


def threads_line() -> str:
    """``2 threads``, or ``1 thread, BLAS 2`` when the BLAS keeps another count (the one the run started with)."""
    threads, blas = current_threads(), current_blas_threads()
    line = f"{threads} thread{'s' if threads > 1 else ''}"
    return line if blas in (None, threads) else f"{line}, BLAS {blas}"


class Progress:
    """Reports training to ``stream``: the thread budget and kernels, a tqdm bar over all batches on a terminal,
    and a line per epoch."""

    def __init__(self, stream: TextIO | None = None, bar: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.bar_enabled = self.stream.isatty() if bar is None else bar
        self._bar: Any = None
        self._shown = 0.0

    @hookimpl
    def plugnn_train_start(self, context: TrainContext) -> None:
        print(f"{threads_line()}, kernels: {describe()}", file=self.stream, flush=True)
        if self.bar_enabled:  # created here, outside the timed batch loop
            from tqdm import tqdm

            done = (context.epoch - 1) * context.n_batches + -(-context.position // context.spec.batch_size)
            self._bar = tqdm(
                total=context.spec.epochs * context.n_batches,
                initial=done,
                unit="batch",
                file=self.stream,
                dynamic_ncols=True,
                leave=False,
            )

    @hookimpl
    def plugnn_batch_end(self, context: TrainContext) -> None:
        if self._bar is not None:
            self._bar.update(1)
            now = time.monotonic()
            if now - self._shown > POSTFIX_INTERVAL:
                self._shown = now
                self._bar.set_postfix_str(
                    f"epoch {context.epoch}/{context.spec.epochs} loss {context.batch_loss:.4f}", refresh=False
                )

    @hookimpl
    def plugnn_epoch_end(self, context: TrainContext) -> None:
        if self._bar is not None:
            self._bar.write(epoch_line(context), file=self.stream)
        else:
            print(epoch_line(context), file=self.stream, flush=True)

    @hookimpl
    def plugnn_train_end(self, context: TrainContext) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if context.finished and context.stop_reason and context.history.records:
            print(context.stop_reason, file=self.stream, flush=True)
