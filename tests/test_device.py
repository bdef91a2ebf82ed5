"""Device choice: CUDA first, then Apple's MPS, then the CPU, and it says which."""

from __future__ import annotations

import pytest
import torch

from dlcv.device import choose_device


@pytest.fixture
def accelerators(monkeypatch):
    """Pretend which accelerators PyTorch sees."""
    monkeypatch.delenv("DLCV_DEVICE", raising=False)

    def set_available(cuda: bool, mps: bool) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return set_available


def test_prefers_cuda(accelerators):
    accelerators(cuda=True, mps=True)
    assert choose_device(verbose=False) == torch.device("cuda")


def test_falls_back_to_mps(accelerators):
    accelerators(cuda=False, mps=True)
    assert choose_device(verbose=False) == torch.device("mps")


def test_falls_back_to_cpu_and_says_so(accelerators, capsys):
    accelerators(cuda=False, mps=False)
    assert choose_device() == torch.device("cpu")
    assert capsys.readouterr().out.startswith("Using cpu")


def test_environment_variable_overrides_the_choice(accelerators, monkeypatch):
    accelerators(cuda=True, mps=False)
    monkeypatch.setenv("DLCV_DEVICE", "cpu")
    assert choose_device(verbose=False) == torch.device("cpu")


def test_unknown_override_is_refused_with_the_choices(accelerators, monkeypatch):
    accelerators(cuda=False, mps=False)
    monkeypatch.setenv("DLCV_DEVICE", "tpu")
    with pytest.raises(ValueError, match="cuda, mps, cpu"):
        choose_device(verbose=False)


def test_override_to_a_missing_gpu_is_refused(accelerators, monkeypatch):
    accelerators(cuda=False, mps=False)
    monkeypatch.setenv("DLCV_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        choose_device(verbose=False)
