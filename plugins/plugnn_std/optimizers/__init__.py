"""Standard optimizers: sgd, adam."""
