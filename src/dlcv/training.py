"""A training loop for whole-tensor data sets, with a progress bar.

The chapters build models and explain one step of gradient descent by hand; once
that is understood, training is a single call::

    history = fit(model, (train_x, train_y), epochs=3, test_data=(test_x, test_y))
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

Data = tuple[torch.Tensor, torch.Tensor]


@dataclass
class History:
    """What happened during ``fit``: one entry per epoch, plus the wall time."""

    train_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0


@torch.no_grad()
def predict(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """The model's outputs for all of ``x``, in evaluation mode and in chunks that fit memory."""
    was_training = model.training
    model.eval()
    try:
        return torch.cat([model(chunk) for chunk in x.split(batch_size)])
    finally:
        model.train(was_training)


def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 2000) -> float:
    """The fraction of ``x`` whose highest-scoring class is the label in ``y``."""
    if len(x) != len(y):
        raise ValueError(f"{len(x)} inputs but {len(y)} labels: pass matching tensors.")
    return (predict(model, x, batch_size).argmax(dim=1) == y).float().mean().item()


def fit(
    model: torch.nn.Module,
    train_data: Data,
    *,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 1e-3,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy,
    optimizer: torch.optim.Optimizer | None = None,
    one_cycle: bool = True,
    test_data: Data | None = None,
    generator: torch.Generator | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` on tensors already on their device, by mini-batch gradient descent.

    By default the optimiser is Adam and the learning rate follows a one-cycle
    schedule peaking at ``lr``: together they reach good accuracy in few epochs.
    Each epoch visits every sample once, in an order drawn from ``generator``.
    The progress bar shows the running training loss; with ``test_data`` the test
    accuracy is measured after every epoch.
    """
    x, y = train_data
    if len(x) != len(y):
        raise ValueError(f"{len(x)} inputs but {len(y)} labels: pass matching tensors.")
    if epochs < 1 or batch_size < 1:
        raise ValueError("epochs and batch_size must both be at least 1.")
    model.to(x.device)
    steps_per_epoch = -(-len(x) // batch_size)
    if optimizer is None:
        # On a GPU, the fused Adam updates every parameter in one kernel launch, not dozens.
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=x.device.type == "cuda")
    schedule = (
        torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch)
        if one_cycle
        else None
    )
    history = History()
    start = time.perf_counter()
    bar = tqdm(total=epochs * steps_per_epoch, disable=not progress, unit="batch")
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=generator).to(x.device)
        running = torch.zeros((), device=x.device)
        for step, batch in enumerate(order.split(batch_size), start=1):
            loss = loss_fn(model(x[batch]), y[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            running += loss.detach()
            if step % 50 == 0 or step == steps_per_epoch:
                bar.set_postfix(epoch=epoch + 1, loss=f"{running.item() / step:.4f}")
            bar.update()
        history.train_loss.append(running.item() / steps_per_epoch)
        if test_data is not None:
            history.test_accuracy.append(accuracy(model, *test_data))
    bar.close()
    history.seconds = time.perf_counter() - start
    return history
