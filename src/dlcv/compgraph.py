"""Computational graphs drawn from code: tensors in boxes, operations in ovals, arrows between them.

The back-propagation chapter draws the graph of a small network with the numbers of one
forward pass in each box (black) and the gradient of the cost with respect to that box (red),
so the picture always shows what the code next to it computed. Boxes and arrows carry the
gids ``"graph-node"`` and ``"graph-edge"`` so that tests can count what was drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

NODE_GID = "graph-node"
EDGE_GID = "graph-edge"
GRADIENT_COLOUR = "tab:red"


@dataclass(frozen=True)
class Node:
    """One box of the graph: a tensor (with its value and gradient) or an operation."""

    key: str
    label: str
    xy: tuple[float, float]
    value: str = ""
    gradient: str = ""
    operation: bool = False


def format_tensor(tensor: torch.Tensor, digits: int = 2) -> str:
    """A small tensor as text, one line per row: ``[0.50, -1.00]``."""
    tensor = torch.as_tensor(tensor).detach().cpu() + 0.0  # adding 0.0 turns -0.0 into 0.0
    if tensor.ndim == 0:
        return f"{tensor.item():.{digits}f}"
    if tensor.ndim == 1:
        return "[" + ", ".join(f"{value:.{digits}f}" for value in tensor.tolist()) + "]"
    if tensor.ndim == 2:
        return "\n".join(format_tensor(row, digits) for row in tensor)
    raise ValueError(f"format_tensor draws tensors of at most 2 dimensions, not {tensor.ndim}")


def draw_graph(nodes: Sequence[Node], edges: Sequence[tuple[str, str]], *, ax: Axes | None = None,
               title: str | None = None, size: tuple[float, float] = (12, 4.2)) -> Figure:
    """Draw ``nodes`` joined by forward arrows ``(from_key, to_key)``; gradients are written in red."""
    by_key = {node.key: node for node in nodes}
    if len(by_key) != len(nodes):
        raise ValueError("two nodes share a key; give every node its own")
    unknown = sorted({key for edge in edges for key in edge} - by_key.keys())
    if unknown:
        raise ValueError(f"edges name nodes that do not exist: {unknown}")
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
    else:
        fig = ax.figure
    for start, end in edges:
        # Arrows first, so that the boxes drawn afterwards hide their ends.
        arrow = ax.annotate("", xy=by_key[end].xy, xytext=by_key[start].xy,
                            arrowprops={"arrowstyle": "-|>", "color": "0.45", "shrinkA": 22, "shrinkB": 22})
        arrow.set_gid(EDGE_GID)
    for node in nodes:
        _draw_node(ax, node)
    xs = [node.xy[0] for node in nodes]
    ys = [node.xy[1] for node in nodes]
    ax.set(xlim=(min(xs) - 0.9, max(xs) + 0.9), ylim=(min(ys) - 0.9, max(ys) + 0.9))
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig


def _draw_node(ax: Axes, node: Node) -> None:
    if node.operation:
        box = {"boxstyle": "round,pad=0.5,rounding_size=0.8", "facecolor": "#fff3d6", "edgecolor": "0.4"}
        text = ax.text(*node.xy, node.label, ha="center", va="center", fontsize=10, bbox=box, zorder=3)
        text.set_gid(NODE_GID)
        return
    lines = [node.label]
    if node.value:
        lines.append(node.value)
    box = {"boxstyle": "round,pad=0.4", "facecolor": "#dbe9f6", "edgecolor": "0.4"}
    text = ax.text(*node.xy, "\n".join(lines), ha="center", va="bottom" if node.gradient else "center",
                   fontsize=9.5, family="monospace", bbox=box, zorder=3)
    text.set_gid(NODE_GID)
    if node.gradient:
        # The gradient sits just under the value, in red: it is what flows back into this box.
        ax.text(node.xy[0], node.xy[1] - 0.12, node.gradient, ha="center", va="top", fontsize=9.5,
                family="monospace", color=GRADIENT_COLOUR, zorder=3,
                bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": GRADIENT_COLOUR})
