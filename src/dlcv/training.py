"""A training loop for whole-tensor data sets, with a progress bar.

The chapters build models and explain one step of gradient descent by hand; once
that is understood, training is a single call::

    history = fit(model, (train_x, train_y), epochs=3, test_data=(test_x, test_y))

Choosing settings (epochs, learning rate, regularisation) is done on a validation set
held out of the training images (``dlcv.data.train_validation_split``), passed as
``validation_data``; the test set is for the one final measurement.
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
    """What happened during ``fit``: one entry per epoch, plus the wall time.

    ``train_loss`` is the mean loss of the epoch's mini-batches, as training saw them (with
    dropout and augmentation, if any). With ``validation_data``, ``fit`` also measures after
    each epoch, in evaluation mode: the accuracy on the training data as given, and the
    cross-entropy and accuracy on the validation data.
    """

    train_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    validation_accuracy: list[float] = field(default_factory=list)
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


def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 2000) -> tuple[float, float]:
    """The mean cross-entropy (no label smoothing) and the accuracy of the model on ``x``, ``y``."""
    if len(x) != len(y):
        raise ValueError(f"{len(x)} inputs but {len(y)} labels: pass matching tensors.")
    logits = predict(model, x, batch_size)
    return F.cross_entropy(logits, y).item(), (logits.argmax(dim=1) == y).float().mean().item()


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
    weight_decay: float = 0.0,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    validation_data: Data | None = None,
    test_data: Data | None = None,
    generator: torch.Generator | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` on tensors already on their device, by mini-batch gradient descent.

    By default the optimiser is Adam and the learning rate follows a one-cycle
    schedule peaking at ``lr``: together they reach good accuracy in few epochs.
    Each epoch visits every sample once, in an order drawn from ``generator``.
    ``weight_decay`` (when above 0) switches to AdamW, which shrinks every weight by
    ``lr * weight_decay`` of itself at each step; ``augment``, when given, transforms each
    mini-batch's inputs before the model sees them (e.g. random shifts).
    The progress bar shows the running training loss; with ``validation_data`` (or
    ``test_data``) the accuracy there is measured after every epoch (see ``History``).
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
        fused = x.device.type == "cuda"
        if weight_decay > 0:
            optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, fused=fused)
        else:
            optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=fused)
    elif weight_decay > 0:
        raise ValueError("pass weight_decay to your own optimizer, not to fit, when you give one.")
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
            inputs = x[batch] if augment is None else augment(x[batch])
            loss = loss_fn(model(inputs), y[batch])
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
        if validation_data is not None:
            history.train_accuracy.append(accuracy(model, x, y))
            loss, correct = evaluate(model, *validation_data)
            history.validation_loss.append(loss)
            history.validation_accuracy.append(correct)
        if test_data is not None:
            history.test_accuracy.append(accuracy(model, *test_data))
    bar.close()
    history.seconds = time.perf_counter() - start
    return history
