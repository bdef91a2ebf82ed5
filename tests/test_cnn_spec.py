"""``dlcv.cnn_spec``: a6's layer lists are checked before anything is built, and built from PyTorch's own layers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlcv.autograde.arguments import whole_module_can_travel
from dlcv.cnn_spec import CnnSpecError, build, count_parameters, summarize

SMALL = [("conv", 8, 5), ("maxpool", 2), ("batchnorm",), ("relu",),
         ("conv", 16, 3, {"stride": 1, "padding": 1}), ("avgpool", 3, {"stride": 2}), ("relu",),
         ("flatten",), ("dropout", 0.25), ("linear", 32), ("batchnorm",), ("relu",), ("linear", 10)]


def test_a_checked_list_builds_the_network_it_describes():
    summary = summarize(SMALL)
    torch.manual_seed(0)
    model = build(SMALL)
    assert [type(layer) for layer in model] == [
        nn.Conv2d, nn.MaxPool2d, nn.BatchNorm2d, nn.ReLU, nn.Conv2d, nn.AvgPool2d, nn.ReLU,
        nn.Flatten, nn.Dropout, nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear]
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    assert summary.parameters == count_parameters(model)
    # 28 -> conv 5: 24 -> pool 2: 12 -> conv 3, padding 1: 12 -> avgpool 3, stride 2: 5; 16 * 5 * 5 = 400 features
    assert [layer.output_shape for layer in summary.layers][:8] == [
        (8, 24, 24), (8, 12, 12), (8, 12, 12), (8, 12, 12), (16, 12, 12), (16, 5, 5), (16, 5, 5), (400,)]
    assert model[4].padding == (1, 1) and model[5].stride == 2 and model[8].p == 0.25


def test_multiply_adds_count_convolutions_and_dense_layers_for_one_image():
    layers = [("conv", 4, 5), ("relu",), ("maxpool", 2), ("flatten",), ("linear", 10)]
    summary = summarize(layers)
    assert summary.multiply_adds == 24 * 24 * 4 * 25 + 4 * 12 * 12 * 10
    assert summary.parameters == (4 * 25 + 4) + (4 * 12 * 12 * 10 + 10)
    assert "total" in summary.table() and "('conv', 4, 5)" in summary.table()


def test_the_network_crosses_to_the_student_whole():
    """The grader hands it to the student's train_cnn as a model built from PyTorch's own layers."""
    assert whole_module_can_travel(build(SMALL))


@pytest.mark.parametrize(("layers", "says"), [
    ("conv", "list of layers"),
    ([], "empty"),
    ([("linear", 10)], "put ('flatten',) before it"),
    ([("conv", 8, 5), ("flatten",), ("conv", 8, 3), ("linear", 10)], "before 'flatten'"),
    ([("conv", 8, 5), ("maxpool", 2), ("conv", 8, 13), ("flatten",), ("linear", 10)],
     "does not fit"),
    ([("conv", 8.0, 5), ("flatten",), ("linear", 10)], "whole number"),
    ([("conv", True, 5), ("flatten",), ("linear", 10)], "whole number"),
    ([("conv", 0, 5), ("flatten",), ("linear", 10)], "between 1 and"),
    ([("conv", 8, 5, {"padding": 3}), ("flatten",), ("linear", 10)], "padding must be between 0 and 2"),
    ([("conv", 8, 5, {"dilation": 2}), ("flatten",), ("linear", 10)], "unknown option"),
    ([("conv", 8), ("flatten",), ("linear", 10)], "wrong number of items"),
    ([("relu", 1), ("flatten",), ("linear", 10)], "takes no arguments"),
    ([("softmax",), ("flatten",), ("linear", 10)], "unknown layer 'softmax'"),
    (["relu", ("flatten",), ("linear", 10)], "each layer is a tuple"),
    ([("flatten",), ("dropout", 1.0), ("linear", 10)], "0 <= p < 1"),
    ([("flatten",), ("linear", 10), ("flatten",)], "already flat"),
    ([("flatten",), ("linear", 12)], "10 class scores"),
    ([("conv", 10, 5)], "10 class scores"),
])
def test_a_wrong_list_is_refused_before_anything_is_built_with_what_to_fix(layers, says):
    with pytest.raises(CnnSpecError) as raised:
        build(layers)
    assert says in str(raised.value), str(raised.value)


def test_the_error_names_the_layer_counted_from_zero():
    with pytest.raises(CnnSpecError, match=r"^layer 2 \(\('linear', 10\)\)"):
        summarize([("conv", 4, 5), ("relu",), ("linear", 10)])
