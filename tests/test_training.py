"""The training loop, evaluation and plotting helpers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlcv.plots import plot_history, show_images
from dlcv.training import History, accuracy, evaluate, fit, predict


def blobs(n: int = 600, seed: int = 0):
    """Three well-separated Gaussian blobs in 2-D: any working loop learns them."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[0.0, 4.0], [4.0, -2.0], [-4.0, -2.0]])
    labels = torch.randint(0, 3, (n,), generator=generator)
    points = centres[labels] + torch.randn(n, 2, generator=generator)
    return points, labels


def test_fit_learns_and_records_history():
    torch.manual_seed(0)  # initial weights and order; unseeded, it failed once in a few runs
    x, y = blobs()
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    before = accuracy(model, x, y)
    history = fit(model, (x, y), epochs=5, batch_size=32, lr=0.05, test_data=blobs(seed=1), progress=False)
    assert isinstance(history, History)
    assert len(history.train_loss) == 5 and len(history.test_accuracy) == 5
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.test_accuracy[-1] > 0.95 > before
    assert history.seconds > 0


def test_fit_refuses_mismatched_data():
    x, y = blobs()
    with pytest.raises(ValueError, match="600 inputs but 599 labels"):
        fit(nn.Linear(2, 3), (x, y[:-1]), progress=False)


def test_predict_uses_evaluation_mode_and_restores_training_mode():
    x, _ = blobs(50)
    model = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.9), nn.Linear(8, 3))
    model.train()
    first, second = predict(model, x, batch_size=7), predict(model, x, batch_size=7)
    assert torch.equal(first, second), "dropout must be off while predicting"
    assert torch.allclose(first, predict(model, x, batch_size=50), atol=1e-6), "chunks must cover all of x"
    assert model.training
    assert not first.requires_grad


def test_show_images_draws_one_panel_per_image():
    figure = show_images(torch.rand(12, 1, 28, 28), titles=list(range(12)), ncols=5)
    drawn = [axis for axis in figure.axes if axis.images]
    assert len(drawn) == 12 and len(figure.axes) == 15
    with pytest.raises(ValueError, match="one channel"):
        show_images(torch.rand(2, 3, 8, 8))


def test_plot_history_has_a_panel_per_measure():
    assert len(plot_history(History(train_loss=[1.0, 0.5])).axes) == 1
    assert len(plot_history(History(train_loss=[1.0, 0.5], test_accuracy=[0.8, 0.9])).axes) == 2
    both = plot_history(History(train_loss=[1.0, 0.5], train_accuracy=[0.8, 1.0], validation_loss=[1.1, 0.9],
                                validation_accuracy=[0.7, 0.8]))
    assert [len(axis.lines) for axis in both.axes] == [2, 2], "training and validation in each panel"


def test_fit_measures_training_and_validation_after_each_epoch():
    x, y = blobs()
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    history = fit(model, (x, y), epochs=3, batch_size=32, lr=0.05, validation_data=blobs(seed=1), progress=False)
    assert len(history.train_accuracy) == len(history.validation_accuracy) == len(history.validation_loss) == 3
    assert history.test_accuracy == []
    assert history.validation_accuracy[-1] > 0.95 and history.train_accuracy[-1] > 0.95
    assert history.validation_loss[-1] == pytest.approx(evaluate(model, *blobs(seed=1))[0])


def test_weight_decay_shrinks_the_weights_and_augment_sees_every_batch():
    x, y = blobs()
    sizes, seen = {}, []
    for decay in (0.0, 0.5):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
        fit(model, (x, y), epochs=5, batch_size=32, lr=0.05, weight_decay=decay,
            generator=torch.Generator().manual_seed(0), progress=False)
        sizes[decay] = sum(p.norm() ** 2 for p in model.parameters()).item()
    assert sizes[0.5] < 0.8 * sizes[0.0], sizes

    def augment(batch):
        seen.append(len(batch))
        return batch + 0.01 * torch.randn_like(batch)

    fit(nn.Linear(2, 3), (x, y), epochs=2, batch_size=100, augment=augment, progress=False)
    assert seen == [100] * 12
    with pytest.raises(ValueError, match="your own optimizer"):
        model = nn.Linear(2, 3)
        fit(model, (x, y), optimizer=torch.optim.SGD(model.parameters(), lr=0.1), weight_decay=0.1, progress=False)
