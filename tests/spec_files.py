"""Small spec files as TOML text, for the tests that give ``plugnn run`` a file rather than a RunSpec."""

from __future__ import annotations


def mlp_layers(hidden: int, classes: int) -> str:
    """A ``network.layers`` value in TOML: dense(``hidden``), relu, dense(``classes``)."""
    return f'[{{ type = "dense", units = {hidden} }}, "relu", {{ type = "dense", units = {classes} }}]'


TINY_MLP = mlp_layers(8, 10)


def spec_toml(
    description: str,
    *,
    data: str = "digits",
    layers: str = TINY_MLP,
    epochs: int = 2,
    batch_size: int = 256,
    train: str = "",
) -> str:
    """A spec file's text: ``layers`` (TOML) trained on ``data`` with softmax cross-entropy, Adam
    (lr 0.01) and He initialisation. ``train`` follows ``epochs`` and ``batch_size`` in ``[train]``:
    more of its keys, then tables of its own such as ``[[train.callbacks]]``."""
    return f"""\
description = "{description}"
data = "{data}"

[network]
layers = {layers}
loss = "softmax_cross_entropy"
optimizer = {{ type = "adam", lr = 0.01 }}
init = "he"

[train]
epochs = {epochs}
batch_size = {batch_size}
{train}"""
