"""The MNIST loader: offline, checked by checksum, clear about damaged or missing files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from torchvision.datasets import MNIST

from dlcv.data import (
    MNIST_FILES,
    MNIST_MEAN,
    MNIST_STD,
    VALIDATION_SIZE,
    MNISTFileError,
    default_data_dir,
    load_mnist,
    mnist_tensors,
    prepare_mnist,
    random_shifts,
    shift_images,
    train_validation_split,
)

TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture
def shipped_copy(tmp_path: Path) -> Path:
    """A data folder holding copies of the course's four MNIST archives, nothing else."""
    (tmp_path / "mnist").mkdir()
    for name in MNIST_FILES:
        shutil.copy(default_data_dir() / "mnist" / f"{name}.gz", tmp_path / "mnist")
    return tmp_path


def test_training_split_shapes_and_label_counts():
    images, labels = mnist_tensors(train=True)
    assert images.shape == (60_000, 1, 28, 28) and images.dtype == torch.float32
    assert labels.shape == (60_000,) and labels.dtype == torch.int64
    assert torch.bincount(labels).tolist() == TRAIN_LABEL_COUNTS


def test_test_split_shapes_and_label_counts():
    images, labels = mnist_tensors(train=False)
    assert images.shape == (10_000, 1, 28, 28)
    assert torch.bincount(labels).tolist() == TEST_LABEL_COUNTS


def test_normalisation_uses_the_training_statistics():
    raw, _ = mnist_tensors(train=True, normalize=False)
    assert raw.min().item() == 0.0 and raw.max().item() == 1.0
    assert raw.mean().item() == pytest.approx(MNIST_MEAN, abs=1e-4)
    assert raw.std().item() == pytest.approx(MNIST_STD, abs=1e-4)
    standardised, _ = mnist_tensors(train=True)
    assert standardised.mean().item() == pytest.approx(0.0, abs=1e-3)
    assert standardised.std().item() == pytest.approx(1.0, abs=1e-3)


def test_loads_through_torchvision_in_its_raw_layout(shipped_copy):
    dataset = load_mnist(train=False, root=shipped_copy, download=False)
    assert isinstance(dataset, MNIST) and len(dataset) == 10_000
    for name in MNIST_FILES:
        assert (shipped_copy / "MNIST" / "raw" / name).is_file()


def test_checksum_record_matches_the_sums_files_shipped_with_the_data():
    folder = default_data_dir() / "mnist"
    sha256 = dict(line.split()[::-1] for line in (folder / "SHA256SUMS").read_text().splitlines())
    md5 = dict(line.split()[::-1] for line in (folder / "MD5SUMS.uncompressed").read_text().splitlines())
    for name, (archive_sha256, raw_md5) in MNIST_FILES.items():
        assert sha256[f"{name}.gz"] == archive_sha256
        assert md5[name] == raw_md5


def test_damaged_archive_is_named_and_kept(shipped_copy):
    archive = shipped_copy / "mnist" / "train-labels-idx1-ubyte.gz"
    damaged = bytearray(archive.read_bytes())
    damaged[100] ^= 0xFF
    archive.write_bytes(bytes(damaged))
    with pytest.raises(MNISTFileError) as error:
        prepare_mnist(shipped_copy, download=False)
    message = str(error.value)
    assert "train-labels-idx1-ubyte.gz" in message and "damaged" in message
    assert "git checkout -- data/mnist/train-labels-idx1-ubyte.gz" in message
    assert archive.read_bytes() == bytes(damaged), "the damaged file must be left for inspection"


def test_missing_archive_is_named_when_download_is_off(shipped_copy):
    (shipped_copy / "mnist" / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(MNISTFileError) as error:
        prepare_mnist(shipped_copy, download=False)
    message = str(error.value)
    assert "t10k-images-idx3-ubyte.gz" in message and "missing" in message
    assert "train-images" not in message, "only the missing file should be named"
    assert "git checkout -- data/mnist" in message


def test_damaged_decompressed_file_is_rebuilt_from_the_archive(shipped_copy):
    prepare_mnist(shipped_copy, download=False)
    raw = shipped_copy / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    raw.write_bytes(b"not an IDX file")
    prepare_mnist(shipped_copy, download=False)
    assert len(load_mnist(train=False, root=shipped_copy, download=False)) == 10_000


def test_data_folder_can_be_moved_with_an_environment_variable(shipped_copy, monkeypatch):
    monkeypatch.setenv("DLCV_DATA_DIR", str(shipped_copy))
    assert default_data_dir() == shipped_copy.resolve()
    images, _ = mnist_tensors(train=False)
    assert images.shape == (10_000, 1, 28, 28)


def test_shift_images_moves_content_and_fills_with_background():
    image = torch.zeros(1, 1, 5, 5)
    image[0, 0, 2, 2] = 1.0
    moved = shift_images(image, dx=2, dy=-1)
    assert moved[0, 0, 1, 4] == 1.0 and moved.sum() == 1.0
    assert torch.equal(shift_images(moved, dx=-2, dy=1), image)
    background = torch.full((2, 1, 4, 4), -0.42)
    assert torch.equal(shift_images(background, dx=1, dy=1), background)
    with pytest.raises(ValueError, match="out of view"):
        shift_images(image, dx=5)


def test_a_data_folder_without_archives_takes_those_the_package_carries(tmp_path, monkeypatch):
    """After a regular install there is no data/mnist/: the archives inside the package are used."""
    empty = tmp_path / "cache"
    monkeypatch.setenv("DLCV_DATA_DIR", str(empty))
    images, labels = mnist_tensors(train=False)
    assert images.shape == (10_000, 1, 28, 28)
    assert torch.bincount(labels).tolist() == TEST_LABEL_COUNTS
    assert sorted(path.name for path in (empty / "MNIST" / "raw").iterdir()) == sorted(MNIST_FILES)


def test_a_damaged_archive_inside_the_package_is_named_with_how_to_reinstall(tmp_path, monkeypatch):
    bundled = tmp_path / "site-packages" / "dlcv" / "_mnist"
    shutil.copytree(default_data_dir() / "mnist", bundled)
    archive = bundled / "t10k-labels-idx1-ubyte.gz"
    archive.write_bytes(archive.read_bytes()[:1000])  # a partial file
    monkeypatch.setattr("dlcv.data.bundled_archives", lambda: bundled)
    with pytest.raises(MNISTFileError) as error:
        prepare_mnist(tmp_path / "cache", download=False)
    message = str(error.value)
    assert str(archive) in message and "damaged" in message
    assert "pip install --force-reinstall dlcv-course" in message


def test_the_package_carries_the_same_archives_as_the_course():
    from dlcv.data import bundled_archives

    for name in MNIST_FILES:
        shipped = default_data_dir() / "mnist" / f"{name}.gz"
        assert (bundled_archives() / f"{name}.gz").read_bytes() == shipped.read_bytes()


def test_validation_split_is_fixed_disjoint_and_complete():
    images = torch.arange(100.0).view(100, 1, 1, 1)
    labels = torch.arange(100)
    (train_x, train_y), (val_x, val_y) = train_validation_split(images, labels, validation=20, seed=3)
    assert len(train_x) == len(train_y) == 80 and len(val_x) == len(val_y) == 20
    assert torch.equal(train_x.flatten().long(), train_y) and torch.equal(val_x.flatten().long(), val_y)
    assert set(train_y.tolist()).isdisjoint(val_y.tolist())
    assert sorted(train_y.tolist() + val_y.tolist()) == list(range(100))
    (_, again), (_, again_val) = train_validation_split(images, labels, validation=20, seed=3)
    assert torch.equal(again, train_y) and torch.equal(again_val, val_y), "the same seed, the same split"
    torch.manual_seed(123)  # the global random state must not matter
    (_, third), _ = train_validation_split(images, labels, validation=20, seed=3)
    assert torch.equal(third, train_y)
    (_, other), _ = train_validation_split(images, labels, validation=20, seed=4)
    assert not torch.equal(other, train_y), "another seed, another split"
    assert val_y.tolist() != list(range(20)), "the held-out images are drawn at random, not the first ones"


def test_validation_split_of_mnist_holds_out_ten_thousand_of_every_class():
    (train_x, train_y), (val_x, val_y) = train_validation_split(*mnist_tensors(train=True))
    assert len(train_y) == 50_000 and len(val_y) == VALIDATION_SIZE == 10_000
    counts = torch.bincount(val_y, minlength=10)
    assert all(800 < c < 1_200 for c in counts.tolist()), counts
    assert val_x.shape == (10_000, 1, 28, 28)


def test_validation_split_refuses_impossible_sizes():
    with pytest.raises(ValueError, match="cannot hold out 10 of 10"):
        train_validation_split(torch.zeros(10, 1), torch.zeros(10), validation=10)
    with pytest.raises(ValueError, match="10 images but 9 labels"):
        train_validation_split(torch.zeros(10, 1), torch.zeros(9), validation=2)


def test_random_shifts_move_each_image_by_whole_pixels_within_the_limit():
    images = torch.zeros(200, 1, 9, 9)
    images[:, 0, 4, 4] = 1.0  # one ink pixel in the middle of each image
    moved = random_shifts(images, max_shift=2, generator=torch.Generator().manual_seed(0))
    assert moved.shape == images.shape
    assert torch.all(moved.sum(dim=(1, 2, 3)) == 1.0), "a shift of at most 2 keeps the central pixel in view"
    where = moved[:, 0].flatten(1).argmax(dim=1)
    rows, cols = where // 9 - 4, where % 9 - 4
    assert rows.abs().max() == 2 and cols.abs().max() == 2
    assert len(set(zip(rows.tolist(), cols.tolist()))) == 25, "all 25 shifts occur in 200 images"
    again = random_shifts(images, max_shift=2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(moved, again)


def test_random_shifts_agree_with_shift_images_and_fill_with_background():
    images, _ = mnist_tensors(train=False)
    images = images[:50]
    generator = torch.Generator().manual_seed(1)
    moved = random_shifts(images, max_shift=3, generator=generator)
    dx, dy = torch.randint(-3, 4, (2, 50), generator=torch.Generator().manual_seed(1))
    for i in range(50):
        assert torch.equal(moved[i], shift_images(images[i], dx=dx[i].item(), dy=dy[i].item()))
    assert torch.equal(random_shifts(images, 0), images)
    with pytest.raises(ValueError, match="max_shift"):
        random_shifts(images, 28)
