"""The conformance kit over every component this distribution registers: one test per check."""

from plugnn.testing import parametrize_with_checks

PLUGINS = ["activations", "dropout", "momentum", "rmsprop", "adamw", "onehot_mse", "schedules"]


@parametrize_with_checks(plugins=PLUGINS)
def test_conformance(check):
    check()
