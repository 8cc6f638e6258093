"""Exceptions plugnn raises on purpose.

Every error a user can cause derives from :class:`PlugnnError`, so a command-line front end can
print its message and exit non-zero without a traceback.
"""

from __future__ import annotations


class PlugnnError(Exception):
    """Base class of every error plugnn raises for bad input or a bad plugin."""


class FieldError(PlugnnError, ValueError):
    """A spec field holds a value its validator rejects.

    Raised by the validators in :mod:`plugnn.validators`; ``field`` is the attribute name so that
    error paths can end in it (``layers[2].units``).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class SpecError(PlugnnError):
    """A spec (from Python, a dict, or a file) is invalid.

    ``problems`` holds ``(path, message)`` pairs, e.g. ``("layers[2].units", "must be > 0 (got 0)")``.
    """

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        where = f"{source}: " if source else ""
        lines = [f"{path}: {message}" if path else message for path, message in problems]
        if len(lines) == 1:
            super().__init__(f"invalid spec: {where}{lines[0]}")
        else:
            super().__init__(f"invalid spec: {where}\n" + "\n".join(f"  {line}" for line in lines))


class ShapeError(PlugnnError, ValueError):
    """A layer cannot take the per-sample shape it is given, or data does not fit a network.

    A layer factory raises it with one line naming the shape it got, the shape it needs and a fix
    (``got input shape (64,), needs (H, W, C); add a reshape, or put this layer before flatten``);
    the builder prefixes the layer's place and type (``layers[3] (conv2d): ...``).
    """


class RegistryError(PlugnnError):
    """A component name is unknown, or two plugins claim the same name."""


class PluginLoadError(PlugnnError):
    """A plugin could not be imported or its registration hook failed."""


class DataError(PlugnnError):
    """Training or evaluation data is unusable (shape, dtype, labels, values)."""
