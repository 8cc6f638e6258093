"""The ``plugnn`` command line: a thin layer over :mod:`plugnn.run`.

Every error plugnn raises on purpose prints as one line (``plugnn: error: ...``) with exit code 1;
a wrong flag or value prints one line with exit code 2. Every command first reports each plugin
that failed to load (``plugnn: warning: plugin ...``, one line each); ``--strict`` makes that an error.
"""

from __future__ import annotations

import argparse
import gc
import os
import shlex
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from plugnn.errors import PlugnnError
from plugnn.scaffold import KINDS as SCAFFOLD_KINDS
from plugnn.threads import env_threads
from plugnn.train import TrainingInterrupted


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _number(parse: Callable[[str], float], accept: Callable[[float], bool], expected: str) -> Callable[[str], Any]:
    """An argparse ``type`` that parses a number and checks it, naming what was expected."""

    def check(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return check


_positive_int = _number(int, lambda v: v >= 1, "a positive integer")
_non_negative_int = _number(int, lambda v: v >= 0, "an integer >= 0")
_positive_float = _number(float, lambda v: 0 < v < float("inf"), "a positive number")


def _assignment(text: str) -> tuple[str, Any]:
    from plugnn.overrides import parse_assignment

    try:
        return parse_assignment(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _component(text: str) -> Any:
    from plugnn.overrides import parse_component

    try:
        return parse_component(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _version() -> str:
    """``0.1.0; kernels: numba 0.68.1 (compiled)``: the version and which kernels run (:mod:`plugnn.kernels`)."""
    from importlib.metadata import version

    try:
        from plugnn.kernels import describe

        kernels = describe()
    except PlugnnError as exc:  # a bad PLUGNN_KERNELS
        kernels = f"error: {exc}"
    return f"{version('plugnn')}; kernels: {kernels}"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="plugnn", description="Train and inspect plugnn networks.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="a plugin that fails to load is an error, not a warning (as PLUGNN_STRICT_PLUGINS=1)",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    run = commands.add_parser("run", help="train a recipe or spec file and write a run folder")
    run.add_argument(
        "recipe", nargs="?", help="a recipe name (plugnn recipes) or a .toml/.json spec file (default: quickstart)"
    )
    run.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue an interrupted run from its checkpoint, exactly as it would have gone on",
    )
    run.add_argument(
        "--from",
        dest="start_from",
        metavar="RUN_DIR",
        help="train a finished run for --epochs N more, into a new run folder (as one run of all its epochs)",
    )
    run.add_argument(
        "--data",
        metavar="D",
        help="dataset: digits, mnist, fashion-mnist, idx:DIR (an IDX folder), npz:FILE (arrays x_train, y_train, "
        "x_test, y_test, or x, y), csv:FILE:label=COLUMN; settings after a last colon, e.g. npz:FILE:scale=255",
    )
    run.add_argument("--epochs", type=_positive_int, metavar="N")
    run.add_argument("--batch-size", type=_positive_int, metavar="N")
    run.add_argument("--lr", type=_positive_float, metavar="X", help="the optimizer's learning rate")
    run.add_argument("--seed", type=_non_negative_int, metavar="N")
    run.add_argument(
        "--set",
        type=_assignment,
        action="append",
        dest="overrides",
        metavar="KEY=VALUE",
        help="set any spec field by its path, e.g. network.optimizer.lr=0.01 or train.epochs=3 "
        "(repeatable; VALUE is read as TOML, else as text)",
    )
    run.add_argument(
        "--callback",
        type=_component,
        action="append",
        dest="callbacks",
        metavar="NAME[:KEY=VALUE,...]",
        help="add a callback to train.callbacks, e.g. early_stopping:monitor=val_loss,patience=3 (repeatable)",
    )
    run.add_argument(
        "--full-train-accuracy",
        action="store_true",
        default=None,
        help="measure train accuracy with a full pass after each epoch (slower)",
    )
    run.add_argument("--out", metavar="DIR", help="run folder (default: runs/<recipe>-<timestamp>); never overwritten")
    run.add_argument(
        "--threads",
        type=_positive_int,
        metavar="N",
        help="threads for training (BLAS and plugnn's own; sets train.threads); default: PLUGNN_THREADS, "
        "else the cores other processes leave free; --resume and --from keep the run's BLAS count unless given",
    )
    run.add_argument("--quiet", action="store_true", help="no progress output")

    sweep = commands.add_parser("sweep", help="train a recipe's variants (grid/random over spec fields x seeds)")
    sweep.add_argument(
        "target", nargs="?", help="a recipe, a .toml/.json spec file, or a sweep file (default: quickstart)"
    )
    sweep.add_argument(
        "--grid",
        type=_assignment,
        action="append",
        metavar="KEY=V1,V2",
        help="try each value of a spec field, e.g. network.optimizer.lr=0.001,0.003 (repeatable: all combinations)",
    )
    sweep.add_argument(
        "--random",
        type=_assignment,
        action="append",
        metavar="KEY=DIST",
        help="draw a field, e.g. 'network.optimizer.lr={log_uniform=[1e-4,1e-2]}' (also uniform, int_uniform, choice)",
    )
    sweep.add_argument("--samples", type=_positive_int, metavar="N", help="random draws per grid point")
    sweep.add_argument("--seeds", type=_positive_int, metavar="N", help="train each configuration with seeds 0..N-1")
    sweep.add_argument(
        "--set", type=_assignment, action="append", dest="overrides", metavar="KEY=VALUE", help="set for every trial"
    )
    sweep.add_argument(
        "--metric",
        metavar="COLUMN",
        help="rank trials by this history column's final value: val_accuracy, val_loss, test_accuracy, loss, "
        "... (default test_accuracy; set train.validation for val_ columns)",
    )
    sweep.add_argument(
        "--search",
        choices=("grid", "optuna"),
        help="grid: the grid and random draws (default); optuna: --trials N chosen by Optuna over the --random fields",
    )
    sweep.add_argument("--trials", type=_positive_int, metavar="N", help="how many trials an Optuna search runs")
    sweep.add_argument(
        "--sense", choices=("max", "min"), help="best is the highest or lowest value (default: max for accuracy, r2)"
    )
    sweep.add_argument("--workers", type=_positive_int, default=1, metavar="N", help="trials at once (default 1)")
    sweep.add_argument("--backend", choices=("local", "dask"), default="local", help="joblib processes or Dask")
    sweep.add_argument("--scheduler", metavar="ADDR", help="an existing Dask scheduler, e.g. tcp://host:8786")
    sweep.add_argument(
        "--timeout", type=_positive_float, default=10.0, metavar="S", help="seconds to reach the scheduler"
    )
    sweep.add_argument("--threads", type=_positive_int, metavar="N", help="thread budget the workers share")
    sweep.add_argument("--out", metavar="DIR", help="sweep folder (default: sweeps/<recipe>-<timestamp>)")
    sweep.add_argument("--quiet", action="store_true", help="no progress output")

    commands.add_parser("recipes", help="list the bundled recipes")
    show = commands.add_parser("show", help="print a recipe's resolved spec as TOML")
    show.add_argument("recipe")
    commands.add_parser("plugins", help="list every plugin and the components it registers")
    export = commands.add_parser("export", help="export a run's model (or a model file) to ONNX")
    export.add_argument("model", metavar="RUN_DIR", help="a run folder, or a model .npz file")
    export.add_argument("--format", choices=["onnx"], default="onnx", help="the export format (onnx)")
    export.add_argument("-o", "--output", metavar="FILE", required=True, help="where to write it, e.g. model.onnx")
    export.add_argument("--force", action="store_true", help="replace FILE if it exists (never done otherwise)")
    evaluate = commands.add_parser("evaluate", help="reload a run's model and report its test metrics")
    evaluate.add_argument("run_dir", metavar="RUN_DIR")
    evaluate.add_argument("--data", metavar="D", help="evaluate on this dataset's test split instead")
    new = commands.add_parser(
        "new-plugin", help="write a new plugin distribution: one working component, its kit test, a README"
    )
    new.add_argument("name", metavar="NAME", help="the plugin's and its component's name, e.g. scaled_tanh")
    new.add_argument(
        "--kind", choices=list(SCAFFOLD_KINDS), default="layer", help="what the component is (default: layer)"
    )
    new.add_argument("--dir", dest="folder", metavar="DIR", help="a new folder for it (default: plugnn-NAME)")
    return parser


RUN_OVERRIDES = (
    "recipe",
    "start_from",
    "data",
    "epochs",
    "batch_size",
    "lr",
    "seed",
    "full_train_accuracy",
    "overrides",
    "callbacks",
    "out",
)
"""The ``plugnn run`` flags that choose or change the run: ``--resume`` takes none of them."""

SWEEP_OPTIONS = (
    "samples",
    "seeds",
    "metric",
    "sense",
    "search",
    "trials",
    "workers",
    "backend",
    "scheduler",
    "timeout",
    "threads",
    "out",
)
"""The ``plugnn sweep`` flags passed to :func:`plugnn.sweep` as they were parsed."""


def _options(args: argparse.Namespace, names: Sequence[str]) -> dict[str, Any]:
    """The parsed values of the flags stored as ``names``, by name: keywords of the Python twin."""
    return {name: getattr(args, name) for name in names}


def _flag(dest: str) -> str:
    """How the command line spells the argument stored as ``dest``."""
    flags = {"recipe": "RECIPE", "overrides": "--set", "start_from": "--from", "callbacks": "--callback"}
    return flags.get(dest, "--" + dest.replace("_", "-"))


def _run(args: argparse.Namespace) -> None:
    from plugnn.run import resume, run

    if args.resume is not None:
        given = [_flag(name) for name in RUN_OVERRIDES if getattr(args, name) is not None]
        if given:
            raise PlugnnError(f"--resume continues a run exactly as it was; it takes no {', '.join(given)}")
        result = resume(args.resume, threads=args.threads, quiet=args.quiet)
    else:
        options = _options(args, RUN_OVERRIDES) | {
            "overrides": ({"train.threads": args.threads} if args.threads else {}) | dict(args.overrides or []),
            "callbacks": args.callbacks or (),
        }
        result = run(**options, quiet=args.quiet)
    print(f"test {_metrics(result.test_scores)}; run folder {result.out}")


def _sweep(args: argparse.Namespace) -> None:
    from plugnn.sweeps import describe_best, sweep
    from plugnn.sweeps.spec import grid_values

    result = sweep(
        args.target or "quickstart",
        grid={path: grid_values(value) for path, value in args.grid or []},
        random=dict(args.random or []),
        overrides=dict(args.overrides or []),
        quiet=args.quiet,
        **_options(args, SWEEP_OPTIONS),
    )
    print(describe_best(result))


def _recipes(_args: argparse.Namespace) -> None:
    from plugnn.run import recipe_table

    rows = recipe_table()
    name_width = max(len(name) for name, _, _ in rows)
    data_width = max(len(data) for _, data, _ in rows)
    for name, data, description in rows:
        print(f"{name:<{name_width}}  {data:<{data_width}}  {description}")


def _show(args: argparse.Namespace) -> None:
    from plugnn.run import show

    print(show(args.recipe), end="")


def _plugins(_args: argparse.Namespace) -> None:
    """One line per plugin: its components (a layer nothing can export marked so), then the layers
    it has ONNX converters for: ``dense  plugnn 0.2.0  layer dense; ONNX converters: dense``."""
    from plugnn.plugins import default_registry

    registry = default_registry()
    converters = registry.onnx_converter_plugins
    by_plugin: dict[str, list[str]] = {}
    for component in registry.components():
        missing = " (no ONNX converter)" if component.kind == "layer" and component.name not in converters else ""
        by_plugin.setdefault(component.plugin, []).append(f"{component.kind} {component.name}{missing}")
    for recipe in registry.recipes.values():
        by_plugin.setdefault(recipe.plugin, []).append(f"recipe {recipe.name}")
    exports: dict[str, list[str]] = {}
    for layer, plugin in sorted(converters.items()):
        exports.setdefault(plugin, []).append(layer)
    for info in registry.plugins:
        origin = f"{info.dist} {info.version}" if info.dist else "registered directly"
        parts = [", ".join(by_plugin.get(info.name, []))]
        if info.name in exports:
            parts.append(f"ONNX converters: {', '.join(exports[info.name])}")
        status = f"FAILED: {info.error}" if info.error else "; ".join(p for p in parts if p) or "(no components)"
        if info.replaces:
            status += f" (replaces the built-in {info.replaces}: PLUGNN_REPLACE_PLUGINS)"
        print(f"{info.name:<22} {origin:<20} {status}")
    for error in registry.errors:
        if not any(error == info.error for info in registry.plugins):
            print(f"error: {error}")
    from plugnn.kernels import describe

    print(f"kernels: {describe()}")
    if registry.errors:
        raise PlugnnError(f"{len(registry.errors)} plugin problem(s), listed above")


def _metrics(scores: dict[str, float]) -> str:
    """``accuracy 0.9733`` (a classifier) or ``mae 0.4521, rmse 0.5893, r2 0.4861`` (a regressor)."""
    return ", ".join(f"{name} {value:.4f}" for name, value in scores.items() if name != "loss")


def _evaluate(args: argparse.Namespace) -> None:
    from plugnn.run import test_scores

    print(f"test {_metrics(test_scores(args.run_dir, data=args.data))}")


def _export(args: argparse.Namespace) -> None:
    from plugnn.export import export_onnx, require_onnx
    from plugnn.model_io import load
    from plugnn.plugins import default_registry

    if os.path.lexists(args.output) and not args.force:
        raise PlugnnError(f"{args.output} already exists; plugnn replaces a file only with --force")
    require_onnx()  # before loading anything
    registry = default_registry()
    path = export_onnx(load(args.model, registry), args.output, registry=registry)
    print(f"wrote {path}")


def _new_plugin(args: argparse.Namespace) -> None:
    from plugnn.scaffold import new_plugin

    folder = new_plugin(args.name, kind=args.kind, folder=args.folder)
    print(f'wrote {folder}; then: cd {shlex.quote(str(folder))} && pip install -e ".[test]" && pytest')


COMMANDS = {
    "run": _run,
    "sweep": _sweep,
    "recipes": _recipes,
    "show": _show,
    "plugins": _plugins,
    "evaluate": _evaluate,
    "export": _export,
    "new-plugin": _new_plugin,
}


def _show_one_line(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
    print(f"plugnn: warning: {message}", file=sys.stderr)


def _report_plugin_failures(*, strict: bool) -> None:
    """Build the registry first, so that every command reports each plugin failure on stderr (one line each)."""
    from plugnn.plugins import STRICT_ENV, default_registry

    if strict:
        os.environ[STRICT_ENV] = "1"  # also for the processes this one starts (sweep workers)
        default_registry.cache_clear()
    for error in default_registry().errors:
        print(f"plugnn: warning: {error}", file=sys.stderr)


def _subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]  # type: ignore[no-any-return]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``plugnn`` console script; returns the exit code.

    0 on success, 1 for an error plugnn explains, 2 for a wrong flag, 130 after Ctrl-C.
    """
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # name the subcommand's --help, where its flags are listed
        _subcommand(parser, args.command).error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        env_threads()  # a bad PLUGNN_THREADS is reported before any work
        import plugnn.kernels  # noqa: F401  (and a bad PLUGNN_KERNELS)

        _report_plugin_failures(strict=args.strict)
        with warnings.catch_warnings():
            warnings.showwarning = _show_one_line
            COMMANDS[args.command](args)
    except TrainingInterrupted as exc:
        print(f"plugnn: {exc}", file=sys.stderr)
        return 130
    except (PlugnnError, OSError) as exc:
        print(f"plugnn: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("plugnn: interrupted", file=sys.stderr)
        return 130
    return 0


def command() -> int:
    """The ``plugnn`` console script and ``python -m plugnn``: :func:`main`, then a quick exit.

    Every file is written and closed when ``main`` returns. ``gc.freeze()`` then spares the
    interpreter's final garbage collections over the million-odd objects scikit-learn, SciPy and
    matplotlib leave behind, which take 0.2-0.3 s at exit (atexit handlers and stream flushes still
    run). Not part of ``main``, which tests and other programs call in their own process.
    """
    code = main()
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(command())
