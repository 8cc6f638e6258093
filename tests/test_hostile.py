"""A catalogue of hostile inputs and faults, as an attacker or a careless user would try them.

Every case runs the real command line in-process (:func:`plugnn.cli.main`) or the Python API and
asserts the exit status (or exception), a one-line message without a traceback, and that nothing
outside the run folder under test changed (a snapshot of the whole temporary tree before and
after). Classes: spec files, hyper-parameters, command-line values, IDX data, in-memory data,
run folders (links, locks, races), resume mismatches, crafted model/checkpoint files, divergence,
plots, one-byte mutants of every file kind plugnn writes, sizes and caps (sweeps, workers, memory
limits), files replaced or nested, unknown stored fields, input scale. Every reader of user files
is also fuzzed with hypothesis.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from idx_files import idx_bytes, write_idx_folder
from plugnn_std import EarlyStopping, ReduceLROnPlateau
from spec_files import spec_toml

import plugnn
from plugnn.checkpoint import load_checkpoint
from plugnn.cli import main
from plugnn.errors import DataError, PlugnnError, SpecError
from plugnn.fingerprint import FINGERPRINT
from plugnn.fingerprint import digest as fingerprint_digest
from plugnn.history import read_history
from plugnn.idx import read_idx
from plugnn.npzfile import CorruptFileError, read_npz, write_npz
from plugnn.overrides import parse_value
from plugnn.runfolder import LOCK_NAME, SWEEP_FILE, locked
from plugnn.specfile import load_spec, parse_file
from plugnn.sweeps.runner import _check_folder as check_sweep_folder
from plugnn.sweeps.spec import SweepSpec, load_sweep_file
from plugnn.threads import available_cores

TINY = spec_toml("a tiny network")


# ----------------------------------------------------------------------------------------------
# the harness: a sandbox, a snapshot of it, and the one assertion every case makes


def snapshot(root: Path, skip: Path | None = None) -> dict[str, tuple[str, str]]:
    """Every entry under ``root`` (but ``skip``): its kind and its content's digest or link target."""
    state = {}
    for path in sorted(root.rglob("*")):
        if skip is not None and (path == skip or skip in path.parents):
            continue
        key = str(path.relative_to(root))
        if path.is_symlink():
            state[key] = ("link", os.readlink(path))
        elif path.is_file():
            state[key] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
        elif path.is_dir():
            state[key] = ("dir", "")
        else:
            state[key] = ("special", "")
    return state


@pytest.fixture
def sandbox(tmp_path, monkeypatch) -> Path:
    """A working folder with a file outside any run folder that no case may touch."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "victim.txt").write_text("precious\n")
    (tmp_path / "tiny.toml").write_text(TINY)
    return tmp_path


def cli(
    capsys, root: Path, argv: list[str], code: int, message: str, run_folder: Path | None = None
) -> tuple[str, str]:
    """Run ``plugnn argv``; check the exit code, one error line matching ``message``, an untouched tree."""
    before = snapshot(root, run_folder)
    try:
        got = main(argv)
    except SystemExit as exit:  # argparse's own errors
        got = exit.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if not line.startswith("plugnn: warning:")]
    assert got == code, (got, err)
    if code:
        assert len(errors) == 1, err
        assert re.search(message, errors[0]), errors[0]
    assert snapshot(root, run_folder) == before
    return out, err


def raises_one_line(call: Callable[[], object], kind: type[Exception], message: str) -> None:
    with pytest.raises(kind) as caught:
        call()
    assert "\n" not in str(caught.value)
    assert re.search(message, str(caught.value)), str(caught.value)


# ----------------------------------------------------------------------------------------------
# spec files: hyper-parameters out of range, not finite, or of the wrong type

BAD_VALUES = [
    ("network.optimizer", '{type = "adam", lr = inf}', r"lr: must be a finite number \(got inf\)"),
    ("network.optimizer", '{type = "adam", lr = nan}', r"lr: must be a finite number \(got nan\)"),
    ("network.optimizer", '{type = "adam", lr = -inf}', r"lr: must be a finite number"),
    ("network.optimizer", '{type = "adam", lr = 0}', r"lr: must be > 0 \(got 0"),
    ("network.optimizer", '{type = "adam", lr = -0.1}', r"lr: must be > 0"),
    ("network.optimizer", '{type = "adam", lr = "fast"}', r"lr"),
    ("network.optimizer", '{type = "adam", eps = inf}', r"eps: must be a finite number"),
    ("network.optimizer", '{type = "adam", eps = 0}', r"eps: must be > 0"),
    ("network.optimizer", '{type = "adam", eps = -1e-8}', r"eps: must be > 0"),
    ("network.optimizer", '{type = "adam", beta1 = 1.0}', r"beta1: must be in \[0.0, 1.0\)"),
    ("network.optimizer", '{type = "adam", beta1 = -0.1}', r"beta1: must be in"),
    ("network.optimizer", '{type = "adam", beta2 = 1}', r"beta2: must be in"),
    ("network.optimizer", '{type = "adam", beta2 = nan}', r"beta2: must be a finite number"),
    ("network.optimizer", '{type = "adam", beta1 = inf}', r"beta1: must be a finite number"),
    ("network.optimizer", '{type = "sgd", lr = inf}', r"lr: must be a finite number"),
    ("network.optimizer", '{type = "sgd", lr = 1e400}', r"lr: must be a finite number"),
    ("network.optimizer", '{type = "sgd", lr = 0.0}', r"lr: must be > 0"),
    ("network.optimizer", '{type = "momentum", momentum = 1.0}', r"momentum: must be in"),
    ("network.optimizer", '{type = "momentum", lr = inf}', r"lr: must be a finite number"),
    ("network.optimizer", '{type = "rmsprop", rho = 1.5}', r"rho: must be in"),
    ("network.optimizer", '{type = "rmsprop", eps = nan}', r"eps: must be a finite number"),
    ("network.optimizer", '{type = "adamw", weight_decay = inf}', r"weight_decay: must be a finite number"),
    ("network.optimizer", '{type = "adamw", weight_decay = -1}', r"weight_decay: must be >= 0"),
    ("network.init", '{type = "normal", std = inf}', r"std: must be a finite number"),
    ("network.init", '{type = "normal", std = 0}', r"std: must be > 0"),
    ("network.layers", '[{type = "dense", units = 0}]', r"units: must be > 0"),
    ("network.layers", '[{type = "dense", units = -5}]', r"units: must be > 0"),
    ("network.layers", '[{type = "dense", units = 1000000000}]', r"units: must be <= 1,048,576"),
    ("network.layers", '[{type = "dense", units = 2097152}]', r"units: must be <= 1,048,576"),
    ("network.layers", '[{type = "dense", units = 8.5}]', r"units"),
    ("network.layers", '[{type = "dense", units = "8"}]', r"units"),
    ("network.layers", '[{type = "dense", units = true}]', r"units"),
    ("network.layers", '[{type = "dropout", rate = 1.0}, {type = "dense", units = 10}]', r"rate: must be in"),
    ("network.layers", '[{type = "dropout", rate = -0.5}, {type = "dense", units = 10}]', r"rate: must be in"),
    ("network.layers", '[{type = "dropout", rate = nan}, {type = "dense", units = 10}]', r"rate: must be a finite"),
    ("network.layers", '[{type = "leaky_relu", slope = inf}, {type = "dense", units = 10}]', r"slope: must be a fin"),
    ("network.layers", "[]", r"layers"),
    ("train.epochs", "0", r"epochs: must be > 0"),
    ("train.epochs", "-3", r"epochs: must be > 0"),
    ("train.epochs", "2.5", r"epochs"),
    ("train.batch_size", "0", r"batch_size: must be > 0"),
    (
        "train.epochs",
        "1000001",
        r"train.epochs: must be <= 1,000,000 \(plugnn.validators.MAX_EPOCHS; to train until it stops improving, use ea",
    ),
    ("train.epochs", "9223372036854775807", r"train.epochs: must be <= 1,000,000 .*\(got 9223372036854775807\)"),
    ("train.batch_size", "16777217", r"train.batch_size: must be <= 16,777,216 \(plugnn.validators.MAX_BATCH_SIZE\)"),
    ("train.batch_size", "9223372036854775807", r"train.batch_size: must be <= 16,777,216"),
    ("train.seed", "-1", r"seed: must be >= 0"),
    ("train.dtype", '"float16"', r"dtype: must be one of"),
    ("train.checkpoint_every", "-1", r"checkpoint_every: must be >= 0"),
]


def _spec_with(path: str, value: str) -> str:
    section, key = path.split(".")
    lines = TINY.splitlines()
    header = f"[{section}]"
    start = lines.index(header)
    for index in range(start + 1, len(lines)):
        if lines[index].startswith(f"{key} ="):
            lines[index] = f"{key} = {value}"
            return "\n".join(lines) + "\n"
    lines.insert(start + 1, f"{key} = {value}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("path", "value", "message"), BAD_VALUES, ids=[f"{p}={v}" for p, v, _ in BAD_VALUES])
def test_bad_hyper_parameters_are_refused_before_any_work(sandbox, capsys, path, value, message) -> None:
    (sandbox / "bad.toml").write_text(_spec_with(path, value))
    cli(capsys, sandbox, ["run", "bad.toml", "--quiet", "--out", "run"], 1, message)
    assert not (sandbox / "run").exists()


# ----------------------------------------------------------------------------------------------
# spec files: the file itself is hostile

DEEP = 200


def _special(sandbox: Path, name: str, kind: str) -> None:
    path = sandbox / name
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    elif kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "dangling":
        path.symlink_to(sandbox / "nowhere.toml")


HOSTILE_SPEC_FILES: list[tuple[str, bytes | str, str]] = [
    ("latin1.toml", TINY.replace("a tiny", "ein kleines Netz für").encode("latin-1"), r"not UTF-8 text \(byte 0xfc"),
    ("utf16.toml", TINY.encode("utf-16"), r"not UTF-8 text"),
    ("binary.toml", bytes(range(256)), r"not UTF-8 text|not valid TOML"),
    ("empty.toml", b'data = "digits"', r"network: required field missing"),
    ("nul.toml", b"\x00" * 64, r"not valid TOML"),
    ("deep-arrays.toml", "x = " + "[" * DEEP + "]" * DEEP + "\n", r"nested more than 32 levels deep"),
    ("deep-tables.toml", "x = " + "{a = " * DEEP + "1" + "}" * DEEP + "\n", r"nested more than 32 levels deep"),
    ("deep-keys.toml", "[" + ".".join(["a"] * 100) + "]\nb = 1\n", r"nested more than 32 levels deep"),
    ("deep.json", "[" * 100000 + "]" * 100000, r"nested more than 32 levels deep"),
    ("deep-objects.json", '{"a":' * 5000 + "1" + "}" * 5000, r"nested more than 32 levels deep"),
    ("latin1.json", b'{"description": "\xe9"}', r"not UTF-8 text \(byte 0xe9"),
    ("bad.json", "{", r"not valid JSON"),
    ("list.json", "[1, 2, 3]", r"invalid spec"),
    ("string.json", '"quickstart"', r"invalid spec"),
    ("huge.toml", "# " + "x" * (1 << 21) + "\n", r"more than the 1048576 plugnn reads"),
    ("dup.toml", TINY + "\n[train]\nepochs = 3\n", r"not valid TOML"),
    ("unknown.toml", TINY + "surprise = 1\n", r"unknown key"),
]


@pytest.mark.parametrize(("name", "content", "message"), HOSTILE_SPEC_FILES, ids=[c[0] for c in HOSTILE_SPEC_FILES])
def test_hostile_spec_files(sandbox, capsys, name, content, message) -> None:
    data = content.encode() if isinstance(content, str) else content
    (sandbox / name).write_bytes(data)
    cli(capsys, sandbox, ["run", name, "--quiet", "--out", "run"], 1, message)
    cli(capsys, sandbox, ["show", name], 1, message)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("fifo", r"is a FIFO \(named pipe\), not a file"),
        ("dir", r"is a folder, not a file"),
        ("device", r"is a character device, not a file"),
        ("dangling", r"no such file"),
    ],
)
@pytest.mark.parametrize("command", ["run", "show"])
def test_special_files_as_spec_never_hang(sandbox, capsys, kind, message, command) -> None:
    _special(sandbox, "special.toml", kind)
    extra = ["--quiet", "--out", "run"] if command == "run" else []
    cli(capsys, sandbox, [command, "special.toml", *extra], 1, message)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300), suffix=st.sampled_from([".toml", ".json"]))
def test_spec_parser_fuzz_never_raises_anything_but_spec_errors(tmp_path, text, suffix) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_text(text, encoding="utf-8")
    try:
        parse_file(path)
    except plugnn.SpecError as error:
        assert "\n" not in str(error)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(1, 3000), opener=st.sampled_from(["[", "{a = ", '{"a": ']))
def test_any_nesting_depth_is_parsed_or_refused(tmp_path, depth, opener) -> None:
    suffix = ".json" if opener.startswith('{"') else ".toml"
    closer = {"[": "]", "{a = ": "}", '{"a": ': "}"}[opener]
    body = opener * depth + "1" + closer * depth
    path = tmp_path / f"nest{suffix}"
    path.write_text(("x = " + body) if suffix == ".toml" else body)
    try:
        parse_file(path)
    except plugnn.SpecError as error:
        assert depth > 30 or "nested" not in str(error)


# ----------------------------------------------------------------------------------------------
# the command line's own values

CLI_CASES = [
    (["run", "", "--quiet"], 1, r"an empty recipe name"),
    (["run", "  ", "--quiet"], 1, r"an empty recipe name"),
    (["run", "quickstrat", "--quiet"], 1, r"unknown recipe"),
    (["run", "tiny.toml", "--epochs", "0"], 2, r"--epochs: expected a positive integer"),
    (["run", "tiny.toml", "--epochs", "1e9"], 2, r"--epochs"),
    (["run", "tiny.toml", "--batch-size", "-1"], 2, r"--batch-size"),
    (["run", "tiny.toml", "--epochs", "10000000", "--quiet"], 1, r"train.epochs: must be <= 1,000,000"),
    (["run", "tiny.toml", "--batch-size", "99999999999", "--quiet"], 1, r"train.batch_size: must be <= 16,777,216"),
    (["run", "tiny.toml", "--set", "train.epochs=2000000", "--quiet"], 1, r"train.epochs: must be <= 1,000,000"),
    (["run", "tiny.toml", "--lr", "inf"], 2, r"--lr: expected a positive number"),
    (["run", "tiny.toml", "--lr", "nan"], 2, r"--lr: expected a positive number"),
    (["run", "tiny.toml", "--lr", "-1"], 2, r"--lr"),
    (["run", "tiny.toml", "--seed", "-1"], 2, r"--seed"),
    (["run", "tiny.toml", "--data", ":x"], 1, r"expected NAME or NAME:PATH"),
    (["run", "tiny.toml", "--data", "nosuch", "--quiet"], 1, r"unknown dataset"),
    (["run", "tiny.toml", "--data", "idx:missing", "--quiet"], 1, r"missing: no such folder"),
    (["run", "tiny.toml", "--data", "idx:", "--quiet"], 1, r"path"),
    (["run", "--resume", "nowhere"], 1, r"nowhere: no such run folder"),
    (["run", "--resume", "outside"], 1, r"outside: no checkpoint.npz to resume from"),
    (["run", "--resume", "outside/victim.txt"], 1, r"no such run folder"),
    (["run", "--resume", "outside", "--epochs", "3"], 1, r"--resume continues a run exactly as it was"),
    (["run", "tiny.toml", "--quiet", "--out", "outside"], 1, r"already exists and is not empty"),
    (["run", "tiny.toml", "--quiet", "--out", "outside/victim.txt"], 1, r"exists and is not a folder"),
    (["run", "tiny.toml", "--quiet", "--out", "tiny.toml"], 1, r"exists and is not a folder"),
    (["evaluate", "nowhere"], 1, r"nowhere/model.npz: no such file"),
    (["evaluate", "outside"], 1, r"outside/model.npz: no such file"),
    (["show", ""], 1, r"an empty recipe name"),
    (["show", "nosuch.toml"], 1, r"no such file"),
]


@pytest.mark.parametrize(("argv", "code", "message"), CLI_CASES, ids=[" ".join(a) or "empty" for a, _, _ in CLI_CASES])
def test_command_line_values(sandbox, capsys, argv, code, message) -> None:
    cli(capsys, sandbox, argv, code, message)


# ----------------------------------------------------------------------------------------------
# IDX data: headers that lie, bombs, damage, special files


def _idx_case(folder: Path, name: str, data: bytes) -> None:
    write_idx_folder(folder, gz=False)
    (folder / name).write_bytes(data)


IMAGES = "train-images-idx3-ubyte"
LABELS = "train-labels-idx1-ubyte"
HUGE = bytes([0, 0, 8, 3]) + np.array([60000, 28000, 28000], dtype=">u4").tobytes()
IDX_CASES: list[tuple[str, str, bytes, str]] = [
    ("bad-magic", IMAGES, b"\x12\x34\x08\x03" + bytes(20), r"not an IDX file \(bad magic number 12340803\)"),
    ("empty-file", IMAGES, b"", r"not an IDX file \(bad magic number empty\)"),
    ("float-type", IMAGES, bytes([0, 0, 0x0D, 3]) + bytes(12), r"IDX data type 0x0d is not supported"),
    ("wrong-ndim", IMAGES, bytes([0, 0, 8, 2]) + bytes(8), r"expected 3 dimension\(s\), the header says 2"),
    ("short-header", IMAGES, bytes([0, 0, 8, 3, 0, 0]), r"truncated header"),
    ("huge-dims", IMAGES, HUGE, r"header promises shape \(60000, 28000, 28000\) .* but the file has 16 bytes"),
    ("max-dims", IMAGES, bytes([0, 0, 8, 3]) + b"\xff" * 12, r"header promises shape \(4294967295,"),
    ("truncated", IMAGES, idx_bytes(np.zeros((60, 6, 6)))[:-5], r"but the file has"),
    ("trailing", IMAGES, idx_bytes(np.zeros((60, 6, 6))) + b"x", r"but the file has"),
    ("count-mismatch", LABELS, idx_bytes(np.zeros(59)), r"60 train images but 59 train labels"),
    ("zero-samples", IMAGES, idx_bytes(np.zeros((0, 6, 6))), r"images but 60 train labels"),
]


@pytest.mark.parametrize(("case", "name", "data", "message"), IDX_CASES, ids=[c[0] for c in IDX_CASES])
def test_lying_idx_files(sandbox, capsys, case, name, data, message) -> None:
    _idx_case(sandbox / "data", name, data)
    cli(capsys, sandbox, ["run", "tiny.toml", "--data", "idx:data", "--quiet", "--out", "run"], 1, message)
    assert not (sandbox / "run").exists()


def _gz(data: bytes) -> bytes:
    return gzip.compress(data)


GZ_CASES: list[tuple[str, bytes, str]] = [
    ("gzip-bomb-header", _gz(HUGE + bytes(1000)), r"gzip file decodes to at most about"),
    ("gzip-claims-more", _gz(bytes([0, 0, 8, 3]) + np.array([10**6, 28, 28], ">u4").tobytes()), r"decodes to at most"),
    ("gzip-garbage", b"\x1f\x8b\x08\x00" + bytes(range(60)), r"cannot be read, truncated or damaged"),
    (
        "gzip-corrupt-deflate",
        _gz(idx_bytes(np.zeros((60, 6, 6))))[:12] + b"\xff" * 40,
        r"truncated or damaged|not an IDX file",
    ),
    ("gzip-truncated", _gz(idx_bytes(np.ones((60, 6, 6))))[:-12], r"truncated or damaged|but the file has"),
    ("not-gzip", idx_bytes(np.zeros((60, 6, 6))), r"truncated or damaged"),
    ("gzip-trailing", _gz(idx_bytes(np.zeros((60, 6, 6))) + bytes(3)), r"but the file has more than"),
]


@pytest.mark.parametrize(("case", "data", "message"), GZ_CASES, ids=[c[0] for c in GZ_CASES])
def test_hostile_gzip_idx(sandbox, capsys, case, data, message) -> None:
    folder = write_idx_folder(sandbox / "data", gz=True)
    (folder / f"{IMAGES}.gz").write_bytes(data)
    cli(capsys, sandbox, ["run", "tiny.toml", "--data", "idx:data", "--quiet", "--out", "run"], 1, message)


@pytest.mark.parametrize(
    ("kind", "message"),
    [("fifo", r"is a FIFO"), ("dir", r"is a folder, not a file"), ("device", r"is a character device")],
)
def test_special_files_as_idx_data_never_hang(sandbox, capsys, kind, message) -> None:
    folder = write_idx_folder(sandbox / "data", gz=False)
    (folder / IMAGES).unlink()
    _special(folder, IMAGES, kind)
    cli(capsys, sandbox, ["run", "tiny.toml", "--data", "idx:data", "--quiet", "--out", "run"], 1, message)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    head=st.binary(min_size=0, max_size=16),
    dims=st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=4),
    body=st.binary(max_size=64),
    gz=st.booleans(),
)
def test_idx_reader_fuzz(tmp_path, head, dims, body, gz) -> None:
    data = head[:4] + np.array(dims, dtype=">u4").tobytes() + body
    path = tmp_path / ("f.gz" if gz else "f")
    path.write_bytes(gzip.compress(data) if gz else data)
    try:
        array = read_idx(path, 3)
    except DataError as error:
        assert "\n" not in str(error)
    else:
        assert array.dtype == np.uint8 and array.ndim == 3


# ----------------------------------------------------------------------------------------------
# data handed to the Python API


@pytest.fixture(scope="module")
def small_spec() -> plugnn.NetworkSpec:
    return plugnn.structure(
        {"layers": [{"type": "dense", "units": 3}], "loss": "softmax_cross_entropy", "optimizer": "sgd", "init": "he"},
        plugnn.NetworkSpec,
        plugnn.load_registry(strict=True, third_party=False),
    )


X4 = np.random.default_rng(0).random((12, 4)).astype(np.float32)
Y4 = np.arange(12) % 3
API_CASES = [
    ("complex", X4 + 1j, Y4, None, r"X: complex values"),
    ("ragged", [[0.1, 0.2], [0.3]], [0, 1], None, r"X: not a rectangular array"),
    ("empty", np.zeros((0, 4)), np.zeros(0, int), None, r"X: expected a 2-D array|no samples"),
    ("empty-rows", np.zeros((0, 4), np.float32), np.zeros(0, int), None, r"no samples"),
    ("1-d", np.zeros(4), Y4[:4], None, r"expected an array of samples"),
    ("0-d", np.float32(3), Y4[:1], None, r"expected an array of samples"),
    ("strings", np.array([["a"] * 4] * 12), Y4, None, r"expected numbers"),
    ("objects", np.array([[object()] * 4] * 12), Y4, None, r"expected numbers"),
    ("nan", np.where(X4 > 0.9, np.nan, X4), Y4, None, r"holds NaN or Inf"),
    ("inf", np.where(X4 > 0.9, np.inf, X4), Y4, None, r"holds NaN or Inf"),
    ("labels-2d", X4, Y4[:, None], None, r"y: expected a 1-D array"),
    ("labels-ragged", X4, [[0], [1, 2]] * 6, None, r"y: not a 1-D array|y: expected"),
    ("labels-short", X4, Y4[:5], None, r"5 labels for 12 samples"),
    ("labels-negative", X4, Y4 - 1, None, r"labels must lie in \[0, 3\)"),
    ("labels-too-big", X4, Y4 + 5, None, r"labels must lie in"),
    ("labels-float", X4, Y4 + 0.5, None, r"expected integer class indices"),
    ("labels-complex", X4, Y4 + 1j, None, r"expected integer class indices"),
    ("test-1-tuple", X4, Y4, (X4,), r"test: expected a pair \(X_test, y_test\), got a tuple of length 1"),
    ("test-3-tuple", X4, Y4, (X4, Y4, Y4), r"test: expected a pair"),
    ("test-array", X4, Y4, "X4", r"test: expected a pair"),
    ("test-wrong-width", X4, Y4, (X4[:, :3], Y4), r"test X: the network expects 4 features"),
    ("test-complex", X4, Y4, (X4 + 1j, Y4), r"test X: complex values"),
    ("test-empty", X4, Y4, (X4[:0], Y4[:0]), r"test X: no samples"),
]


@pytest.mark.parametrize(("case", "x", "y", "test", "message"), API_CASES, ids=[c[0] for c in API_CASES])
def test_bad_data_through_the_python_api(small_spec, case, x, y, test, message) -> None:
    test = X4 if test == "X4" else test
    one_epoch = plugnn.TrainSpec(epochs=1, batch_size=4)
    raises_one_line(lambda: plugnn.train(small_spec, x, y, one_epoch, test=test), DataError, message)


def test_float_pixels_0_to_255_warn(small_spec) -> None:
    pixels = np.floor(X4 * 255)
    message = r"X looks like unscaled pixels \(integer values in \[\d+, \d+\], dtype float32\)"
    with pytest.warns(UserWarning, match=message):
        plugnn.train(small_spec, pixels, Y4, plugnn.TrainSpec(epochs=1, batch_size=4))


def test_scaled_floats_do_not_warn(small_spec, recwarn) -> None:
    plugnn.train(small_spec, X4, Y4, plugnn.TrainSpec(epochs=1, batch_size=4))
    assert not [w for w in recwarn if "unscaled" in str(w.message)]


def test_a_layer_too_large_for_memory_is_refused_before_allocating(small_spec) -> None:
    wide = plugnn.structure(
        {
            "layers": [{"type": "dense", "units": 1 << 20}],
            "loss": "softmax_cross_entropy",
            "optimizer": "sgd",
            "init": "he",
        },
        plugnn.NetworkSpec,
        registry := plugnn.load_registry(strict=True, third_party=False),
    )
    message = r"needs .* GiB but only .* available"
    raises_one_line(lambda: plugnn.build_network(wide, 1 << 20, registry=registry), PlugnnError, message)


# ----------------------------------------------------------------------------------------------
# run folders: one small finished run, copied for each case

OUTPUTS = ("history.json", "history.csv", "model.npz", "curves.png", "samples.png", "confusion.png")


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished run of the tiny spec on digits (2 epochs), made once."""
    root = tmp_path_factory.mktemp("base")
    (root / "tiny.toml").write_text(TINY)
    plugnn.run(root / "tiny.toml", out=root / "run", quiet=True)
    return root / "run"


@pytest.fixture
def run_copy(sandbox, finished) -> Path:
    shutil.copytree(finished, sandbox / "run", symlinks=True)
    return sandbox / "run"


def test_a_finished_run_leaves_no_lock_file(finished) -> None:
    assert (finished / "history.json").is_file() and not (finished / LOCK_NAME).exists()


@pytest.mark.parametrize("name", [*OUTPUTS, LOCK_NAME])
def test_a_planted_link_is_never_written_through(sandbox, capsys, run_copy, name) -> None:
    for output in OUTPUTS:
        (run_copy / output).unlink()
    (run_copy / name).unlink(missing_ok=True)
    (run_copy / name).symlink_to(sandbox / "outside" / "victim.txt")
    cli(capsys, sandbox, ["run", "--resume", "run"], 1, rf"run/{re.escape(name)}: is a symbolic link", run_copy)
    assert (sandbox / "outside" / "victim.txt").read_text() == "precious\n"


def test_a_planted_link_in_a_new_out_folder_makes_it_not_empty(sandbox, capsys) -> None:
    (sandbox / "new").mkdir()
    (sandbox / "new" / "history.json").symlink_to(sandbox / "outside" / "victim.txt")
    cli(capsys, sandbox, ["run", "tiny.toml", "--quiet", "--out", "new"], 1, r"already exists and is not empty")


def test_a_stale_temporary_link_is_removed_not_followed(sandbox, capsys, run_copy) -> None:
    (run_copy / "curves.png").unlink()
    (run_copy / ".curves.png.0123456789ab.tmp").symlink_to(sandbox / "outside" / "victim.txt")
    (run_copy / ".model.npz.ba9876543210.tmp").write_bytes(b"half a file")
    cli(capsys, sandbox, ["run", "--resume", "run", "--quiet"], 0, "", run_copy)
    assert (run_copy / "curves.png").is_file() and not list(run_copy.glob(".*.tmp"))
    assert not (run_copy / LOCK_NAME).exists()  # the resumed run, finished, leaves no lock file
    assert (sandbox / "outside" / "victim.txt").read_text() == "precious\n"


@pytest.mark.parametrize("command", ["resume", "new-run"])
def test_a_locked_folder_is_refused_with_the_holders_pid(sandbox, capsys, run_copy, command) -> None:
    folder = run_copy if command == "resume" else sandbox / "empty"
    folder.mkdir(exist_ok=True)
    argv = ["run", "--resume", str(folder)] if command == "resume" else ["run", "tiny.toml", "--out", str(folder)]
    with locked(folder):
        cli(capsys, sandbox, argv, 1, rf"in use by another plugnn process \(pid {os.getpid()}\)", folder)


# ----------------------------------------------------------------------------------------------
# resume: the folder no longer matches the run that was started in it


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


RESUME_CASES: list[tuple[str, Callable[[Path], None], str]] = [
    (
        "spec-edited",
        lambda r: _edit(r / "spec.toml", "epochs = 2", "epochs = 3"),
        r"spec.toml: edited since the run "
        r"started \(train.epochs: 2 -> 3\)",
    ),
    (
        "spec-lr-edited",
        lambda r: _edit(r / "spec.toml", "lr = 0.01", "lr = 0.02"),
        r"network.optimizer.lr: 0.01 -> 0.02",
    ),
    ("spec-comment", lambda r: _edit(r / "spec.toml", "[train]", "# hi\n[train]"), r"edited .*no field differs"),
    ("spec-broken", lambda r: _edit(r / "spec.toml", "[train]", "[train"), r"edited .*it no longer reads as a spec"),
    ("spec-missing", lambda r: (r / "spec.toml").unlink(), r"spec.toml: missing"),
    ("spec-latin1", lambda r: (r / "spec.toml").write_bytes(b"\xe9"), r"spec.toml: not UTF-8"),
    ("spec-fifo", lambda r: ((r / "spec.toml").unlink(), os.mkfifo(r / "spec.toml")), r"spec.toml: is a FIFO"),
    ("fingerprint-json", lambda r: (r / "fingerprint.json").write_text("{"), r"fingerprint.json: cannot be read"),
    ("fingerprint-list", lambda r: (r / "fingerprint.json").write_text("[]"), r"not a plugnn fingerprint"),
    ("fingerprint-deep", lambda r: (r / "fingerprint.json").write_text("[" * 999 + "]" * 999), r"nested more than"),
    ("fingerprint-dir", lambda r: ((r / "fingerprint.json").unlink(), (r / "fingerprint.json").mkdir()), r"a folder"),
    ("nothing-to-resume", lambda r: [(r / n).unlink() for n in ("checkpoint.npz", "spec.toml")], r"no checkpoint.npz"),
    ("checkpoint-text", lambda r: (r / "checkpoint.npz").write_text("hi"), r"not a readable .npz file"),
    ("checkpoint-empty", lambda r: (r / "checkpoint.npz").write_bytes(b""), r"not a readable .npz file"),
    ("checkpoint-model", lambda r: shutil.copy(r / "model.npz", r / "checkpoint.npz"), r"not a plugnn checkpoint file"),
    ("checkpoint-flipped", lambda r: _flip(r / "checkpoint.npz"), r"checksum mismatch|not a readable|claims shape"),
    ("finished", lambda r: None, r"the run already finished its 2 epochs; nothing to resume"),
]


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("case", "damage", "message"), RESUME_CASES, ids=[c[0] for c in RESUME_CASES])
def test_resume_refuses_a_folder_that_changed(sandbox, capsys, run_copy, case, damage, message) -> None:
    damage(run_copy)
    cli(capsys, sandbox, ["run", "--resume", "run"], 1, message, run_copy)


def test_a_checkpoint_of_another_run_is_refused(sandbox, capsys, run_copy) -> None:
    plugnn.run(sandbox / "tiny.toml", seed=1, epochs=1, out=sandbox / "other", quiet=True)
    shutil.copy(sandbox / "other" / "checkpoint.npz", run_copy / "checkpoint.npz")
    message = r"checkpoint.npz: belongs to another run \(train.epochs: 2 -> 1; train.seed: 0 -> 1\)"
    cli(capsys, sandbox, ["run", "--resume", "run"], 1, message, run_copy)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda f: (f / IMAGES).write_bytes(idx_bytes(np.full((60, 6, 6), 7))),
            r"x_train sha256 [0-9a-f]{12}\.\.\. ->",
        ),
        (lambda f: (f / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(20))), r"y_test sha256"),
        (lambda f: write_idx_folder(f, n_train=50, gz=False), r"x_train shape \[60, 6, 6, 1\] -> \[50, 6, 6, 1\]"),
    ],
    ids=["images", "labels", "count"],
)
def test_resume_refuses_changed_data(sandbox, capsys, change, message) -> None:
    folder = write_idx_folder(sandbox / "data", gz=False)
    plugnn.run(sandbox / "tiny.toml", data="idx:data", epochs=1, batch_size=16, out=sandbox / "run", quiet=True)
    change(folder)
    cli(capsys, sandbox, ["run", "--resume", "run"], 1, rf"the data changed since the run started \(.*{message}")


# ----------------------------------------------------------------------------------------------
# crafted files: a valid checksum over wrong contents


CraftedCases = list[tuple[str, dict[str, object], tuple[str, ...], str]]
"""Rows ``(case, changes, drop, message)``: a saved file with the arrays ``drop`` removed and ``changes`` set, and
the error it must give."""


def _rewrite(path: Path, kind: str, drop: tuple[str, ...] = (), **changes: np.ndarray) -> None:
    arrays = {k: v for k, v in read_npz(path, kind).items() if k not in drop} | changes
    write_npz(path, kind, arrays)


def crafted_cases(table: CraftedCases) -> pytest.MarkDecorator:
    """Parametrize a test by rows ``(case, changes, drop, message)`` of damaged saved files, each named by its case."""
    return pytest.mark.parametrize(("case", "changes", "drop", "message"), table, ids=[row[0] for row in table])


def _crafted_model(sandbox: Path, saved: Path, drop: tuple[str, ...], changes: dict[str, np.ndarray]) -> Path:
    """``sandbox/model.npz``: the model file ``saved`` with the arrays ``drop`` removed and ``changes`` set."""
    path = sandbox / "model.npz"
    shutil.copy(saved, path)
    _rewrite(path, "model", drop, **changes)
    return path


def _state(path: Path) -> dict[str, np.ndarray]:
    return read_npz(path, "checkpoint")


ADAM = r"like the state of adam for these parameters"
OPTIMIZER_DAMAGE: CraftedCases = [
    (
        "t-shape",
        {"optimizer/t": np.zeros(3, np.int64)},
        (),
        rf"'optimizer/t' should be shape \(\) int64 {ADAM}, got sh",
    ),
    (
        "t-float",
        {"optimizer/t": np.array(2.0)},
        (),
        r"'optimizer/t' should be shape \(\) int64 .*got shape \(\) float64",
    ),
    ("t-negative", {"optimizer/t": np.array(-5, np.int64)}, (), r"the optimizer state does not fit .*count >= 0"),
    (
        "m-missing",
        {},
        ("optimizer/m.0",),
        r"the optimizer state does not match the state of adam .*\(missing 'optimizer/m.0'\)",
    ),
    (
        "all-missing",
        {},
        ("optimizer/t", "optimizer/m.0", "optimizer/v.0"),
        r"the optimizer state does not match .*\(missing 'optimizer/m.0', 'optimizer/t', 'optimizer/v.0'\)",
    ),
    (
        "a-second-parameter",
        {"optimizer/m.1": np.zeros(610, np.float32), "optimizer/v.1": np.zeros(610, np.float32)},
        (),
        r"the optimizer state does not match .*\(unexpected 'optimizer/m.1', 'optimizer/v.1'\)",
    ),
    (
        "foreign-buffer",
        {"optimizer/velocity.0": np.zeros(610, np.float32)},
        (),
        r"the optimizer state does not match .*unexpected 'optimizer/velocity.0'",
    ),
    (
        "m-short",
        {"optimizer/m.0": np.zeros(512, np.float32)},
        (),
        rf"'optimizer/m.0' should be shape \(610,\) float32 {ADAM}, got shape \(512,\) float32",
    ),
    ("v-2d", {"optimizer/v.0": np.zeros((61, 10), np.float32)}, (), r"'optimizer/v.0' should be .*\(61, 10\)"),
    ("m-float64", {"optimizer/m.0": np.zeros(610)}, (), r"'optimizer/m.0' should be .* got shape \(610,\) float64"),
    ("v-int", {"optimizer/v.0": np.zeros(610, np.int32)}, (), r"'optimizer/v.0' should be .* got shape \(610,\) int32"),
    ("v-bool", {"optimizer/v.0": np.zeros(610, bool)}, (), r"'optimizer/v.0' should be"),
    ("m-nan", {"optimizer/m.0": np.full(610, np.nan, np.float32)}, (), r"'optimizer/m.0' .*holds NaN or Inf"),
    ("v-inf", {"optimizer/v.0": np.full(610, np.inf, np.float32)}, (), r"'optimizer/v.0' .*holds NaN or Inf"),
]
"""Optimizer states that do not fit the tiny network's 610 parameters, as checkpoints and model files hold them."""

CRAFTED_CHECKPOINTS: CraftedCases = [
    ("unknown-array", {"evil": np.zeros(3)}, (), r"checkpoint.npz: unknown array\(s\) 'evil'; it may hold "),
    ("generators-extra", {"generators": np.array('{"shuffle": {}, "noise": {}, "x": 1}')}, (), r"unknown key\(s\) 'x'"),
    ("spec-not-json", {"spec": np.array("{")}, (), r"'spec': not valid JSON"),
    ("spec-a-list", {"spec": np.array("[1]")}, (), r"expected a table of settings, got list"),
    ("spec-deep", {"spec": np.array("[" * 5000 + "]" * 5000)}, (), r"nested more than 32 levels"),
    ("spec-number", {"spec": np.array(3.0)}, (), r"'spec' should be 0-D of kind 'U'"),
    (
        "spec-unknown-layer",
        {
            "spec": np.array(
                '{"data": "digits", "network": {"layers": ["nope"], "loss": "softmax_cro'
                'ss_entropy", "optimizer": "sgd", "init": "he"}}'
            )
        },
        (),
        r"unknown layer",
    ),
    ("no-spec", {}, ("spec",), r"lacks the array 'spec'"),
    ("no-params", {}, ("params",), r"lacks the array 'params'"),
    ("no-loop", {}, ("loop",), r"lacks the array 'loop'"),
    ("params-nan", {"params": np.full(610, np.nan, np.float32)}, (), r"'params' holds NaN or Inf"),
    ("params-int", {"params": np.zeros(610, np.int32)}, (), r"'params' should be 1-D of kind 'f'"),
    ("params-2d", {"params": np.zeros((2, 305), np.float32)}, (), r"'params' should be 1-D"),
    ("params-short", {"params": np.zeros(7, np.float32)}, (), r"holds 7 parameters but its spec builds 610"),
    ("params-float16", {"params": np.zeros(610, np.float16)}, (), r"parameters of dtype float16"),
    ("input-shape-0", {"input_shape": np.array([0])}, (), r"checkpoint.npz: .*shape"),
    ("input-shape-huge", {"input_shape": np.array([2**40])}, (), r"needs .* but only .* available"),
    ("input-shape-text", {"input_shape": np.array("64")}, (), r"'input_shape' should be 1-D of kind 'iu'"),
    ("no-input-shape", {}, ("input_shape",), r"lacks the array 'input_shape'"),
    ("buffer-nan", {"buffer/layers[0].x": np.array([np.nan])}, (), r"'buffer/layers\[0\].x' holds NaN"),
    ("buffer-unknown", {"buffer/layers[0].x": np.zeros(3)}, (), r"buffer|layers\[0\]"),
    ("loop-short", {"loop": np.array([3, 0], np.int64)}, (), r"malformed loop state"),
    ("loop-negative", {"loop": np.array([0, 0, 0], np.int64)}, (), r"inconsistent loop state"),
    ("loop-correct", {"loop": np.array([2, 5, 9], np.int64)}, (), r"inconsistent loop state"),
    ("loop-float", {"loop": np.array([2.0, 0, 0])}, (), r"'loop' should be 1-D of kind 'iu'"),
    ("sums-inf", {"sums": np.array([np.inf, 0.0, 1.0])}, (), r"malformed loop state"),
    ("sums-long", {"sums": np.zeros(5)}, (), r"malformed loop state"),
    ("position-past-data", {"loop": np.array([2, 99999, 0], np.int64)}, (), r"do not fit 1347 training samples"),
    ("order-short", {"loop": np.array([2, 3, 0], np.int64), "order": np.arange(3)}, (), r"do not fit 1347"),
    ("order-repeats", {"loop": np.array([2, 3, 0], np.int64), "order": np.zeros(1347, np.int64)}, (), r"do not fit"),
    ("generators-list", {"generators": np.array("[]")}, (), r"'generators' is not a set of generator states"),
    ("augment-list", {"generators": np.array('{"shuffle": {}, "noise": {}, "augment": []}')}, (), r"not a set of"),
    ("generators-bad", {"generators": np.array('{"shuffle": {"a": 1}, "noise": {}}')}, (), r"checkpoint state does n"),
    ("history-list", {"history": np.array("[]")}, (), r"'history' or callback state malformed"),
    ("history-ragged", {"history": np.array('{"epoch": [1, 2], "loss": [1]}')}, (), r"'history' or callback state"),
    ("blas-threads-0", {"blas_threads": np.array(0, np.int64)}, (), r"'blas_threads' must be a positive thread count"),
    ("blas-threads-float", {"blas_threads": np.array(2.0)}, (), r"'blas_threads' should be 0-D of kind 'iu'"),
    ("blas-threads-list", {"blas_threads": np.array([1, 2])}, (), r"'blas_threads' should be 0-D of kind 'iu'"),
    *[
        (f"optimizer-{case}", changes, drop, rf"checkpoint.npz: {message}")
        for case, changes, drop, message in (OPTIMIZER_DAMAGE)
    ],
]


@crafted_cases(CRAFTED_CHECKPOINTS)
def test_crafted_checkpoints_are_refused_in_one_line(sandbox, capsys, run_copy, case, changes, drop, message) -> None:
    (run_copy / "confusion.png").unlink()  # so that resume would write outputs from the checkpoint
    _rewrite(run_copy / "checkpoint.npz", "checkpoint", drop, **changes)
    cli(capsys, sandbox, ["run", "--resume", "run"], 1, message, run_copy)


CRAFTED_MODELS: CraftedCases = [
    ("unknown-array", {"evil": np.zeros(3)}, (), r"model.npz: unknown array\(s\) 'evil'; it may hold "),
    ("unknown-prefix", {"optimiser/m.0": np.zeros(3)}, (), r"unknown array\(s\) 'optimiser/m.0'"),
    ("spec-huge-int", {"spec": np.array("9" * 5000)}, (), r"'spec': not valid JSON: Exceeds the limit"),
    ("spec-not-json", {"spec": np.array("nope")}, (), r"'spec': not valid JSON"),
    ("spec-a-string", {"spec": np.array('"x"')}, (), r"expected a table of settings"),
    ("spec-deep", {"spec": np.array('{"a":' * 3000 + "1" + "}" * 3000)}, (), r"nested more than 32"),
    ("no-params", {}, ("params",), r"lacks the array 'params'"),
    ("params-inf", {"params": np.full(610, np.inf, np.float32)}, (), r"'params' holds NaN or Inf"),
    ("params-short", {"params": np.zeros(9, np.float32)}, (), r"holds 9 parameters but its spec builds 610"),
    ("params-bool", {"params": np.zeros(610, bool)}, (), r"'params' should be 1-D of kind 'f'"),
    ("input-shape-negative", {"input_shape": np.array([-64])}, (), r"model.npz: .*shape"),
    ("input-shape-2d", {"input_shape": np.zeros((2, 2), np.int64)}, (), r"'input_shape' should be 1-D"),
    ("input-shape-other", {"input_shape": np.array([8, 8])}, (), r"the network expects samples of shape \(8, 8\)"),
    ("buffer-inf", {"buffer/layers[1].y": np.array([np.inf])}, (), r"'buffer/layers\[1\].y' holds NaN or Inf"),
    (
        "units-huge",
        {
            "spec": np.array(
                '{"data": "digits", "network": {"layers": [{"type": "dense", "units": 10000000'
                '00}], "loss": "softmax_cross_entropy", "optimizer": "sgd", "init": "he"}}'
            )
        },
        (),
        r"units: must be <= 1,048,576",
    ),
]


@crafted_cases(CRAFTED_MODELS)
def test_crafted_models_are_refused_in_one_line(sandbox, capsys, run_copy, case, changes, drop, message) -> None:
    _rewrite(run_copy / "model.npz", "model", drop, **changes)
    cli(capsys, sandbox, ["evaluate", "run"], 1, message, run_copy)


SAVED_WITH_TRAIN_STATE = Path(__file__).parent / "fixtures" / "v0_2" / "trained-adam.npz"
"""A model of the tiny network saved by ``plugnn.save`` with Adam's state (see ``fixtures/make_v0_2.py``)."""


@crafted_cases(OPTIMIZER_DAMAGE)
def test_crafted_train_states_are_refused_in_one_line(sandbox, case, changes, drop, message) -> None:
    path = _crafted_model(sandbox, SAVED_WITH_TRAIN_STATE, drop, changes)
    before = snapshot(sandbox)
    raises_one_line(lambda: plugnn.load(path), CorruptFileError, rf"model.npz: {message}")
    assert snapshot(sandbox) == before


@pytest.fixture(scope="module")
def saved_with_callbacks(tmp_path_factory) -> Path:
    """The tiny network trained 2 epochs with reduce_lr_on_plateau and early_stopping, saved with its train state."""
    registry = plugnn.default_registry()
    model = plugnn.load(SAVED_WITH_TRAIN_STATE, registry)
    spec = plugnn.TrainSpec(
        epochs=2, batch_size=16, seed=1, callbacks=(ReduceLROnPlateau(monitor="loss"), EarlyStopping(monitor="loss"))
    )
    x, y = np.random.default_rng(0).random((40, 64), dtype=np.float32), np.arange(40) % 10
    result = plugnn.train(model.spec, x, y, spec, registry=registry)
    return plugnn.save(result.network, tmp_path_factory.mktemp("saved") / "model.npz", registry=registry)


CRAFTED_TRAIN_LOOPS: CraftedCases = [
    ("mid-epoch", {"loop": np.array([3, 5, 0, 0], np.int64)}, (), r"not at an epoch's start \(epoch 3, sample 5"),
    ("epoch-vs-history", {"loop": np.array([9, 0, 0, 0], np.int64)}, (), r"\(epoch 9, sample 0, 2 epochs recorded\)"),
    ("an-order", {"order": np.arange(40)}, (), r"not at an epoch's start"),
    ("lr-scale-0", {"sums": np.array([0.0, 0.0, 0.0, 2.3])}, (), r"malformed loop state"),
    ("lr-scale-nan", {"sums": np.array([0.0, 0.0, np.nan, 2.3])}, (), r"malformed loop state"),
    ("loop-text", {"loop": np.array("3")}, (), r"'loop' should be 1-D of kind 'iu'"),
    ("history-ragged", {"history": np.array('{"epoch": [1, 2], "loss": [1]}')}, (), r"'history' or callback state"),
    ("callbacks-more", {"callbacks": np.array(3)}, (), r"holds 3 callback states for 2 callbacks"),
    ("callback-index", {"callbacks/x/best": np.zeros(())}, (), r"'history' or callback state malformed"),
    ("no-loop", {}, ("loop",), r"lacks the array 'loop'"),
    ("blas-threads-negative", {"blas_threads": np.array(-2)}, (), r"'blas_threads' must be a positive thread count"),
]
"""Model files whose loop state (as :mod:`plugnn.loopfile` stores it) is damaged."""


@crafted_cases(CRAFTED_TRAIN_LOOPS)
def test_crafted_loop_states_in_models_are_refused_in_one_line(
    sandbox, saved_with_callbacks, case, changes, drop, message
) -> None:
    path = _crafted_model(sandbox, saved_with_callbacks, drop, changes)
    before = snapshot(sandbox)
    raises_one_line(lambda: plugnn.load(path), CorruptFileError, rf"model.npz: .*{message}")
    assert snapshot(sandbox) == before


UNFIT_CALLBACK_STATES: CraftedCases = [
    (
        "reducer-counters-missing",
        {},
        ("callbacks/0/counters",),
        r"train.callbacks\[0\]: the saved state does not fit PlateauReducer \(KeyError: 'counters'\)",
    ),
    ("reducer-counters-short", {"callbacks/0/counters": np.zeros(1, np.int64)}, (), r"train.callbacks\[0\]: .*ValueE"),
    (
        "best-weights-short",
        {"callbacks/1/best_params": np.zeros(500, np.float32)},
        (),
        r"early_stopping: its saved 'best_params' \(shape \(500,\) float32\) does not fit the network's \(shape "
        r"\(610,\) float32\)",
    ),
    ("best-weights-float64", {"callbacks/1/best_params": np.zeros(610)}, (), r"'best_params' \(shape \(610,\) float64"),
    ("best-weights-nan", {"callbacks/1/best_params": np.full(610, np.nan, np.float32)}, (), r"or is not finite"),
    (
        "best-buffer-unknown",
        {"callbacks/1/best_buffers/layers[0].mean": np.zeros(8, np.float32)},
        (),
        r"early_stopping: its saved state holds \['best_buffers/layers\[0\].mean', 'best_params'\], the netw",
    ),
]


@crafted_cases(UNFIT_CALLBACK_STATES)
def test_a_callback_state_that_does_not_fit_is_refused_before_training(
    sandbox, saved_with_callbacks, case, changes, drop, message
) -> None:
    path = _crafted_model(sandbox, saved_with_callbacks, drop, changes)
    model = plugnn.load(path)
    params = model.params.copy()
    x, y = np.zeros((16, 64), np.float32), np.zeros(16, np.int64)
    state = model.train_state
    raises_one_line(lambda: plugnn.train(model.spec, x, y, state.spec, start_from=model), PlugnnError, message)
    np.testing.assert_array_equal(model.params, params)
    assert model.train_state is state  # nothing trained


def test_continuing_past_the_epoch_cap_is_refused_before_any_work(sandbox, capsys, run_copy) -> None:
    message = r"train.epochs: 2 epochs trained and 999,999 more make 1,000,001, more than 1,000,000"
    cli(capsys, sandbox, ["run", "--from", "run", "--epochs", "999999", "--out", "more"], 1, message)
    model = plugnn.load(SAVED_WITH_TRAIN_STATE)
    more = plugnn.TrainSpec(epochs=999_998, batch_size=64, seed=1)
    x, y = np.zeros((5, 64), np.float32), np.zeros(5, np.int64)
    message = r"train.epochs: 3 epochs trained and 999,998 more make 1,000,001"
    raises_one_line(lambda: plugnn.train(model.spec, x, y, more, start_from=model), SpecError, message)


def test_run_from_a_crafted_optimizer_state_is_refused_before_any_work(sandbox, capsys, run_copy) -> None:
    _rewrite(run_copy / "checkpoint.npz", "checkpoint", **{"optimizer/m.0": np.zeros(512, np.float32)})
    message = r"run/checkpoint.npz: 'optimizer/m.0' should be shape \(610,\) float32 .*got shape \(512,\)"
    cli(capsys, sandbox, ["run", "--from", "run", "--epochs", "1", "--out", "more"], 1, message)


def _npz_with_member(path: Path, header: bytes, body: bytes) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("params.npy", header + body)


def _npy_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return b"\x93NUMPY\x01\x00" + buffer.getvalue()[8:] if buffer.getvalue()[:6] != b"\x93NUMPY" else buffer.getvalue()


@pytest.mark.parametrize(
    ("header", "body", "message"),
    [
        (_npy_header((10**12,)), b"\x00" * 16, r"params.npy claims shape \(1000000000000,\) of float32"),
        (_npy_header((2**62, 2**62)), b"", r"claims shape"),
        (_npy_header((4,), "|O"), b"\x00" * 32, r"holds pickled objects"),
        (b"\x93NUMPY\x01\x00", b"garbage", r"not a readable .npz file"),
        (b"\x93NUMPY\x01\x00\x0e\x00{'descr': '<f4", b"", r"damaged \(a .npy header: EOF in multi-line statement\)"),
        (b"not numpy at all", b"", r"not a readable .npz file"),
    ],
    ids=["huge-1d", "huge-2d", "object", "bad-header", "unbalanced-header", "no-magic"],
)
@pytest.mark.parametrize("target", ["model", "checkpoint"])
def test_npz_members_are_checked_before_allocating(sandbox, capsys, run_copy, header, body, message, target) -> None:
    (run_copy / "confusion.png").unlink()
    _npz_with_member(run_copy / f"{target}.npz", header, body)
    argv = ["evaluate", "run"] if target == "model" else ["run", "--resume", "run"]
    cli(capsys, sandbox, argv, 1, message, run_copy)


@pytest.mark.parametrize("kind", ["fifo", "dir", "device"])
@pytest.mark.parametrize("target", ["model", "checkpoint"])
def test_special_files_as_model_or_checkpoint_never_hang(sandbox, capsys, run_copy, kind, target) -> None:
    (run_copy / f"{target}.npz").unlink()
    _special(run_copy, f"{target}.npz", kind)
    argv = ["evaluate", "run"] if target == "model" else ["run", "--resume", "run"]
    cli(capsys, sandbox, argv, 1, r"is a (FIFO|folder|character device)", run_copy)


# ----------------------------------------------------------------------------------------------
# divergence and plots


@pytest.mark.parametrize("lr", ["100", "10000", "1e30"])
def test_an_exploding_loss_is_divergence(sandbox, capsys, lr) -> None:
    message = (
        r"training diverged at epoch 1, batch \d+: the loss (.* exceeds 10000 times its starting value|is nan|is inf)"
    )
    cli(capsys, sandbox, ["run", "tiny.toml", "--lr", lr, "--quiet", "--out", "run"], 1, message, sandbox / "run")


def test_a_model_with_more_outputs_than_classes_plots(sandbox, capsys) -> None:
    _edit(sandbox / "tiny.toml", 'type = "dense", units = 10}', 'type = "dense", units = 13}')
    _edit(sandbox / "tiny.toml", "epochs = 2", "epochs = 1")
    cli(capsys, sandbox, ["run", "tiny.toml", "--quiet", "--out", "run"], 0, "", sandbox / "run")
    assert all((sandbox / "run" / name).is_file() for name in OUTPUTS)


def test_sample_plot_names_classes_the_data_lacks(tmp_path) -> None:
    from plugnn.plots import plot_confusion, plot_samples

    images = np.random.default_rng(0).random((40, 16)).astype(np.float32)
    labels, predicted = np.arange(40) % 3, (np.arange(40) % 7) + 1
    plot_samples(images, labels, predicted, (4, 4), ("a", "b", "c"), tmp_path / "s.png")
    plot_confusion(labels, predicted, ("a", "b", "c"), tmp_path / "c.png")
    assert (tmp_path / "s.png").stat().st_size > 0 and (tmp_path / "c.png").stat().st_size > 0


def test_a_run_killed_before_its_first_checkpoint_starts_again(sandbox, capsys, run_copy, finished) -> None:
    for name in (*OUTPUTS, "checkpoint.npz"):
        (run_copy / name).unlink()
    cli(capsys, sandbox, ["run", "--resume", "run", "--quiet"], 0, "", run_copy)
    for kind in ("model", "checkpoint"):
        got, want = read_npz(run_copy / f"{kind}.npz", kind), read_npz(finished / f"{kind}.npz", kind)
        assert np.array_equal(got["params"], want["params"])


def test_a_run_killed_while_plotting_resumes_to_the_same_files(sandbox, capsys, run_copy, finished) -> None:
    for name in ("curves.png", "samples.png", "confusion.png", "history.csv"):
        (run_copy / name).unlink()
    (run_copy / ".samples.png.abcdef012345.tmp").write_bytes(b"\x89PNG half")
    cli(capsys, sandbox, ["run", "--resume", "run", "--quiet"], 0, "", run_copy)
    assert sorted(p.name for p in run_copy.iterdir()) == sorted(p.name for p in finished.iterdir())
    for name in ("history.json", "history.csv", "samples.png", "confusion.png"):
        assert (run_copy / name).read_bytes() == (finished / name).read_bytes()
    assert np.array_equal(
        read_npz(run_copy / "model.npz", "model")["params"], read_npz(finished / "model.npz", "model")["params"]
    )
    assert json.loads((run_copy / "history.json").read_text()) == json.loads((finished / "history.json").read_text())


def _kill_when(args: list[str], cwd: Path, ready: Callable[[], bool]) -> bool:
    """Start ``plugnn args``; SIGKILL it as soon as ``ready()``; True if it was killed before it ended."""
    process = subprocess.Popen([sys.executable, "-m", "plugnn", *args], cwd=cwd, stderr=subprocess.DEVNULL)
    while process.poll() is None:
        if ready():
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.002)
    return False


def test_sigkill_while_training_then_while_plotting_resumes_to_the_uninterrupted_run(sandbox, capsys) -> None:
    """The in-suite version of benchmarks/sigkill.py: two real SIGKILLs at chosen moments."""
    _edit(sandbox / "tiny.toml", "epochs = 2\nbatch_size = 256", "epochs = 12\nbatch_size = 32")
    reference = plugnn.run(sandbox / "tiny.toml", out=sandbox / "reference", quiet=True)
    run = sandbox / "run"
    _kill_when(["run", "tiny.toml", "--out", "run", "--quiet"], sandbox, lambda: (run / "checkpoint.npz").exists())
    _kill_when(["run", "--resume", "run", "--quiet"], sandbox, lambda: (run / "model.npz").exists())
    cli(capsys, sandbox, ["run", "--resume", "run", "--quiet"], 0, "", run)
    assert sorted(p.name for p in run.iterdir()) == sorted(p.name for p in reference.out.iterdir())
    for kind in ("model", "checkpoint"):
        got, want = read_npz(run / f"{kind}.npz", kind), read_npz(reference.out / f"{kind}.npz", kind)
        assert np.array_equal(got["params"], want["params"])
    history = json.loads((run / "history.json").read_text())
    assert history["loss"] == reference.history.column("loss")
    assert history["test_accuracy"] == reference.history.column("test_accuracy")
    for name in ("samples.png", "confusion.png"):
        assert (run / name).read_bytes() == (reference.out / name).read_bytes()


# ----------------------------------------------------------------------------------------------
# one-byte mutants of every file kind plugnn writes: refused in one line, or read as they are

MUTANTS = 24
"""Random one-byte mutants per file kind (a fixed sample: the same every run), besides the targeted ones."""


def _mutants(data: bytes, seed: int, targeted: tuple[int, ...] = ()) -> list[tuple[int, int]]:
    """``(offset, new byte)`` pairs: each targeted offset set to 0xff, then :data:`MUTANTS` drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    drawn = [(int(rng.integers(len(data))), int(rng.integers(1, 256))) for _ in range(MUTANTS)]
    return [(offset, 0xFF) for offset in targeted] + [(at, data[at] ^ flip) for at, flip in drawn]


def _zip_fields(data: bytes) -> tuple[int, ...]:
    """Offsets of the zip fields whose damage raised other exceptions than plugnn's: the compression method
    and flags of the first local header and central directory entry, and the version needed to extract."""
    local, central = data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02")
    return (local + 6, local + 8, central + 6, central + 8, central + 10)


def _mutated_reads(path: Path, read: Callable[[Path], object], targeted: tuple[int, ...], seed: int) -> None:
    original = path.read_bytes()
    for offset, value in _mutants(original, seed, targeted):
        damaged = bytearray(original)
        damaged[offset] = value
        path.write_bytes(bytes(damaged))
        try:
            read(path)
        except SpecError:  # a line per problem (a damaged spec.toml may have several)
            pass
        except PlugnnError as error:  # any other exception fails the test with its traceback
            assert "\n" not in str(error), (offset, value, str(error))
    path.write_bytes(original)


@pytest.mark.parametrize("kind", ["model.npz", "checkpoint.npz"])
def test_one_byte_mutants_of_array_files_are_refused_in_one_line(sandbox, run_copy, kind) -> None:
    registry = plugnn.default_registry()
    read = (lambda p: plugnn.load(p, registry)) if kind == "model.npz" else (lambda p: load_checkpoint(p, registry))
    path = run_copy / kind
    _mutated_reads(path, read, _zip_fields(path.read_bytes()), seed=len(kind))


def test_one_byte_mutants_of_text_files_are_refused_in_one_line(sandbox, run_copy) -> None:
    registry = plugnn.default_registry()
    readers: dict[str, Callable[[Path], object]] = {
        "spec.toml": lambda p: load_spec(p, plugnn.specs.RunSpec, registry),
        "history.json": read_history,
        FINGERPRINT: lambda p: fingerprint_digest(p.parent),
    }
    for seed, (name, read) in enumerate(readers.items()):
        _mutated_reads(run_copy / name, read, (), seed)


def test_one_byte_mutants_of_a_sweep_record_are_refused_in_one_line(tmp_path) -> None:
    declaration = {"sweep": SweepSpec(recipe="quickstart").to_dict(), "base": {"data": "digits"}}
    (tmp_path / SWEEP_FILE).write_text(json.dumps(declaration, indent=2) + "\n")
    _mutated_reads(tmp_path / SWEEP_FILE, lambda p: check_sweep_folder(p.parent, declaration), (), 7)


# ----------------------------------------------------------------------------------------------
# every reader of user files, fuzzed: a value or one line of plugnn's, never another exception

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
FUZZ = settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(header=st.text(max_size=80), body=st.binary(max_size=32))
def test_npz_reader_fuzz(tmp_path, header, body) -> None:
    """A member's ``.npy`` header text is numpy's Python literal: any text, even unbalanced quotes."""
    encoded = header.encode("utf-8", "replace")
    raw = b"\x93NUMPY\x01\x00" + len(encoded).to_bytes(2, "little") + encoded + body
    _npz_with_member(tmp_path / "fuzz.npz", raw, b"")
    try:
        read_npz(tmp_path / "fuzz.npz", "model")
    except CorruptFileError as error:
        assert "\n" not in str(error)


@FUZZ
@given(data=JSON)
def test_stored_json_readers_fuzz(tmp_path, data) -> None:
    """history.json, fingerprint.json, sweep.json and sweep files with any JSON in them."""
    text = json.dumps(data)
    readers: dict[str, Callable[[Path], object]] = {
        "history.json": read_history,
        FINGERPRINT: lambda p: fingerprint_digest(p.parent),
        SWEEP_FILE: lambda p: check_sweep_folder(p.parent, {"sweep": {}, "base": {}}),
        "sweep-file.json": load_sweep_file,
    }
    for name, read in readers.items():
        folder = tmp_path / name.replace(".", "-")
        folder.mkdir(exist_ok=True)
        (folder / name).write_text(text)
        try:
            read(folder / name)
        except PlugnnError as error:
            assert "\n" not in str(error)


@FUZZ
@given(text=st.text(max_size=60), digits=st.integers(0, 6000))
def test_sweep_files_and_set_values_fuzz(tmp_path, text, digits) -> None:
    """A sweep file's TOML and a ``--set`` value are user text; numbers of any length included."""
    path = tmp_path / "sweep.toml"
    path.write_text(f'recipe = "quickstart"\nseeds = {"9" * digits or 1}\n{text}', encoding="utf-8")
    try:
        load_sweep_file(path)
    except PlugnnError as error:
        assert "\n" not in str(error)
    try:
        parse_value(text)
    except PlugnnError as error:
        assert "\n" not in str(error)


# ----------------------------------------------------------------------------------------------
# allocations a header, a flag or a field sizes; counts capped to what they can use


def test_a_spec_with_a_number_of_5000_digits_is_refused(sandbox, capsys) -> None:
    (sandbox / "long.toml").write_text(TINY.replace("epochs = 2", "epochs = " + "9" * 5000))
    cli(capsys, sandbox, ["run", "long.toml", "--out", "run"], 1, r"long.toml: not valid TOML: Exceeds the limit")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--seeds", "1000000000000"], r"1,000,000,000,000 seeds make 1,000,000,000,000 trials, more than 100,000"),
        (
            ["--grid", f"train.seed={','.join(map(str, range(400)))}", "--grid", "train.epochs=1,2,3", "--seeds", "90"],
            r"400 values of train.seed x 3 values of train.epochs x 90 seeds make 108,000 trials",
        ),
        (
            ["--random", "network.optimizer.lr={log_uniform=[1e-4,1e-2]}", "--samples", "1000000000000"],
            r"1000000000000 samples x 1 seeds make 1,000,000,000,000 trials",
        ),
    ],
    ids=["seeds", "grid", "samples"],
)
def test_sweep_sizes_are_refused_up_front_with_the_number(sandbox, capsys, flags, message) -> None:
    cli(capsys, sandbox, ["sweep", "tiny.toml", *flags, "--out", "sw"], 1, message)


def test_workers_are_capped_by_trials_and_cores(sandbox, capsys) -> None:
    argv = ["sweep", "tiny.toml", "--workers", "10000", "--out", "sw", "--quiet"]
    _, err = cli(capsys, sandbox, argv, 0, "", sandbox / "sw")
    assert re.search(rf"10000 workers capped at 1 \(1 trials, {available_cores()} cores\)", err), err


IDX_UNDER_A_LIMIT = """
import resource, sys
import plugnn.run
from plugnn.cli import main
plugnn.default_registry()
size = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (size + (160 << 20), resource.RLIM_INFINITY))
sys.exit(main(["run", "tiny.toml", "--data", "idx:mnist", "--out", "run", "--quiet"]))
"""
"""Train on an IDX folder with 160 MiB of address space left: its float32 copy alone needs 200 MiB."""


def test_allocations_respect_the_address_space_limit(sandbox) -> None:
    """``ulimit -v`` (or a container's cgroup) leaves less than free memory says; the check counts it."""
    (sandbox / "mnist").mkdir()
    for name, array in {
        "train-images-idx3-ubyte": np.zeros((64_000, 28, 28), np.uint8),  # 50 MiB of pixels, 200 MiB as float32
        "train-labels-idx1-ubyte": np.zeros(64_000, np.uint8),
        "t10k-images-idx3-ubyte": np.zeros((10, 28, 28), np.uint8),
        "t10k-labels-idx1-ubyte": np.zeros(10, np.uint8),
    }.items():
        (sandbox / "mnist" / name).write_bytes(idx_bytes(array))
    done = subprocess.run([sys.executable, "-c", IDX_UNDER_A_LIMIT], cwd=sandbox, capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert re.search(r"^plugnn: error: .*needs .* but only .* of memory is available$", done.stderr, re.M)


# ----------------------------------------------------------------------------------------------
# nothing replaced without --force; run and sweep folders never nest


def test_export_never_replaces_a_file_without_force(sandbox, capsys, run_copy) -> None:
    (sandbox / "model.onnx").write_text("mine\n")
    cli(capsys, sandbox, ["export", "run", "-o", "model.onnx"], 1, r"model.onnx already exists; .*only with --force")
    assert main(["export", "run", "-o", "model.onnx", "--force"]) == 0
    assert (sandbox / "model.onnx").read_bytes()[:4] != b"mine"


def _a_sweep_folder(folder: Path) -> Path:
    folder.mkdir()
    (folder / SWEEP_FILE).write_text("{}\n")
    return folder


@pytest.mark.parametrize(
    ("command", "parent", "message"),
    [
        ("run", "run", r"run/inner: inside the run folder .*/run; a run folder never goes inside"),
        ("sweep", "run", r"run/inner: inside the run folder .*/run; a sweep folder never goes inside"),
        ("run", "sweep", r"sw/inner: inside the sweep folder .*/sw; a run folder never goes inside"),
        ("sweep", "sweep", r"sw/deeper/inner: inside the sweep folder .*/sw; a sweep folder never"),
    ],
    ids=["run-in-run", "sweep-in-run", "run-in-sweep", "sweep-in-sweep"],
)
def test_run_and_sweep_folders_never_nest(sandbox, capsys, run_copy, command, parent, message) -> None:
    out = "run/inner" if parent == "run" else str(_a_sweep_folder(sandbox / "sw").relative_to(sandbox) / "inner")
    if command == "sweep" and parent == "sweep":
        out = "sw/deeper/inner"
    cli(capsys, sandbox, [command, "tiny.toml", "--out", out, "--quiet"], 1, message)


# ----------------------------------------------------------------------------------------------
# unknown fields in stored files; inputs whose scale makes training meaningless


def test_unknown_keys_in_a_model_files_train_state_are_refused(sandbox) -> None:
    state = json.loads(str(read_npz(SAVED_WITH_TRAIN_STATE, "model")["train_state"]))
    path = _crafted_model(sandbox, SAVED_WITH_TRAIN_STATE, (), {"train_state": np.array(json.dumps(state | {"x": 1}))})
    raises_one_line(lambda: plugnn.load(path), CorruptFileError, r"model.npz: 'train_state': unknown key\(s\) 'x'")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda record: record | {"note": "hi"}, r"fingerprint.json: unknown key\(s\) 'note'; it may hold data, name"),
        (
            lambda record: record | {"data": record["data"] | {"x_extra": {}}},
            r"fingerprint.json: data: unknown key\(s\) 'x_extra'",
        ),
    ],
    ids=["top", "data"],
)
def test_unknown_keys_in_a_fingerprint_are_refused(sandbox, capsys, run_copy, edit, message) -> None:
    (run_copy / "confusion.png").unlink()
    record = json.loads((run_copy / FINGERPRINT).read_text())
    (run_copy / FINGERPRINT).write_text(json.dumps(edit(record)))
    cli(capsys, sandbox, ["run", "--resume", "run"], 1, message, run_copy)


def test_unknown_keys_in_a_sweep_record_are_refused(sandbox, capsys) -> None:
    assert main(["sweep", "tiny.toml", "--out", "sw", "--quiet"]) == 0
    record = json.loads((sandbox / "sw" / SWEEP_FILE).read_text())
    (sandbox / "sw" / SWEEP_FILE).write_text(json.dumps(record | {"owner": "x"}))
    (sandbox / "sw" / "trial-000" / "history.json").write_text('{"epoch": [1, 2], "loss": [1]}')
    cli(
        capsys,
        sandbox,
        ["sweep", "tiny.toml", "--out", "sw"],
        1,
        r"sweep.json: unknown key\(s\) 'owner'",
        sandbox / "sw",
    )
    (sandbox / "sw" / SWEEP_FILE).write_text(json.dumps(record))
    message = r"trial-000/history.json: not a plugnn history \(a table of columns of one length"
    cli(capsys, sandbox, ["sweep", "tiny.toml", "--out", "sw", "--quiet"], 1, message, sandbox / "sw")


@pytest.mark.parametrize(
    ("scale", "dtype", "message"),
    [
        (1e30, np.float32, r"X: values up to 1e\+30 \(first at row 0, column \d+\) are beyond 1e\+15"),
        (1e300, np.float64, r"X: values up to 1e\+300 .*where float32 training is meaningless; scale the features"),
        (-1e16, np.float64, r"X: values up to 1e\+16"),
    ],
    ids=["1e30", "1e300-float64", "negative"],
)
def test_inputs_beyond_the_scale_bound_are_refused(small_spec, scale, dtype, message) -> None:
    x = np.full((6, 4), scale, dtype)
    one_epoch = plugnn.TrainSpec(epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the error alone: no "looks like unscaled pixels" before it
        raises_one_line(lambda: plugnn.train(small_spec, x, np.arange(6) % 3, one_epoch), DataError, message)
