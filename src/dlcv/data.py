"""MNIST, read offline from the copy the course ships.

The course keeps the four gzip-compressed IDX files in git (``data/mnist/``), and the
installed package carries the same files (``dlcv/_mnist``, a link to that folder in the
source tree), so a regular ``pip install`` (Binder, Colab) has them too. On first use they
are checked against the checksums below and decompressed into the layout
``torchvision.datasets.MNIST`` reads (``<root>/MNIST/raw/``), so nothing is downloaded.
Only when the shipped files are absent does torchvision's own downloader get a chance,
and a failure says which file and what to do.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import torch

# Pixel statistics of the 60,000 training images scaled to [0, 1].
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

# name: (SHA-256 of the shipped .gz file, MD5 of the decompressed IDX file)
MNIST_FILES = {
    "train-images-idx3-ubyte": (
        "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971",
        "6bbc9ace898e44ae57da46a324031adb",
    ),
    "train-labels-idx1-ubyte": (
        "1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203",
        "a25bea736e30d166cdddb491f175f624",
    ),
    "t10k-images-idx3-ubyte": (
        "1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be",
        "2646ac647ad5339dbf082846283269ea",
    ),
    "t10k-labels-idx1-ubyte": (
        "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b",
        "27ae3e4e09519cfbb04c329615203637",
    ),
}


class MNISTFileError(RuntimeError):
    """A file of the course's MNIST copy is missing or damaged."""


def default_data_dir() -> Path:
    """``$DLCV_DATA_DIR`` when set; else the course's ``data/`` folder; else a cache folder.

    Installed in editable mode from a course checkout, the package finds ``data/`` two
    levels above this file (``src/dlcv/data.py``). Installed regularly there is no such
    folder: the archives inside the package are then decompressed into
    ``$XDG_CACHE_HOME/dlcv`` (``~/.cache/dlcv``), because site-packages may be read-only.
    """
    override = os.environ.get("DLCV_DATA_DIR")
    if override:
        return Path(override).expanduser().resolve()
    checkout = Path(__file__).resolve().parents[2] / "data"
    if (checkout / "mnist").is_dir():
        return checkout
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser().resolve() / "dlcv"


def bundled_archives() -> Path:
    """The MNIST archives inside the installed package (``dlcv/_mnist``)."""
    return Path(__file__).resolve().parent / "_mnist"


def _archive_folder(root: Path) -> tuple[Path, str]:
    """Where ``root``'s archives are, and how to restore one of them when it is damaged.

    A data folder without ``mnist/`` (the cache of a regular install, or an empty
    ``$DLCV_DATA_DIR``) takes the archives the package carries.
    """
    if not (root / "mnist").is_dir() and bundled_archives().is_dir():
        return bundled_archives(), "reinstall the course package (`pip install --force-reinstall dlcv-course`)"
    return root / "mnist", "run `git checkout -- data/mnist` from the course root, or copy it from a fresh clone"


def _file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=32)
def _cached_digest(path: str, algorithm: str, size: int, mtime_ns: int) -> str:
    """Hash a file once per process and version of the file (keyed by size and mtime)."""
    return _file_digest(Path(path), algorithm)


def _digest(path: Path, algorithm: str) -> str:
    stat = path.stat()
    return _cached_digest(str(path), algorithm, stat.st_size, stat.st_mtime_ns)


def _decompress(archive: Path, target: Path, expected_md5: str) -> None:
    """Decompress atomically, so an interrupted run never leaves half a file behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, gzip.open(archive, "rb") as source:
            shutil.copyfileobj(source, out, 1 << 20)
        if _file_digest(Path(temporary), "md5") != expected_md5:
            raise MNISTFileError(
                f"{archive} decompresses to the wrong bytes. Restore it with "
                f"`git checkout -- {archive.name}` inside {archive.parent}, "
                "or copy it again from a fresh clone of the course."
            )
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _try_torchvision_download(root: Path, missing: list[Path], restore: str) -> None:
    """Let torchvision fetch MNIST when the shipped files are absent; explain if it cannot."""
    from torchvision.datasets import MNIST

    try:
        MNIST(str(root), train=True, download=True)
    except Exception as error:  # torchvision raises several kinds when offline
        names = ", ".join(str(path) for path in missing)
        raise MNISTFileError(
            f"MNIST file(s) missing: {names}. The course ships them: {restore}. "
            f"Downloading them instead failed too: {type(error).__name__}: {error}"
        ) from error


def prepare_mnist(root: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Check the shipped MNIST files and lay them out for ``torchvision.datasets.MNIST``.

    Returns the root to pass to torchvision. A damaged file raises ``MNISTFileError``
    naming it (and is left in place, so nothing is lost); a missing one is fetched by
    torchvision when ``download`` is true and the network allows, or named otherwise.
    """
    root = Path(root) if root is not None else default_data_dir()
    shipped, restore = _archive_folder(root)
    raw = root / "MNIST" / "raw"
    missing = []
    for name, (archive_sha256, raw_md5) in MNIST_FILES.items():
        target = raw / name
        if target.exists() and _digest(target, "md5") == raw_md5:
            continue
        archive = shipped / f"{name}.gz"
        if not archive.exists():
            missing.append(archive)
            continue
        if _digest(archive, "sha256") != archive_sha256:
            hint = restore.replace("data/mnist`", f"data/mnist/{archive.name}`")
            raise MNISTFileError(
                f"{archive} is damaged: its SHA-256 does not match the course's record. To restore it, {hint}."
            )
        _decompress(archive, target, raw_md5)
    if missing:
        if not download:
            names = ", ".join(str(path) for path in missing)
            raise MNISTFileError(f"MNIST file(s) missing: {names}. The course ships them: {restore}.")
        _try_torchvision_download(root, missing, restore)
    return root


def load_mnist(train: bool = True, root: str | os.PathLike | None = None, download: bool = True):
    """The MNIST training (60,000) or test (10,000) split as a torchvision dataset."""
    from torchvision.datasets import MNIST

    return MNIST(str(prepare_mnist(root, download)), train=train, download=False)


def mnist_tensors(
    train: bool = True,
    device: torch.device | str | None = None,
    normalize: bool = True,
    root: str | os.PathLike | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A whole MNIST split as two tensors: images (N, 1, 28, 28) float32 and labels (N,) int64.

    Keeping the data set in one tensor (on the GPU when there is one) is what makes
    training on MNIST take seconds: no per-image Python work in the training loop.
    With ``normalize`` the pixels are standardised with the training set's mean and
    standard deviation; without it they lie in [0, 1].
    """
    dataset = load_mnist(train=train, root=root)
    images = dataset.data.unsqueeze(1).to(torch.float32).div_(255.0)
    if normalize:
        images = images.sub_(MNIST_MEAN).div_(MNIST_STD)
    labels = dataset.targets.to(torch.int64)
    return images.to(device), labels.to(device)


def shift_images(images: torch.Tensor, dx: int = 0, dy: int = 0) -> torch.Tensor:
    """Move every image ``dx`` pixels right and ``dy`` pixels down, filling with the corner value.

    Used to test translation invariance: MNIST digits are centred, so a network that
    learned "ink at these pixels" fails on digits moved by a few pixels. The vacated
    border takes the value of the top-left pixel (the background, normalised or not).
    """
    if images.dim() < 2:
        raise ValueError(f"expected images (..., H, W), got shape {tuple(images.shape)}")
    height, width = images.shape[-2:]
    if abs(dx) >= width or abs(dy) >= height:
        raise ValueError(f"a shift of ({dx}, {dy}) moves a {height}x{width} image out of view")
    background = images[..., :1, :1]
    shifted = background.expand_as(images).clone()
    source_rows = slice(max(0, -dy), height - max(0, dy))
    source_cols = slice(max(0, -dx), width - max(0, dx))
    target_rows = slice(max(0, dy), height - max(0, -dy))
    target_cols = slice(max(0, dx), width - max(0, -dx))
    shifted[..., target_rows, target_cols] = images[..., source_rows, source_cols]
    return shifted


VALIDATION_SIZE = 10_000
"""How many of the 60,000 training images the course holds out for validation."""

VALIDATION_SEED = 0
"""The seed that fixes which images those are, the same in every chapter and benchmark."""


def train_validation_split(
    images: torch.Tensor,
    labels: torch.Tensor,
    validation: int = VALIDATION_SIZE,
    seed: int = VALIDATION_SEED,
) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """Split a training set into ``(train_x, train_y), (validation_x, validation_y)``.

    Hyperparameters (learning rate, epochs, regularisation) are chosen by comparing runs on
    the validation images, which training never sees; the test set is then measured once,
    at the end, so that its accuracy is not flattered by the choice. The split is a random
    permutation drawn from ``seed`` alone (not from the global random state), so that every
    chapter, benchmark and rerun holds out exactly the same images, and the two parts never
    share an image.
    """
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels: pass matching tensors.")
    if not 0 < validation < len(images):
        raise ValueError(f"cannot hold out {validation} of {len(images)} images for validation: "
                         "choose a number between 1 and one less than the whole set.")
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed)).to(images.device)
    held_out, kept = order[:validation], order[validation:]
    return (images[kept], labels[kept]), (images[held_out], labels[held_out])


def random_shifts(images: torch.Tensor, max_shift: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Move each image by its own random whole number of pixels, up to ``max_shift`` each way.

    Data augmentation for training: a digit moved by a pixel or two is still the same digit,
    so every epoch shows the network slightly different copies of its training images. As in
    ``shift_images``, the vacated border takes each image's top-left (background) value.
    ``generator`` (on the CPU) draws the shifts, so that a run can be repeated.
    """
    if images.dim() != 4:
        raise ValueError(f"expected a batch of images (N, C, H, W), got shape {tuple(images.shape)}")
    count, _, height, width = images.shape
    if not 0 <= max_shift < min(height, width):
        raise ValueError(f"max_shift must be between 0 and {min(height, width) - 1}, got {max_shift}")
    if max_shift == 0:
        return images.clone()
    dx, dy = torch.randint(-max_shift, max_shift + 1, (2, count), generator=generator).to(images.device)
    # Pad with each image's background, then read a window moved by (-dy, -dx) from each image.
    padded = images[..., :1, :1].expand(-1, -1, height + 2 * max_shift, width + 2 * max_shift).clone()
    padded[..., max_shift:max_shift + height, max_shift:max_shift + width] = images
    rows = torch.arange(height, device=images.device) + max_shift - dy[:, None]  # (N, H)
    cols = torch.arange(width, device=images.device) + max_shift - dx[:, None]   # (N, W)
    which = torch.arange(count, device=images.device)[:, None, None]
    moved = padded.permute(0, 2, 3, 1)[which, rows[:, :, None], cols[:, None, :]]  # (N, H, W, C)
    return moved.permute(0, 3, 1, 2).contiguous()
