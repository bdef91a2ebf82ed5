"""The network diagrams: what they draw, and the errors they give for impossible requests."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from dlcv.diagrams import (
    CONNECTION_GID,
    UNIT_GID,
    draw_dense_layer,
    draw_layers,
    draw_network,
    draw_single_layer,
)


def units(figure: Figure) -> list:
    return [patch for axis in figure.axes for patch in axis.patches if patch.get_gid() == UNIT_GID]


def connections(figure: Figure) -> list:
    return [line for axis in figure.axes for line in axis.lines if line.get_gid() == CONNECTION_GID]


def texts(figure: Figure) -> list[str]:
    return [text.get_text() for axis in figure.axes for text in axis.texts]


def test_small_network_draws_every_unit_and_every_connection():
    figure = draw_network([3, 4, 2])
    assert isinstance(figure, Figure)
    assert len(units(figure)) == 3 + 4 + 2
    assert len(connections(figure)) == 3 * 4 + 4 * 2
    assert "4 units" in texts(figure) and "2 units" in texts(figure)


def test_large_layers_are_elided_but_captioned_with_their_true_size():
    figure = draw_network([784, 256, 256, 10], max_drawn=[8, 8, 8, 10], output_activation="softmax")
    drawn = [7, 7, 7, 10]  # 6 first units + the last one, for each layer above 8
    assert len(units(figure)) == sum(drawn)
    assert len(connections(figure)) == 7 * 7 + 7 * 7 + 7 * 10
    assert texts(figure).count(r"$\vdots$") == 3
    assert "784 units" in texts(figure) and "softmax" in texts(figure)


def test_a_symbol_labels_units_with_their_true_indices():
    figure = draw_network([784, 1], max_drawn=5, unit_labels=["x", ["$\\hat y$"]])
    assert {"$x_{1}$", "$x_{2}$", "$x_{3}$", "$x_{784}$", "$\\hat y$"} <= set(texts(figure))
    assert "1 unit" in texts(figure)


def test_classifier_and_regressor_annotations():
    classes = [str(digit) for digit in range(10)]
    classifier = draw_network([784, 256, 10], max_drawn=[6, 6, 10], output_labels=classes,
                              weight_labels=["$W_0, b_0$", "$W_1, b_1$"], output_activation="softmax")
    assert set(classes) | {"$W_0, b_0$", "$W_1, b_1$", "softmax"} <= set(texts(classifier))
    regressor = draw_network([784, 256, 1], output_labels=["price"])
    assert len(units(regressor)) == 7 + 7 + 1 and "price" in texts(regressor)


def test_draws_on_a_given_axes():
    figure, (left, right) = plt.subplots(1, 2)
    assert draw_network([2, 2], ax=right) is figure
    assert not left.patches and len(right.patches) == 4


def test_single_layer_is_labelled_with_sizes_m_and_n():
    figure = draw_single_layer(inputs=4, outputs=3)
    assert len(units(figure)) == 4 + 3 and len(connections(figure)) == 12
    labels = set(texts(figure))
    assert {"$x_M$", "$y_N$", "$x_{1}$", "$y_{2}$"} <= labels
    assert any("N \\times M" in label for label in labels)
    assert figure.axes[0].get_title() == "$y = f(Wx + b)$"


def test_multiple_layers_caption_each_equation():
    figure = draw_layers(layers=3, units=4)
    assert len(units(figure)) == 4 * 4 and len(connections(figure)) == 3 * 16
    labels = texts(figure)
    assert "$y_{0} = f(W_{0}x + b_{0})$" in labels
    assert "$y_{2} = f(W_{2}y_{1} + b_{2})$" in labels
    assert "$W_{1}, b_{1}$" in labels


def test_dense_layer_highlights_the_connections_of_one_unit():
    figure = draw_dense_layer(previous=6, units=4, highlight=2)
    lines = connections(figure)
    assert len(units(figure)) == 10 and len(lines) == 24
    widths = sorted(line.get_linewidth() for line in lines)
    assert widths[-6:] == [widths[-1]] * 6 and widths[-7] < widths[-1], "exactly 6 connections stand out"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: draw_network([5]), "at least two layers"),
        (lambda: draw_network([5, 0]), "positive integer"),
        (lambda: draw_network([5, 2.5]), "positive integer"),
        (lambda: draw_network([5, 3], max_drawn=2), "max_drawn must be an integer of at least 3"),
        (lambda: draw_network([5, 3], max_drawn=[4, 4, 4]), "max_drawn needs one entry per layer"),
        (lambda: draw_network([5, 3], weight_labels=["W", "V"]), "one label per set of connections"),
        (lambda: draw_network([5, 3], unit_labels=[["a", "b"], None]), "one label per drawn unit"),
        (lambda: draw_network([5, 3], output_labels=["a"]), "3 output units are drawn"),
        (lambda: draw_network([5, 3], highlight=(0, 1)), "layer 0 has no inputs"),
        (lambda: draw_network([5, 30], highlight=(1, 10)), "is not drawn"),
        (lambda: draw_network([5, 3], layer_gap=0.1), "layer_gap"),
        (lambda: draw_single_layer(inputs=1), "at least 2 inputs"),
        (lambda: draw_layers(layers=1), "at least 2 layers"),
        (lambda: draw_dense_layer(units=4, highlight=4), "one of the 4 units"),
    ],
)
def test_impossible_requests_say_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()
