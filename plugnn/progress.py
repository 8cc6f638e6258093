"""Training progress as a plugin of the training-event hooks: a bar on a terminal, a line per epoch otherwise."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from plugnn.hookspecs import hookimpl
from plugnn.train import TrainContext


def epoch_line(context: TrainContext) -> str:
    """``epoch 3/25  loss 0.2135  train 0.9412  test 0.9380  1.23 s``."""
    record = context.history.records[-1]
    test = f"  test {record.test_accuracy:.4f}" if record.test_accuracy is not None else ""
    return (
        f"epoch {record.epoch}/{context.spec.epochs}  loss {record.loss:.4f}  "
        f"train {record.train_accuracy:.4f}{test}  {record.seconds:.2f} s"
    )


class Progress:
    """Reports training to ``stream``: a tqdm bar per epoch on a terminal, else one line per epoch."""

    def __init__(self, stream: TextIO | None = None, bar: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.bar_enabled = self.stream.isatty() if bar is None else bar
        self._bar: Any = None

    @hookimpl
    def plugnn_batch_end(self, context: TrainContext) -> None:
        if not self.bar_enabled:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=context.n_batches, desc=f"epoch {context.epoch}/{context.spec.epochs}",
                             unit="batch", leave=False, file=self.stream)
        self._bar.update(1)
        self._bar.set_postfix(loss=f"{context.batch_loss:.4f}", refresh=False)

    @hookimpl
    def plugnn_epoch_end(self, context: TrainContext) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        print(epoch_line(context), file=self.stream, flush=True)
