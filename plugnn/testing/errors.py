"""The conformance kit's failure."""


class ConformanceError(AssertionError):
    """A component broke one of plugnn's contracts; the message names it, the check, expected and got."""
