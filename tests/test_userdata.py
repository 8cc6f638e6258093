"""Your own data on the command line: ``--data npz:FILE`` and ``--data csv:FILE:label=COLUMN``, and hostile files."""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

import plugnn
from plugnn import outputs
from plugnn.cli import main
from plugnn.data import load_dataset, parse_data_option
from plugnn.errors import DataError

RNG = np.random.default_rng(0)
X = RNG.uniform(0, 1, (40, 3))
Y = np.arange(40) % 2
IRIS = "a,b,species\n" + "".join(f"{i % 7 / 7},{i % 5},{'setosa' if i % 2 else 'virginica'}\n" for i in range(20))


def load(ref: str | dict[str, object]) -> plugnn.data.DataSplit:
    """Load a dataset named, or given as a ``--data`` dict."""
    registry = plugnn.default_registry()
    if isinstance(ref, dict):
        settings = dict(ref)
        ref = registry.tables["dataset"].get(str(settings.pop("type"))).spec(**settings)
    return load_dataset(ref, registry)


def one_line(ref: object, message: str) -> None:
    with pytest.raises(DataError) as caught:
        load(ref)
    assert "\n" not in str(caught.value) and re.search(message, str(caught.value)), str(caught.value)


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("digits", "digits"),
        ("idx:/data/mnist", {"type": "idx", "path": "/data/mnist"}),
        ("npz:d/my.npz", {"type": "npz", "path": "d/my.npz"}),
        ("npz:my.npz:scale=255,test_size=0.3", {"type": "npz", "path": "my.npz", "scale": 255, "test_size": 0.3}),
        ("csv:a:b.csv:label=species", {"type": "csv", "path": "a:b.csv", "label": "species"}),
    ],
)
def test_the_data_option_forms(text, ref) -> None:
    assert parse_data_option(text) == ref


@pytest.mark.parametrize(
    ("text", "fix"), [("mydigits.npz", "write npz:mydigits.npz"), ("data/t.csv", "write csv:data/t.csv")]
)
def test_a_file_given_without_its_type_gets_the_forms(text, fix, capsys) -> None:
    assert main(["run", "quickstart", "--data", text, "--out", "never"]) == 1
    err = capsys.readouterr().err
    assert f"looks like a file; {fix}" in err and "npz:FILE (arrays x_train, y_train, x_test, y_test, or x, y)" in err
    assert "did you mean 'digits'" not in err and not Path("never").exists()


def test_npz_four_arrays_are_the_split_and_labels_become_class_indices(tmp_path) -> None:
    np.savez(tmp_path / "d.npz", x_train=X[:30], y_train=Y[:30] + 3, x_test=X[30:], y_test=Y[30:] + 3)
    split = load({"type": "npz", "path": str(tmp_path / "d.npz")})
    assert split.x_train.dtype == np.float32 and split.x_train.shape == (30, 3) and split.classes == ("3", "4")
    np.testing.assert_array_equal(split.y_test, Y[30:])


def test_npz_one_pair_is_split_seeded_and_stratified_and_images_get_a_channel(tmp_path) -> None:
    images = RNG.integers(0, 256, (40, 4, 4)).astype(np.uint8)
    np.savez(tmp_path / "p.npz", x=images, y=np.where(Y == 1, "cat", "dog"))
    ref = {"type": "npz", "path": str(tmp_path / "p.npz"), "test_size": 0.25, "scale": 255.0, "seed": 3}
    split, again = load(ref), load(ref)
    assert split.x_train.shape == (30, 4, 4, 1) and float(split.x_train.max()) <= 1.0
    assert split.classes == ("cat", "dog") and np.bincount(split.y_test).tolist() == [5, 5]
    np.testing.assert_array_equal(split.x_test, again.x_test)


def test_csv_label_column_by_name_and_real_targets_are_regression(tmp_path) -> None:
    (tmp_path / "iris.csv").write_text(IRIS)
    split = load({"type": "csv", "path": str(tmp_path / "iris.csv"), "label": "species"})
    assert split.classes == ("setosa", "virginica") and split.x_train.shape == (16, 2)
    (tmp_path / "r.csv").write_text("a,target\n" + "".join(f"{i},{i / 3}\n" for i in range(10)))
    regression = load({"type": "csv", "path": str(tmp_path / "r.csv"), "label": "target", "test_size": 0.3})
    assert regression.classes == () and regression.y_train.dtype == np.float32


def test_plugnn_run_quickstart_trains_on_an_npz_file(tmp_path, monkeypatch, capsys) -> None:
    def placeholder(*args: object, **options: object) -> None:  # drawing is not what this tests
        [a for a in args if isinstance(a, Path)][-1].touch()

    for name in ("plot_curves", "plot_samples", "plot_confusion"):
        monkeypatch.setattr(outputs, name, placeholder)
    digits = load("digits")
    np.savez(tmp_path / "mine.npz", x=digits.x_train[:200], y=digits.y_train[:200])
    argv = ["run", "quickstart", "--data", f"npz:{tmp_path / 'mine.npz'}", "--epochs", "2", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "run")]) == 0
    assert "test accuracy" in capsys.readouterr().out and (tmp_path / "run" / "model.npz").is_file()
    assert plugnn.load(tmp_path / "run").input_shape == (8, 8, 1)


def hostile_npz(path: Path, kind: str) -> None:
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "not-zip":
        path.write_bytes(b"x_train,y_train\n1,2\n")
    elif kind == "huge-header":  # a member whose header claims 10^12 floats but stores 8 bytes
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("x.npy", b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\0" * 8)
            archive.writestr("y.npy", b"")
    elif kind == "pickle":
        np.savez(path, x=np.array([{"a": 1}, None], dtype=object), y=np.array([0, 1]))
    elif kind == "text-features":
        np.savez(path, x=np.array([["a", "b"]] * 4), y=np.array([0, 1, 0, 1]))
    elif kind == "nan":
        bad = X.copy()
        bad[7, 2] = np.nan
        np.savez(path, x=bad, y=Y)
    elif kind == "wrong-names":
        np.savez(path, features=X, labels=Y)
    elif kind == "lengths":
        np.savez(path, x=X, y=Y[:-1])
    elif kind == "shapes":
        np.savez(path, x_train=X, y_train=Y, x_test=X[:, :2], y_test=Y)
    elif kind == "labels-2d":
        np.savez(path, x=X, y=np.stack([Y, Y], axis=1))
    elif kind == "dir":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "link-to-device":
        path.symlink_to("/dev/zero")


NPZ_CASES = [
    ("empty", r"not a readable \.npz file"),
    ("not-zip", r"not a readable \.npz file"),
    ("huge-header", r"x\.npy claims shape \(1000000, 1000000\) of float64 .* but stores 8"),
    ("pickle", r"holds pickled objects, which plugnn never loads"),
    ("text-features", r"bad.npz: x: expected numbers, got dtype <U1"),
    ("nan", r"x_(train|test): holds NaN or Inf \(first at row \d+, position \(2,\)\)"),
    ("wrong-names", r"holds arrays features, labels; expected x_train, y_train, x_test, y_test"),
    ("lengths", r"40 samples but 39 targets"),
    ("shapes", r"x_test's samples are \(2,\) but x_train's \(3,\)"),
    ("labels-2d", r"targets must be 1-D integer or text class labels"),
    ("dir", r"is a folder, not a file"),
    ("fifo", r"is a FIFO \(named pipe\), not a file"),
    ("link-to-device", r"is a character device, not a file"),
    ("missing", r"no such file"),
]


@pytest.mark.parametrize(("kind", "message"), NPZ_CASES, ids=[c[0] for c in NPZ_CASES])
def test_hostile_npz_files_are_one_line_errors(tmp_path, kind, message) -> None:
    hostile_npz(tmp_path / "bad.npz", kind)
    one_line({"type": "npz", "path": str(tmp_path / "bad.npz")}, message)


CSV_CASES = [
    ("empty", b"", r"empty; expected a header row"),
    ("header-only", b"a,b,label\n", r"a header but no rows"),
    ("no-label", b"a,b,kind\n1,2,x\n", r"no column 'label'; columns: a, b, kind"),
    ("ragged", b"a,b,label\n1,2,x\n3,4\n", r"the number of columns changed from 3 to 2 on line 3"),
    ("text-feature", b"a,b,label\n1,2,x\n3,oops,y\n", r"could not convert string 'oops' to float64 on line 3"),
    ("nan", b"a,b,label\n" + b"1,2,x\n3,nan,y\n" * 5, r"holds NaN or Inf \(first at row \d, position \(1,\)\)"),
    ("not-utf8", b"a,b,label\n1,2,\xe9t\xe9\n", r"not UTF-8 text \(byte 0xe9 at offset 14\)"),
    ("one-column", b"label\nx\ny\n", r"the label column 'label' is its only column"),
]


@pytest.mark.parametrize(("kind", "content", "message"), CSV_CASES, ids=[c[0] for c in CSV_CASES])
def test_hostile_csv_files_are_one_line_errors(tmp_path, kind, content, message) -> None:
    (tmp_path / "bad.csv").write_bytes(content)
    one_line({"type": "csv", "path": str(tmp_path / "bad.csv")}, message)


def test_a_csv_folder_or_a_too_large_file_is_refused_before_reading(tmp_path, monkeypatch) -> None:
    (tmp_path / "folder.csv").mkdir()
    one_line({"type": "csv", "path": str(tmp_path / "folder.csv")}, r"is a folder, not a file")
    (tmp_path / "big.csv").write_text(IRIS)
    monkeypatch.setattr(plugnn.userdata, "MAX_CSV_BYTES", 100)
    one_line({"type": "csv", "path": str(tmp_path / "big.csv"), "label": "species"}, r"more than the 100 plugnn reads")
