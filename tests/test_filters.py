"""Filters learned from patches (ICA) and the Gabor-likeness score of the CNN chapter."""

from __future__ import annotations

import math

import pytest
import torch

from dlcv.convolution import gabor_kernel
from dlcv.filters import gabor_bank, gabor_likeness, ica_basis, random_patches


def test_patches_are_pieces_of_the_image_at_random_places():
    image = torch.arange(20 * 30, dtype=torch.float32).reshape(20, 30)
    patches = random_patches(image, 4, 50, torch.Generator().manual_seed(0))
    assert patches.shape == (50, 16)
    for patch in patches.reshape(50, 4, 4):
        top, left = divmod(int(patch[0, 0]), 30)
        assert torch.equal(patch, image[top:top + 4, left:left + 4])
    assert len({int(p[0]) for p in patches}) > 40, "positions must vary"
    with pytest.raises(ValueError, match="do not fit"):
        random_patches(image, 21, 1, torch.Generator())


def test_ica_recovers_the_images_that_were_mixed():
    """Patches made of known basis images with independent, heavy-tailed weights: ICA must find those images."""
    generator = torch.Generator().manual_seed(1)
    true_basis = torch.linalg.qr(torch.randn(16, 4, generator=generator))[0].T  # 4 orthonormal 16-pixel images
    true_basis = true_basis - true_basis.mean(dim=1, keepdim=True)
    weights = torch.distributions.Laplace(0.0, 1.0).sample((20_000, 4))  # independent and non-Gaussian
    patches = weights @ true_basis
    found = ica_basis(patches, components=4, dimensions=4, generator=generator)
    correlation = torch.nn.functional.normalize(found, dim=1) @ torch.nn.functional.normalize(true_basis, dim=1).T
    assert (correlation.abs().max(dim=0).values > 0.98).all(), correlation


def test_ica_refuses_impossible_sizes():
    with pytest.raises(ValueError, match="components <= dimensions"):
        ica_basis(torch.randn(100, 9), components=5, dimensions=4, generator=torch.Generator())


def test_a_gabor_filter_scores_about_one_and_random_numbers_do_not():
    bank = gabor_bank(9)
    assert torch.allclose(bank.norm(dim=1), torch.ones(len(bank)), atol=1e-5)
    assert bank.mean(dim=1).abs().max() < 1e-5
    gabor = gabor_kernel(9, sigma=1.5, theta=math.pi / 4, wavelength=3.5, phase=math.pi / 2, aspect=1.0)
    assert gabor_likeness(gabor[None]) > 0.95
    noise = gabor_likeness(torch.randn(200, 9, 9, generator=torch.Generator().manual_seed(2)))
    assert noise.median() < 0.5
    assert gabor_likeness(-3 * gabor[None]) == pytest.approx(gabor_likeness(gabor[None]).item(), abs=1e-5)
    with pytest.raises(ValueError, match="square"):
        gabor_likeness(torch.randn(2, 10))
