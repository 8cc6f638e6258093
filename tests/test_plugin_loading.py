"""Loading plugins safely: no name taken twice, all-or-nothing registration, failures reported by every command.

Fake distributions on ``sys.path`` (a module and its ``*.dist-info``) play third-party plugins.
"""

from __future__ import annotations

import attrs
import pytest
from test_registry import fake_distribution, run_with_site

import plugnn
from plugnn.errors import PluginLoadError

IMPOSTOR = """
import attrs, plugnn


@attrs.frozen
class Adam(plugnn.OptimizerSpec):
    lr: float = 0.001


class DoesNothing:
    def __init__(self, spec):
        self.spec, self.lr = spec, spec.lr

    def step(self, params, grads):
        pass

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


@plugnn.hookimpl
def plugnn_register_optimizers(register):
    register("adam", Adam, DoesNothing)
"""

HIJACK = (
    "plugin name 'adam' is claimed by more than one distribution: "
    f"plugnn {plugnn.__version__} (plugnn_std.optimizers.adam) "
    "and impostor 1.2.3 (impostor_pkg); a plugin never replaces a built-in silently: uninstall impostor, "
    "or set PLUGNN_REPLACE_PLUGINS=adam to use it instead of plugnn's"
)


def test_an_entry_point_named_like_a_built_in_is_an_error_naming_both(tmp_path, monkeypatch) -> None:
    fake_distribution(tmp_path, "impostor", "impostor_pkg", IMPOSTOR, "adam")
    done = run_with_site(tmp_path, "run", "--quiet", "--epochs", "1", "--out", str(tmp_path / "run"))
    assert done.returncode == 1 and done.stderr == f"plugnn: error: {HIJACK}\n"
    assert not (tmp_path / "run").exists()
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginLoadError, match="claimed by more than one distribution"):
        plugnn.load_registry(strict=False)  # not a failure strict mode decides on: never a silent replacement


def test_replacing_a_built_in_is_explicit_and_shown(tmp_path, monkeypatch) -> None:
    fake_distribution(tmp_path, "impostor", "impostor_pkg", IMPOSTOR, "adam")
    done = run_with_site(tmp_path, "plugins", PLUGNN_REPLACE_PLUGINS="adam")
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("adam "))
    assert "impostor 1.2.3" in line and "optimizer adam" in line
    replaced = f"plugnn_std.optimizers.adam of plugnn {plugnn.__version__}: PLUGNN_REPLACE_PLUGINS)"
    assert f"(replaces the built-in {replaced}" in line
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = plugnn.load_registry(replace=["adam"])
    assert registry.tables["optimizer"].get("adam").factory.__module__ == "impostor_pkg"


def test_two_third_party_distributions_cannot_share_a_plugin_name(tmp_path, monkeypatch) -> None:
    for dist, module in (("first-dist", "first_pkg"), ("second-dist", "second_pkg")):
        fake_distribution(tmp_path, dist, module, "", "shared")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(
        PluginLoadError,
        match=r"^plugin name 'shared' is claimed by more than one distribution: first-dist 1\.2\.3 \(first_pkg\) "
        r"and second-dist 1\.2\.3 \(second_pkg\); uninstall all but one, or block the name with "
        r"PLUGNN_BLOCK_PLUGINS=shared$",
    ):
        plugnn.load_registry(strict=False, replace=["shared"])  # only a built-in can be replaced
    assert "shared" not in {p.name for p in plugnn.load_registry(block=["shared"]).plugins}


BROKEN = "raise ImportError('needs libfoo')\n"
BROKEN_LINE = (
    "plugnn: warning: plugin 'broken' (entry point 'broken_plugin' of broken-dist 1.2.3) "
    "failed to import: ImportError: needs libfoo\n"
)


def test_every_command_reports_a_broken_plugin_and_strict_mode_refuses(tmp_path) -> None:
    fake_distribution(tmp_path, "broken-dist", "broken_plugin", BROKEN, "broken")
    done = run_with_site(tmp_path, "run", "--quiet", "--epochs", "1", "--out", str(tmp_path / "run"))
    assert done.returncode == 0, done.stderr
    assert done.stderr == BROKEN_LINE  # one line: distribution, entry point, error; then the run goes on
    listing = run_with_site(tmp_path, "plugins")
    assert listing.returncode == 1 and BROKEN_LINE in listing.stderr
    assert "FAILED" in next(line for line in listing.stdout.splitlines() if line.startswith("broken"))
    for strict in (
        run_with_site(tmp_path, "--strict", "recipes"),
        run_with_site(tmp_path, "recipes", PLUGNN_STRICT_PLUGINS="1"),
    ):
        assert strict.returncode == 1 and strict.stdout == ""
        assert strict.stderr == f"plugnn: error: {BROKEN_LINE.removeprefix('plugnn: warning: ')}"


@attrs.frozen
class Half(plugnn.LayerSpec):
    pass


class HalfRegisters:
    """Registers a layer, then its loss hook raises: nothing of it may stay."""

    @plugnn.hookimpl
    def plugnn_register_layers(self, register):
        register("half", Half, object)

    @plugnn.hookimpl
    def plugnn_register_losses(self, register):
        raise RuntimeError("boom")

    @plugnn.hookimpl
    def plugnn_epoch_end(self, context):
        raise AssertionError("a plugin that failed to register must not see training events")


def test_registration_is_all_or_nothing(registry) -> None:
    lenient = plugnn.load_registry(strict=False, third_party=False, extra_plugins=[HalfRegisters()])
    assert "half" not in lenient.tables["layer"]
    assert lenient.errors == (
        "plugin 'HalfRegisters' failed in plugnn_register_losses: RuntimeError: boom; "
        "none of its components are registered",
    )
    assert all(name != "HalfRegisters" for name, _ in lenient.event_plugins)
    info = next(p for p in lenient.plugins if p.name == "HalfRegisters")
    assert info.error == lenient.errors[0]
    with pytest.raises(PluginLoadError, match="none of its components are registered"):
        plugnn.load_registry(strict=True, third_party=False, extra_plugins=[HalfRegisters()])


class BadName:
    @plugnn.hookimpl
    def plugnn_register_layers(self, register):
        register("fine", Half, object)
        register("", Half, object)


def test_an_invalid_registration_fails_the_whole_plugin() -> None:
    lenient = plugnn.load_registry(strict=False, third_party=False, extra_plugins=[BadName()])
    assert "fine" not in lenient.tables["layer"]
    assert "registered a layer with an invalid name ''" in lenient.errors[0]


def test_two_instances_of_one_plugin_class_can_be_given() -> None:
    class Seen:
        @plugnn.hookimpl
        def plugnn_epoch_end(self, context):
            pass

    registry = plugnn.load_registry(third_party=False, extra_plugins=[Seen(), Seen()])
    assert [p.name for p in registry.plugins][-2:] == [
        "test_two_instances_of_one_plugin_class_can_be_given.<locals>.Seen",
        "test_two_instances_of_one_plugin_class_can_be_given.<locals>.Seen#2",
    ]
