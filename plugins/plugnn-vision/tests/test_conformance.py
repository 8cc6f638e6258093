"""The conformance kit over every layer this distribution registers: one test per check."""

from plugnn.testing import parametrize_with_checks

PLUGINS = ["conv2d", "pooling", "flatten", "batch_norm"]


@parametrize_with_checks(plugins=PLUGINS)
def test_conformance(check):
    check()
