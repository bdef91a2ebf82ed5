"""Figures the chapters draw again and again: image grids and training curves."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch


def show_images(
    images: torch.Tensor,
    titles: Sequence | None = None,
    ncols: int = 10,
    cmap: str = "gray",
    size: float = 1.1,
    symmetric: bool = False,
):
    """Draw a grid of single-channel images, e.g. MNIST digits or first-layer weights.

    ``images`` is (N, H, W) or (N, 1, H, W). With ``symmetric`` the colour scale of each
    image is centred on zero (use it for weights, whose sign matters). Returns the figure.
    """
    images = images.detach().cpu()
    if images.dim() == 4:
        if images.shape[1] != 1:
            raise ValueError(f"show_images draws one channel; got {images.shape[1]} channels.")
        images = images[:, 0]
    if images.dim() != 3:
        raise ValueError(f"expected images of shape (N, H, W) or (N, 1, H, W), got {tuple(images.shape)}")
    count = len(images)
    ncols = max(1, min(ncols, count))
    nrows = math.ceil(count / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index >= count:
            continue
        image = images[index].numpy()  # matplotlib reads NumPy arrays without copy warnings
        if symmetric:
            limit = float(abs(image).max()) or 1.0
            axis.imshow(image, cmap=cmap, vmin=-limit, vmax=limit)
        else:
            axis.imshow(image, cmap=cmap)
        if titles is not None:
            axis.set_title(str(titles[index]), fontsize=10)
    fig.tight_layout()
    return fig


def plot_history(history, title: str | None = None):
    """Loss and, when measured, accuracy per epoch, one above the other.

    With validation measurements (``fit(..., validation_data=...)``) each panel shows the
    training curve and the validation curve together, so that a gap between them, the mark
    of overfitting, shows at a glance.
    """
    epochs = range(1, len(history.train_loss) + 1)
    validated = bool(getattr(history, "validation_accuracy", None))
    panels = 2 if history.test_accuracy or validated else 1
    # One column, 5.2 inches wide: on a phone's 358 px column its 10-point text stays 9 px high.
    fig, axes = plt.subplots(panels, 1, figsize=(5.2, 2.8 * panels), squeeze=False, sharex=True)
    loss_axis, last_axis = axes[0, 0], axes[-1, 0]
    loss_axis.plot(epochs, history.train_loss, marker="o", label="training")
    loss_axis.set(ylabel="mean training loss")
    last_axis.set(xlabel="epoch")
    if validated:
        loss_axis.plot(epochs, history.validation_loss, marker="s", color="tab:red", label="validation")
        loss_axis.set(ylabel="loss")
        loss_axis.legend()
        last_axis.plot(epochs, [100 * a for a in history.train_accuracy], marker="o", label="training")
        last_axis.plot(epochs, [100 * a for a in history.validation_accuracy], marker="s", color="tab:red",
                       label="validation")
        last_axis.set(ylabel="accuracy (%)")
        last_axis.legend()
    elif history.test_accuracy:
        last_axis.plot(epochs, [100 * a for a in history.test_accuracy], marker="o", color="tab:green")
        last_axis.set(ylabel="test accuracy (%)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
