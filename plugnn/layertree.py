"""Layers that hold layers: how plugnn walks a composite layer's children.

A composite layer (``sequential``, ``residual``, ``parallel``, or a plugin's own block) builds its
child layers through :meth:`plugnn.BuildContext.build` and lists them in a ``children`` attribute,
a dict from each child's place in the parent's spec (``"layers[0]"``, ``"projection"``) to the built
layer, in the order the parent's spec declares them. The network treats every layer of the tree as
its own: parameters and gradients of all of them share one flat buffer (in the order :func:`walk`
gives), buffers are saved under their full path (``layers[2].layers[0].mean``), and the training
mode reaches children because the parent passes ``training`` on to their ``forward``.

A layer without a ``children`` attribute is a leaf; a composite keeps its own ``params``, ``grads``
and ``buffers`` for what is its own (often nothing).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from plugnn.protocols import Layer


def children(layer: Any) -> Mapping[str, Layer]:
    """The child layers of ``layer`` by their place in its spec; empty for a leaf layer."""
    found = getattr(layer, "children", None)
    return found if isinstance(found, Mapping) else {}


def walk(layer: Layer, path: str) -> Iterator[tuple[str, Layer]]:
    """``(path, layer)`` for ``layer`` and every layer below it, parents first, children in spec order.

    ``path`` names ``layer`` (``layers[2]``); a child's path adds its place (``layers[2].layers[0]``).
    """
    yield path, layer
    for place, child in children(layer).items():
        yield from walk(child, f"{path}.{place}")
