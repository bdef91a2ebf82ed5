"""The course's two reference networks and the recipes that train them.

The book's chapters and ``benchmarks/train_mnist.py`` import the same recipes, so
the accuracy a chapter states is the accuracy the benchmark measures. A recipe is
the few numbers that make training fast and good: whole tensors on the device,
Adam with a one-cycle schedule (see ``dlcv.training.fit``), a batch size that keeps
the CPU's vector units busy, and label smoothing, which stops the network from
chasing ever more confident outputs on the training set.

A recipe is judged on the validation images that ``dlcv.data.train_validation_split``
holds out of the training set (``benchmarks/train_mnist.py --validation``), never on the
test set; the chapter "Generalisation" takes each trick out in turn and compares there.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from dlcv.training import Data, History, fit


@dataclass(frozen=True)
class Recipe:
    """How to train a network: epochs, batch size, peak learning rate, label smoothing.

    ``gpu`` is the recipe to use instead on a CUDA GPU, if it differs. A GPU spends
    most of a small network's step launching kernels, so a step on 1024 images costs
    about what a step on 128 does there: fewer, larger batches finish far sooner. On a
    CPU the cost of a step grows with its batch, and smaller batches learn more per
    pass over the data.
    """

    epochs: int
    batch_size: int
    lr: float
    label_smoothing: float = 0.0
    gpu: Recipe | None = None

    def for_device(self, device: torch.device | str) -> Recipe:
        """The recipe that runs on ``device``: ``gpu`` on a CUDA GPU where there is one."""
        if torch.device(device).type == "cuda" and self.gpu is not None:
            return self.gpu
        return self

    def loss_fn(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Cross-entropy with this recipe's label smoothing."""
        return F.cross_entropy(logits, targets, label_smoothing=self.label_smoothing)

    def train(self, model: nn.Module, train_data: Data, *, validation_data: Data | None = None,
              test_data: Data | None = None, generator: torch.Generator | None = None,
              progress: bool = True) -> History:
        """``fit`` the model with this recipe's settings (Adam, one-cycle schedule).

        The data's device picks the recipe (see ``for_device``).
        """
        recipe = self.for_device(train_data[0].device)
        return fit(model, train_data, epochs=recipe.epochs, batch_size=recipe.batch_size,
                   lr=recipe.lr, loss_fn=recipe.loss_fn,
                   validation_data=validation_data, test_data=test_data, generator=generator,
                   progress=progress)

    def warm_up(self, model: nn.Module, train_data: Data, steps: int = 3) -> None:
        """Train a throwaway copy of ``model`` for a few steps; ``model`` is untouched.

        A GPU's first steps pay one-off costs (loading kernels, setting up cuDNN and
        cuBLAS) that have nothing to do with training. A benchmark that times training
        warms up first, so that those costs are not counted as training (they still
        count in the time of the whole process).
        """
        recipe = self.for_device(train_data[0].device)
        x, y = train_data
        some = slice(0, steps * recipe.batch_size)
        fit(copy.deepcopy(model), (x[some], y[some]), batch_size=recipe.batch_size, lr=recipe.lr,
            loss_fn=recipe.loss_fn, generator=torch.Generator().manual_seed(0), progress=False)


def lecture_mlp() -> nn.Sequential:
    """The lecture's multi-layer perceptron: 784 inputs, two hidden layers of 256, 10 outputs."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(28 * 28, 256), nn.ReLU(),
        nn.Linear(256, 256), nn.ReLU(),
        nn.Linear(256, 10),
    )


def small_cnn() -> nn.Sequential:
    """Two 5x5 convolutions (16 and 32 filters), each pooled 2x2, then two dense layers.

    Pooling comes straight after each convolution, so that batch normalisation and
    ReLU work on a quarter of the pixels: that is most of the saving on a CPU. The order
    is a choice, not a free rewrite: max pooling commutes with ReLU, but not with batch
    normalisation, whose statistics are then taken over the pooled maxima, and whose
    learned scale may be negative (flipping which value is largest). The network is
    trained in this order, so it learns around it.
    """
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=5), nn.MaxPool2d(2),
        nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, kernel_size=5), nn.MaxPool2d(2),
        nn.BatchNorm2d(32), nn.ReLU(),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 128), nn.BatchNorm1d(128), nn.ReLU(),
        nn.Linear(128, 10),
    )


# Chosen on validation by benchmarks/choose_recipe.py (figures in benchmarks/recipe_choice.json).
# The CNN's GPU variant has not been through that grid: no GPU has been available to it.
MLP_RECIPE = Recipe(epochs=6, batch_size=256, lr=3e-3, label_smoothing=0.1)
CNN_RECIPE = Recipe(epochs=3, batch_size=128, lr=1e-2, label_smoothing=0.1,
                    gpu=Recipe(epochs=2, batch_size=1024, lr=2e-2, label_smoothing=0.1))

MODELS = {"mlp": (lecture_mlp, MLP_RECIPE), "cnn": (small_cnn, CNN_RECIPE)}
# The course's targets for each network on 2 CPU cores: (the least mean test accuracy, the most median
# seconds of a whole training process). benchmarks/run.py reports against them, and
# benchmarks/choose_recipe.py chooses only among recipes that fit the time.
CPU_TARGETS = {"mlp": (0.983, 15.0), "cnn": (0.9925, 30.0)}
