"""Dataset plugins: digits, the MNIST/Fashion-MNIST loaders (with a fake fetch), IDX folders."""

from __future__ import annotations

import urllib.error

import numpy as np
import pytest
from idx_files import write_idx_folder
from plugnn_std.datasets import openml

import plugnn
from plugnn.data import load_dataset, parse_data_option
from plugnn.errors import DataError


def test_digits_is_a_fixed_stratified_split(registry) -> None:
    a, b = load_dataset("digits", registry), load_dataset("digits", registry)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert a.x_train.dtype == np.float32 and a.x_train.min() >= 0 and a.x_train.max() <= 1
    assert len(a.x_train) + len(a.x_test) == 1797 and len(a.x_test) == 450
    assert a.image_shape == (8, 8) and a.classes == tuple("0123456789")
    np.testing.assert_allclose(
        np.bincount(a.y_test) / len(a.y_test), np.bincount(a.y_train) / len(a.y_train), atol=0.01
    )


class FakeFetch:
    """Stands in for sklearn's fetch_openml: 70,000 rows of 0-255 floats, string labels."""

    def __init__(self):
        self.calls = []

    def __call__(self, name, **kwargs):
        self.calls.append((name, kwargs))
        rows = np.arange(70_000)
        x = np.tile((rows % 256).astype(np.float64)[:, None], (1, 784))
        return x, (rows % 10).astype(str)


@pytest.fixture
def fake_fetch(monkeypatch, tmp_path):
    fake = FakeFetch()
    monkeypatch.setattr(openml, "fetch_openml", fake)
    monkeypatch.setenv("PLUGNN_DATA_HOME", str(tmp_path / "cache"))
    return fake


def test_mnist_standard_split_dtype_scaling_and_cache(registry, fake_fetch, tmp_path) -> None:
    split = load_dataset("mnist", registry)
    assert split.x_train.shape == (60_000, 28, 28, 1) and split.x_test.shape == (10_000, 28, 28, 1)
    assert split.x_train.dtype == np.float32 and split.x_train.max() == 1.0 and split.x_train.min() == 0.0
    assert split.y_train.dtype == np.int64 and split.y_train[:3].tolist() == [0, 1, 2]
    assert split.y_test[0] == 60_000 % 10  # the last 10,000 rows, in order: no shuffling
    assert split.x_test[0, 0, 0, 0] == np.float32((60_000 % 256) / 255)
    ((name, kwargs),) = fake_fetch.calls
    assert name == "mnist_784" and kwargs["data_home"] == str(tmp_path / "cache") and kwargs["as_frame"] is False


def test_mnist_offline_without_cache_says_what_to_do(registry, monkeypatch) -> None:
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(openml, "fetch_openml", offline)
    with pytest.raises(
        DataError,
        match=r"cannot load mnist_784: it is not cached in .* use --data digits "
        r"\(bundled\) or --data idx:DIR",
    ):
        load_dataset("mnist", registry)


def test_fashion_mnist_reads_idx_files_from_its_path(registry, tmp_path, fake_fetch) -> None:
    folder = write_idx_folder(tmp_path / "fashion")
    split = load_dataset(
        plugnn.structure({"type": "fashion-mnist", "path": str(folder)}, plugnn.specs.DatasetRef, registry), registry
    )
    assert split.x_train.shape == (60, 6, 6, 1) and split.classes[0] == "T-shirt/top" and not fake_fetch.calls


def test_fashion_mnist_falls_back_to_openml(registry, tmp_path, fake_fetch) -> None:
    ref = plugnn.structure(
        {"type": "fashion-mnist", "path": str(tmp_path / "absent")}, plugnn.specs.DatasetRef, registry
    )
    assert load_dataset(ref, registry).x_test.shape == (10_000, 28, 28, 1)
    assert fake_fetch.calls[0][0] == "Fashion-MNIST"


def test_idx_dataset(registry, tmp_path) -> None:
    folder = write_idx_folder(tmp_path / "toy", side=5)
    split = load_dataset(
        plugnn.structure(parse_data_option(f"idx:{folder}"), plugnn.specs.DatasetRef, registry), registry
    )
    assert (
        split.sample_shape == (5, 5, 1)
        and split.image_shape == (5, 5)
        and split.classes == ("0", "1", "2")
        and split.x_train.dtype == np.float32
    )


def test_parse_data_option() -> None:
    assert parse_data_option("digits") == "digits"
    assert parse_data_option("idx:/a:b") == {"type": "idx", "path": "/a:b"}
    with pytest.raises(DataError, match="expected NAME or NAME:PATH"):
        parse_data_option(":x")
