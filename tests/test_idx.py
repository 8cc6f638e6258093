"""The IDX reader, on small files the tests write, well-formed and malformed."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from idx_files import idx_bytes, write_idx_folder

from plugnn.errors import DataError
from plugnn.idx import read_idx, read_idx_folder


@pytest.mark.parametrize("gz", [True, False])
def test_reads_a_folder(tmp_path, gz) -> None:
    train_x, train_y, test_x, test_y = read_idx_folder(write_idx_folder(tmp_path, gz=gz))
    assert train_x.shape == (60, 6, 6) and train_y.shape == (60,) and test_x.shape == (20, 6, 6)
    assert train_x.dtype == np.uint8 and set(np.unique(test_y)) <= {0, 1, 2}


def test_round_trips_values(tmp_path) -> None:
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(idx_bytes(array))
    np.testing.assert_array_equal(read_idx(tmp_path / "a", 3), array)


@pytest.mark.parametrize(
    ("data", "ndim", "message"),
    [
        (b"\x08\x03\x00\x00", 3, "not an IDX file (bad magic number 08030000)"),
        (b"", 3, "bad magic number empty"),
        (b"\x00\x00\x0d\x03" + bytes(12), 3, "IDX data type 0x0d is not supported"),
        (idx_bytes(np.zeros(5)), 3, "expected 3 dimension(s), the header says 1"),
        (
            idx_bytes(np.zeros((2, 3, 3)))[:-1],
            3,
            "header promises shape (2, 3, 3) (34 bytes) but the file has 33 bytes",
        ),
        (idx_bytes(np.zeros((2, 3, 3)))[:10], 3, "truncated header (10 bytes, need 16)"),
    ],
)
def test_malformed_files_say_what_is_wrong(tmp_path, data, ndim, message) -> None:
    path = tmp_path / "bad.gz"
    path.write_bytes(gzip.compress(data))
    with pytest.raises(DataError) as caught:
        read_idx(path, ndim)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_count_mismatch(tmp_path) -> None:
    folder = write_idx_folder(tmp_path, gz=False)
    (folder / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(19)))
    with pytest.raises(DataError, match="20 test images but 19 test labels"):
        read_idx_folder(folder)


def test_missing_file_and_folder(tmp_path) -> None:
    folder = write_idx_folder(tmp_path)
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"missing train-labels-idx1-ubyte \(or train-labels-idx1-ubyte.gz\)"):
        read_idx_folder(folder)
    with pytest.raises(DataError, match="no such folder"):
        read_idx_folder(tmp_path / "nowhere")


def test_cut_off_gzip_stream(tmp_path) -> None:
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((50, 6, 6))))[:-12])
    with pytest.raises(DataError, match="cannot be read, truncated or damaged"):
        read_idx(path, 3)


def test_trailing_bytes(tmp_path) -> None:
    path = tmp_path / "long"
    path.write_bytes(idx_bytes(np.zeros((2, 3, 3))) + b"\x00")
    with pytest.raises(DataError, match=r"promises shape \(2, 3, 3\) \(34 bytes\) but the file has 35 bytes"):
        read_idx(path, 3)
