"""Filters learned from photographs, and how much a filter looks like a Gabor filter.

The CNN chapter shows the lecture's claim that first-layer filters resemble Gabor filters
with filters that learning finds on natural images: independent component analysis (ICA)
of small patches of a photograph, the classic experiment behind that claim. It also needs
a number for "looks like a Gabor filter": the best match of a filter in a bank of Gabor
filters of every position, orientation, wavelength and width.
"""

from __future__ import annotations

import math

import torch


def random_patches(image: torch.Tensor, size: int, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` square patches of ``image`` (H, W) at random positions, flattened: (count, size * size)."""
    height, width = image.shape
    if size > min(height, width):
        raise ValueError(f"patches of {size} pixels do not fit in an image of {height} x {width}")
    rows = torch.randint(0, height - size + 1, (count, 1, 1), generator=generator)
    cols = torch.randint(0, width - size + 1, (count, 1, 1), generator=generator)
    offsets = torch.arange(size)
    patches = image[rows + offsets[:, None], cols + offsets[None, :]]  # (count, size, size)
    return patches.reshape(count, size * size)


def ica_basis(patches: torch.Tensor, components: int, dimensions: int, generator: torch.Generator,
              iterations: int = 300, tolerance: float = 1e-5) -> torch.Tensor:
    """Independent components of ``patches`` (N, D), as ``components`` images of D pixels each.

    Each patch loses its mean (the brightness of the patch says nothing about its structure),
    then the patches are whitened in their ``dimensions`` strongest principal directions
    (which drops the finest, noisiest detail), and symmetric FastICA with the tanh contrast
    looks for the directions along which the patches are least Gaussian. The result is the
    mixing basis in pixel space: the image that each independent component adds to a patch.
    """
    if not components <= dimensions <= patches.shape[1]:
        raise ValueError(f"need components <= dimensions <= {patches.shape[1]}, got {components} and {dimensions}")
    centred = patches - patches.mean(dim=1, keepdim=True)
    variances, directions = torch.linalg.eigh(centred.T @ centred / len(centred))
    variances, directions = variances[-dimensions:], directions[:, -dimensions:]  # the strongest ones
    white = centred @ directions / variances.sqrt()  # (N, dimensions), unit covariance
    unmixing = torch.linalg.qr(torch.randn(dimensions, components, generator=generator))[0].T
    for _ in range(iterations):
        projected = torch.tanh(unmixing @ white.T)  # (components, N)
        update = projected @ white / len(white) - (1 - projected**2).mean(dim=1, keepdim=True) * unmixing
        left, _, right = torch.linalg.svd(update, full_matrices=False)
        update = left @ right  # symmetric decorrelation: the rows stay orthonormal
        converged = (1 - (update * unmixing).sum(dim=1).abs()).max() < tolerance
        unmixing = update
        if converged:
            break
    return (directions * variances.sqrt() @ unmixing.T).T  # (components, D)


def gabor_bank(size: int) -> torch.Tensor:
    """Unit-norm, zero-mean Gabor filters of ``size`` x ``size`` pixels, flattened: (filters, size * size).

    Every centre on the pixel grid, 8 orientations, 4 wavelengths, 4 envelope widths, and two
    phases (even and odd), so that any localised, oriented stripe pattern has a close match.
    """
    pixels = torch.arange(size, dtype=torch.float32)
    ys, xs = torch.meshgrid(pixels, pixels, indexing="ij")
    grids = torch.meshgrid(pixels, pixels, torch.arange(8) * math.pi / 8, torch.tensor([2.5, 3.5, 5.0, 7.0]),
                           torch.tensor([1.0, 1.5, 2.2, 3.0]), torch.tensor([0.0, math.pi / 2]), indexing="ij")
    centre_y, centre_x, angle, wavelength, width, phase = (grid.reshape(-1, 1, 1) for grid in grids)
    along = (xs - centre_x) * torch.cos(angle) + (ys - centre_y) * torch.sin(angle)
    envelope = torch.exp(-((xs - centre_x) ** 2 + (ys - centre_y) ** 2) / (2 * width**2))
    bank = (envelope * torch.cos(2 * math.pi * along / wavelength + phase)).flatten(1)  # (filters, size²)
    bank = bank - bank.mean(dim=1, keepdim=True)
    return bank / bank.norm(dim=1, keepdim=True)


def gabor_likeness(filters: torch.Tensor) -> torch.Tensor:
    """For each square filter (F, k, k) or (F, k * k), its best |correlation| with a Gabor filter, in [0, 1].

    1 means the filter is exactly a Gabor filter (up to sign and scale); a filter of random
    numbers scores well below 1, because no smooth stripe pattern fits it.
    """
    flat = filters.reshape(len(filters), -1).float()
    size = math.isqrt(flat.shape[1])
    if size * size != flat.shape[1]:
        raise ValueError(f"filters must be square, got {flat.shape[1]} pixels each")
    flat = flat - flat.mean(dim=1, keepdim=True)
    flat = flat / flat.norm(dim=1, keepdim=True).clamp(min=1e-12)
    return (flat @ gabor_bank(size).T).abs().max(dim=1).values
