"""The computational-graph pictures of the back-propagation chapter."""

from __future__ import annotations

import pytest
import torch

from dlcv.compgraph import EDGE_GID, GRADIENT_COLOUR, NODE_GID, Node, draw_graph, format_tensor


def drawn(figure, gid: str) -> list:
    return [text for axis in figure.axes for text in axis.texts if text.get_gid() == gid]


def test_every_node_and_edge_is_drawn_and_gradients_are_red():
    nodes = [Node("x", "x", (0, 0), value="[1.00]"), Node("f", "f", (1, 0), operation=True),
             Node("c", "c", (2, 0), value="2.00", gradient="∂c/∂c\n1.00")]
    figure = draw_graph(nodes, [("x", "f"), ("f", "c")])
    assert len(drawn(figure, NODE_GID)) == 3
    assert len(drawn(figure, EDGE_GID)) == 2
    red = [text.get_text() for axis in figure.axes for text in axis.texts if text.get_color() == GRADIENT_COLOUR]
    assert red == ["∂c/∂c\n1.00"]


def test_tensors_are_written_row_by_row_without_negative_zeros():
    assert format_tensor(torch.tensor(1.5)) == "1.50"
    assert format_tensor(torch.tensor([0.5, -0.0])) == "[0.50, 0.00]"
    assert format_tensor(torch.tensor([[1.0, -2.0], [0.25, 0.0]]), digits=1) == "[1.0, -2.0]\n[0.2, 0.0]"
    with pytest.raises(ValueError, match="at most 2 dimensions"):
        format_tensor(torch.zeros(1, 1, 1))


@pytest.mark.parametrize(("nodes", "edges", "message"), [
    ([Node("a", "a", (0, 0)), Node("a", "b", (1, 0))], [], "share a key"),
    ([Node("a", "a", (0, 0))], [("a", "b")], r"do not exist: \['b'\]"),
])
def test_impossible_graphs_say_what_is_wrong(nodes, edges, message):
    with pytest.raises(ValueError, match=message):
        draw_graph(nodes, edges)
