"""One call that makes a notebook give the same numbers run after run."""

from __future__ import annotations

import random

import torch


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (every device), and make cuDNN deterministic.

    Returns a CPU ``torch.Generator`` seeded the same way, for code that takes an
    explicit generator (shuffling, initialisation) and should not depend on what
    else drew from the global one. Same seed, same machine, same numbers.
    """
    random.seed(seed)
    try:
        import numpy
    except ImportError:  # NumPy is optional for the course's own code
        pass
    else:
        numpy.random.seed(seed)
    torch.manual_seed(seed)  # seeds CUDA and MPS too
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)
