"""Seeding: the same seed gives the same numbers, a different seed different ones."""

from __future__ import annotations

import random

import numpy
import torch
from torch import nn

from dlcv.seeding import seed_everything
from dlcv.training import fit


def draws(seed: int) -> tuple:
    generator = seed_everything(seed)
    return (
        random.random(),
        numpy.random.rand(),
        torch.rand(3).tolist(),
        torch.rand(3, generator=generator).tolist(),
    )


def test_same_seed_same_numbers():
    assert draws(7) == draws(7)


def test_different_seed_different_numbers():
    first, second = draws(7), draws(8)
    assert all(a != b for a, b in zip(first, second))


def train_once(seed: int) -> list[torch.Tensor]:
    generator = seed_everything(seed)
    x = torch.randn(512, 20, generator=generator)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 2))
    fit(model, (x, y), epochs=2, batch_size=64, lr=1e-2, generator=generator, progress=False)
    return [p.detach().clone() for p in model.parameters()]


def test_training_is_reproducible():
    first, second = train_once(3), train_once(3)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert not all(torch.equal(a, b) for a, b in zip(first, train_once(4)))
