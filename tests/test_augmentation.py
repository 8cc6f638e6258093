"""Data augmentation (``train.augment``): its spec forms, where it applies, exact resume, bad input."""

from __future__ import annotations

import json
import math
import re
import shutil
import tomllib
from pathlib import Path

import attrs
import numpy as np
import pytest
from fixtures.regenerate import outcome
from interrupt_at import InterruptAt
from plugnn_std import Adam, Dense, RandomErasing, RandomFlip, RandomShift
from spec_files import spec_toml

import plugnn
from plugnn.augmentation import augmentation_generator
from plugnn.checkpoint import load_checkpoint, restore, save_checkpoint
from plugnn.cli import main
from plugnn.npzfile import read_npz, write_npz
from plugnn.specfile import dumps
from plugnn.specs import RunSpec
from plugnn.testing import ConformanceError, iter_checks
from plugnn.validation import split_indices

AUGMENT = 'augment = [{ type = "random_shift", pixels = 2 }, { type = "random_flip", axis = "horizontal" }]'
SPEC = spec_toml("The tiny MLP on shifted and flipped digits.", epochs=3, batch_size=64, train=AUGMENT)


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "augmented.toml"
    path.write_text(SPEC)
    return path


@pytest.fixture(scope="module")
def reference(spec_file, tmp_path_factory) -> tuple[Path, dict[str, object]]:
    """The uninterrupted run's folder and outcome."""
    folder = tmp_path_factory.mktemp("reference") / "run"
    plugnn.run(spec_file, out=folder, quiet=True)
    return folder, outcome(folder)


def test_the_inline_list_and_the_tables_are_one_spec_and_round_trip(registry, spec_file) -> None:
    tables = SPEC.replace(
        AUGMENT,
        '[[train.augment]]\ntype = "random_shift"\npixels = 2\n\n[[train.augment]]\ntype = "random_flip"\n',
    )
    inline = plugnn.structure(tomllib.loads(SPEC), RunSpec, registry)
    assert plugnn.structure(tomllib.loads(tables), RunSpec, registry) == inline
    assert inline.train.augment == (RandomShift(2), RandomFlip("horizontal"))
    assert plugnn.structure(plugnn.unstructure(inline, registry), RunSpec, registry) == inline
    shown = dumps(inline, registry)  # what plugnn show prints and a run folder's spec.toml holds
    assert '{ type = "random_shift", pixels = 2, mode = "constant" }' in shown
    assert plugnn.structure(tomllib.loads(shown), RunSpec, registry) == inline
    changed = plugnn.apply_overrides(inline, {"train.augment": ["random_flip"]}, registry)
    assert changed.train.augment == ("random_flip",)


class CrashAt(InterruptAt):
    """Ends training at once after batch ``batch`` of ``epoch``, as SIGKILL would: no checkpoint is
    written on the way out, so the last one is the previous epoch's."""

    @plugnn.hookimpl
    def plugnn_batch_end(self, context: plugnn.TrainContext) -> None:
        if (context.epoch, context.batch) == (self.epoch, self.batch):
            raise SystemExit("killed")


def test_interrupted_then_killed_and_resumed_is_bit_identical(tmp_path, spec_file, reference) -> None:
    run = tmp_path / "run"
    registry = plugnn.load_registry(strict=True, third_party=False, extra_plugins=[InterruptAt(2, 3)])
    with pytest.raises(plugnn.TrainingInterrupted):  # Ctrl-C: a checkpoint mid-epoch
        plugnn.run(spec_file, out=run, quiet=True, registry=registry)
    assert load_checkpoint(run / "checkpoint.npz", registry).resume.position == 4 * 64
    with pytest.raises(SystemExit):  # killed in epoch 3: epoch 2's checkpoint is left
        plugnn.resume(run, quiet=True, plugins=[CrashAt(3, 1)])
    assert load_checkpoint(run / "checkpoint.npz", registry).resume.epoch == 3
    plugnn.resume(run, quiet=True)
    assert outcome(run) == reference[1]


def images(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """``n`` tiny images ``(n, 3, 3, 1)`` whose first pixel is the row's number / 100, and two classes."""
    x = np.random.default_rng(0).random((n, 3, 3, 1)).astype(np.float32)
    x[:, 0, 0, 0] = np.arange(n, dtype=np.float32) / 100
    return x, np.arange(n) % 2


@attrs.frozen
class Log(plugnn.AugmentationSpec):
    """Records the first pixel of every batch it is given, then adds ``add``."""

    add: float = 0.0


SEEN: dict[float, list[np.ndarray]] = {}


class LogAugmentation:
    def __init__(self, spec: Log, sample_shape: tuple[int, ...]) -> None:
        self.add = np.float32(spec.add)
        SEEN[spec.add] = []

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        SEEN[float(self.add)].append(x[:, 0, 0, 0].copy())
        return x + self.add


class LogPlugin:
    @plugnn.hookimpl
    def plugnn_register_augmentations(self, register):
        register("log", Log, LogAugmentation)


@pytest.mark.parametrize("shuffle", [True, False])
def test_only_training_batches_are_augmented_in_order_and_the_data_is_left_alone(shuffle) -> None:
    registry = plugnn.load_registry(strict=True, third_party=False, extra_plugins=[LogPlugin()])
    x, y = images()
    x.setflags(write=False)  # an augmentation writing into the dataset would fail here
    kept = x.copy()
    spec = plugnn.NetworkSpec(layers=[Dense(2)], loss="softmax_cross_entropy", optimizer=Adam(), init="he")
    train = plugnn.TrainSpec(
        epochs=2, batch_size=8, shuffle=shuffle, validation=0.25, augment=(Log(add=0.5), Log(add=0.0))
    )
    result = plugnn.train(spec, x, y, train, test=(x[:10], y[:10]), registry=registry)
    assert np.array_equal(x, kept)
    first, second = SEEN[0.5], SEEN[0.0]
    assert [len(b) for b in first] == [8, 8, 8, 6] * 2  # 30 training rows a epoch; no validation, no test rows
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(b, a + np.float32(0.5))  # in the order train.augment lists
    rows = [np.rint(np.concatenate(first[k : k + 4]) * 100).astype(int) for k in (0, 4)]
    train_rows, _ = split_indices(y, 0.25, 0)
    for seen in rows:
        assert sorted(seen) == sorted(train_rows)  # each training row once an epoch
        if not shuffle:
            assert list(seen) == list(train_rows)
    if shuffle:  # the shuffling stream is the one a run without augmentation draws
        order = np.random.default_rng(np.random.SeedSequence(0).spawn(3)[1])
        assert [list(seen) for seen in rows] == [list(train_rows[order.permutation(30)]) for _ in rows]
    assert len(result.history.records) == 2


def digit_images(digits) -> tuple[np.ndarray, np.ndarray]:
    x_train, _, y_train, _ = digits
    return x_train.reshape(-1, 8, 8, 1), y_train


def test_n_epochs_then_m_more_from_a_saved_model_equal_one_run(tmp_path, registry, digits) -> None:
    x, y = digit_images(digits)
    layers = [Dense(16), "relu", Dense(10)]
    spec = plugnn.NetworkSpec(layers=layers, loss="softmax_cross_entropy", optimizer=Adam(), init="he")
    augment = (RandomShift(1, "edge"), RandomFlip("both", 0.3))
    whole = plugnn.train(spec, x, y, plugnn.TrainSpec(epochs=3, batch_size=100, augment=augment), registry=registry)
    part = plugnn.train(spec, x, y, plugnn.TrainSpec(epochs=2, batch_size=100, augment=augment), registry=registry)
    plugnn.save(part.network, tmp_path / "part.npz", registry=registry)
    loaded = plugnn.load(tmp_path / "part.npz", registry)
    more = plugnn.TrainSpec(epochs=1, batch_size=100, augment=augment)
    rest = plugnn.train(spec, x, y, more, registry=registry, start_from=loaded)
    np.testing.assert_array_equal(rest.network.params, whole.network.params)
    plain = plugnn.train(spec, x, y, plugnn.TrainSpec(epochs=3, batch_size=100), registry=registry)
    assert not np.array_equal(plain.network.params, whole.network.params)  # augmentation did change training


def test_files_without_an_augmentation_state_load_with_the_seeds_stream(tmp_path, registry, reference) -> None:
    path = Path(shutil.copy(reference[0] / "checkpoint.npz", tmp_path))
    checkpoint = load_checkpoint(path, registry)
    assert checkpoint.augment_state is not None
    save_checkpoint(path, attrs.evolve(checkpoint, augment_state=None), registry)  # as written before augmentation
    old = load_checkpoint(path, registry)
    assert old.augment_state is None
    fresh = augmentation_generator(old.spec.train.seed).bit_generator.state
    assert restore(old, registry)[3].bit_generator.state == fresh

    spec = plugnn.NetworkSpec(layers=[Dense(2)], loss="softmax_cross_entropy", optimizer=Adam(), init="he")
    model = plugnn.train(spec, *images(), plugnn.TrainSpec(epochs=1, batch_size=16, seed=7), registry=registry).network
    plugnn.save(model, tmp_path / "model.npz", registry=registry)
    arrays = dict(read_npz(tmp_path / "model.npz", "model"))
    described = json.loads(str(arrays["train_state"]))
    del described["generators"]["augment"]
    arrays["train_state"] = np.array(json.dumps(described))
    write_npz(tmp_path / "model.npz", "model", arrays)
    state = plugnn.load(tmp_path / "model.npz", registry).train_state
    assert state.augment_rng.bit_generator.state == augmentation_generator(7).bit_generator.state


BAD = [
    pytest.param(
        "diabetes-mlp",
        '[{type = "random_shift", pixels = 2}]',
        r"train\.augment\[0\] \(random_shift\): got sample shape \(10,\), needs \(H, W, C\) images",
        id="a shift of flat features",
    ),
    pytest.param(
        "quickstart",
        '["random_flip", "random_shfit"]',
        r"invalid spec: train\.augment\[1\]: unknown augmentation 'random_shfit'; did you mean 'random_shift'",
        id="a misspelt name",
    ),
    pytest.param(
        "quickstart",
        '[{type = "random_shift", pixels = 8}]',
        r"invalid spec: train\.augment\[0\]\.pixels: must be less than the images' height and width, 8 x 8 \(got 8\)",
        id="a shift as large as the images",
    ),
    pytest.param(
        "quickstart",
        '[{type = "random_shift", pixels = -1}]',
        r"invalid spec: train\.augment\[0\]\.pixels: must be > 0 \(got -1\)",
        id="a negative shift",
    ),
    pytest.param(
        "quickstart",
        '[{type = "random_erasing", min_area = 0.3, max_area = 0.2}]',
        r"invalid spec: train\.augment\[0\]\.max_area: must be >= min_area = 0\.3 \(got 0\.2\)",
        id="an empty range of areas",
    ),
    pytest.param(
        "quickstart",
        '[{type = "random_erasing", value = 1e40}]',
        r"invalid spec: train\.augment\[0\]\.value: must be between -1e\+15 and 1e\+15 \(got 1e\+40\)",
        id="a fill float32 cannot hold",
    ),
    pytest.param(
        "quickstart",
        '[{type = "random_flip", axis = "diagonal"}]',
        r"invalid spec: train\.augment\[0\]\.axis: must be one of 'horizontal', 'vertical', 'both'",
        id="an unknown axis",
    ),
]


@pytest.mark.parametrize(("recipe", "augment", "message"), BAD)
def test_bad_augmentation_is_one_line_before_anything_is_written(tmp_path, capsys, recipe, augment, message) -> None:
    out = tmp_path / "run"
    assert main(["run", recipe, "--set", f"train.augment={augment}", "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("plugnn: error: "), err
    assert re.search(message, err), err
    assert not out.exists()


@attrs.frozen
class Flaw(plugnn.AugmentationSpec):
    """One way of breaking the augmentation protocol."""

    kind: str = "in_place"

    @classmethod
    def examples(cls) -> list[Flaw]:
        return [cls("in_place"), cls("global"), cls("upcast")]


class FlawedAugmentation:
    def __init__(self, spec: Flaw, sample_shape: tuple[int, ...]) -> None:
        self.kind = spec.kind

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.kind == "in_place":
            x *= rng.random(len(x), dtype=x.dtype)[:, None, None, None]
            return x
        if self.kind == "global":
            return x * np.random.random()
        return (x * rng.random()).astype(np.float64)  # "upcast"


class FlawPlugin:
    @plugnn.hookimpl
    def plugnn_register_augmentations(self, register):
        register("flaw", Flaw, FlawedAugmentation)


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ("flaw[0]-input_unchanged", r"^augmentation 'flaw' .*: wrote into its input: .*read-only"),
        ("flaw[1]-generator_only", r"^augmentation 'flaw' .*: drew nothing from the generator it was given"),
        ("flaw[2]-shapes_and_dtype", r"a batch float32\(1, 6, 5, 2\) became float64\(1, 6, 5, 2\)"),
    ],
)
def test_the_kit_catches_a_flawed_augmentation(check, message) -> None:
    registry = plugnn.load_registry(entry_points_enabled=False, extra_plugins=[FlawPlugin()])
    checks = {c.id: c for c in iter_checks(registry)}
    with pytest.raises(ConformanceError, match=message):
        checks[f"augmentation:{check}"]()


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect"])
def test_random_shift_is_numpys_pad_then_a_crop_at_the_drawn_corner(registry, mode) -> None:
    x = np.random.default_rng(0).random((9, 6, 7, 2)).astype(np.float32)
    shift = registry.tables["augmentation"].get("random_shift").factory(RandomShift(3, mode), (6, 7, 2))
    corner = np.random.default_rng(1).integers(0, 7, size=(2, 9))  # the draws it makes from the same state
    padded = np.pad(x, ((0, 0), (3, 3), (3, 3), (0, 0)), mode=mode)
    crops = [padded[n, corner[0, n] : corner[0, n] + 6, corner[1, n] : corner[1, n] + 7] for n in range(9)]
    np.testing.assert_array_equal(shift(x, np.random.default_rng(1)), np.stack(crops))


def test_random_flip_mirrors_the_samples_drawn(registry) -> None:
    x = np.random.default_rng(0).random((9, 6, 7, 2)).astype(np.float32)
    flip = registry.tables["augmentation"].get("random_flip").factory(RandomFlip("both"), (6, 7, 2))
    vertical, horizontal = np.random.default_rng(2).random((2, 9)) < 0.5
    expected = [x[n, :: -1 if vertical[n] else 1, :: -1 if horizontal[n] else 1] for n in range(9)]
    np.testing.assert_array_equal(flip(x, np.random.default_rng(2)), np.stack(expected))


def test_random_erasing_draws_as_torchvision_and_erases_the_rectangle(registry) -> None:
    """Each image's rectangle, drawn one image at a time by torchvision's loop from the same draws."""
    x = np.random.default_rng(0).random((40, 6, 9, 2)).astype(np.float32)
    spec = RandomErasing(probability=0.7, min_area=0.05, max_area=0.9, min_aspect=0.3, max_aspect=3.3, value=-1.0)
    erase = registry.tables["augmentation"].get("random_erasing").factory(spec, (6, 9, 2))
    got = erase(x, np.random.default_rng(3))
    rng = np.random.default_rng(3)  # the draws it makes: coins, areas, aspects, then the corners
    coins = rng.random(40) < 0.7
    areas = 54 * rng.uniform(0.05, 0.9, size=(40, 10))
    aspects = np.exp(rng.uniform(np.log(0.3), np.log(3.3), size=(40, 10)))
    sizes = []
    for n in range(40):
        size = (0, 0)
        for area, aspect in zip(areas[n], aspects[n], strict=True):  # torchvision's get_params
            h, w = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
            if h < 6 and w < 9:
                size = (h, w) if coins[n] else (0, 0)
                break
        sizes.append(size)
    h, w = np.array(sizes).T
    top, left = rng.integers(0, 6 - h + 1), rng.integers(0, 9 - w + 1)
    expected = x.copy()
    for n in range(40):
        expected[n, top[n] : top[n] + h[n], left[n] : left[n] + w[n]] = -1.0
    np.testing.assert_array_equal(got, expected)
    erased = (got == -1.0).all(axis=3).sum(axis=(1, 2))
    assert 0 < np.count_nonzero(erased) < 40  # some images erased, some not
    assert np.all(erased == h * w)
