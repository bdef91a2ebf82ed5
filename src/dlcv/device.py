"""Choosing where tensors live: a CUDA GPU, Apple's MPS, or the CPU."""

from __future__ import annotations

import os

import torch

_CHOICES = ("cuda", "mps", "cpu")


def describe_device(device: torch.device) -> str:
    """A human-readable name, e.g. ``cuda (NVIDIA H100 80GB HBM3)`` or ``cpu (2 threads)``."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        threads = torch.get_num_threads()
        return f"cpu ({threads} thread{'s' if threads != 1 else ''})"
    return device.type


def choose_device(verbose: bool = True) -> torch.device:
    """The fastest device available: CUDA, then Apple's MPS, then the CPU.

    Set ``DLCV_DEVICE`` (``cuda``, ``mps`` or ``cpu``) to override the choice, e.g. to
    compare a GPU with the CPU. With ``verbose`` the choice is printed, so every
    notebook says where its numbers came from.
    """
    requested = os.environ.get("DLCV_DEVICE", "").strip().lower()
    if requested:
        if requested not in _CHOICES:
            raise ValueError(
                f"DLCV_DEVICE={requested!r} is not one of {', '.join(_CHOICES)}; "
                "unset it to let the course choose."
            )
        if requested == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("DLCV_DEVICE=cuda, but PyTorch sees no CUDA GPU here; unset it.")
        if requested == "mps" and not torch.backends.mps.is_available():
            raise RuntimeError("DLCV_DEVICE=mps, but PyTorch sees no Apple GPU here; unset it.")
        device = torch.device(requested)
    elif torch.cuda.is_available():
        device = torch.device("cuda")
    elif torch.backends.mps.is_available():
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    if verbose:
        print(f"Using {describe_device(device)}")
    return device
