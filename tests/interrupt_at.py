"""A training-event plugin that plays Ctrl-C at a chosen batch, for the tests of interrupt and resume."""

from __future__ import annotations

import plugnn


class InterruptAt:
    """Asks the loop to stop after batch ``batch`` (0-based) of epoch ``epoch``, as Ctrl-C does."""

    def __init__(self, epoch: int, batch: int) -> None:
        self.epoch, self.batch = epoch, batch

    @plugnn.hookimpl
    def plugnn_batch_end(self, context: plugnn.TrainContext) -> None:
        if (context.epoch, context.batch) == (self.epoch, self.batch):
            context.interrupted = True
