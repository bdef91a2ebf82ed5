"""A network described as plain data: the layer lists of assignment a6, checked and built into PyTorch layers.

In a6 the students design their own network, but the grader runs their code in another process
and takes back only plain data (``dlcv.autograde``'s wire carries no objects of a student's
making). So ``cnn_layers()`` returns a list such as::

    [("conv", 16, 5), ("relu",), ("maxpool", 2), ("flatten",), ("linear", 10)]

and this module owns what such a list may say and what it becomes: each entry names one of
PyTorch's own layers (the vocabulary is ``LAYERS``), input channels and sizes are inferred from a
1x28x28 image, every argument's type and range and every layer's input shape is checked *before*
anything is built, and an error says which layer is wrong and what to change. It also counts
what the network costs: parameters, and multiply-adds for one image.
"""

from __future__ import annotations

import dataclasses
import math

from torch import nn

INPUT_SHAPE = (1, 28, 28)  # one MNIST image: channels, height, width
CLASSES = 10

LAYERS = {
    "conv": "('conv', out_channels, kernel_size) or ('conv', out_channels, kernel_size, {'stride': s, 'padding': p})",
    "maxpool": "('maxpool', kernel_size) or ('maxpool', kernel_size, {'stride': s})",
    "avgpool": "('avgpool', kernel_size) or ('avgpool', kernel_size, {'stride': s})",
    "relu": "('relu',)",
    "batchnorm": "('batchnorm',): BatchNorm2d after a convolution or pooling, BatchNorm1d after flatten or linear",
    "dropout": "('dropout', p) with 0 <= p < 1",
    "flatten": "('flatten',): images (C, H, W) to vectors of C * H * W",
    "linear": "('linear', out_features)",
}
OPTIONS = {"conv": {"stride", "padding"}, "maxpool": {"stride"}, "avgpool": {"stride"}}
MAX_WIDTH = 1024  # channels of a convolution, features of a linear layer


class CnnSpecError(ValueError):
    """A layer list that does not describe a network for 1x28x28 images and 10 classes; says what to fix."""


@dataclasses.dataclass(frozen=True)
class LayerInfo:
    """One layer as checked: what it is, the shape it gives, its parameters and multiply-adds per image."""

    spec: tuple
    output_shape: tuple[int, ...]
    parameters: int
    multiply_adds: int


@dataclasses.dataclass(frozen=True)
class CnnSummary:
    layers: list[LayerInfo]

    @property
    def parameters(self) -> int:
        return sum(layer.parameters for layer in self.layers)

    @property
    def multiply_adds(self) -> int:
        return sum(layer.multiply_adds for layer in self.layers)

    def table(self) -> str:
        """One line per layer: the layer, its output shape, its parameters and multiply-adds."""
        lines = [f"{'layer':<34} {'output':<14} {'parameters':>10} {'mult-adds':>10}"]
        lines += [f"{_show(layer.spec):<34} {str(layer.output_shape):<14} {layer.parameters:>10,} "
                  f"{layer.multiply_adds:>10,}" for layer in self.layers]
        lines.append(f"{'total':<34} {'':<14} {self.parameters:>10,} {self.multiply_adds:>10,}")
        return "\n".join(lines)


def _show(spec) -> str:
    return repr(spec) if len(repr(spec)) <= 60 else repr(spec)[:57] + "..."


def _integer(value, name: str, low: int, high: int, where: str) -> int:
    if type(value) is not int:
        raise CnnSpecError(f"{where}: {name} must be a whole number (an int), got {type(value).__name__}")
    if not low <= value <= high:
        raise CnnSpecError(f"{where}: {name} must be between {low} and {high}, got {value}")
    return value


def _options(entry: tuple, kind: str, count: int, where: str) -> dict:
    """The optional dict after the positional arguments (stride, padding), checked for known keys."""
    if len(entry) == count + 2:
        options = entry[-1]
        if type(options) is not dict:
            raise CnnSpecError(f"{where}: the last item may be a dict of options, got {type(options).__name__}; "
                               f"write {LAYERS[kind]}")
        unknown = set(options) - OPTIONS[kind]
        if unknown:
            raise CnnSpecError(f"{where}: unknown option(s) {sorted(map(str, unknown))}; '{kind}' takes "
                               f"{sorted(OPTIONS[kind])}")
        return options
    if len(entry) != count + 1:
        raise CnnSpecError(f"{where}: wrong number of items; write {LAYERS[kind]}")
    return {}


def _window(size: int, kernel: int, stride: int, padding: int, where: str, what: str) -> int:
    out = (size + 2 * padding - kernel) // stride + 1
    if size + 2 * padding < kernel:
        raise CnnSpecError(f"{where}: a {kernel}x{kernel} {what} does not fit the {size}x{size} input it gets "
                           f"(padded by {padding}); use a smaller kernel, padding, or less pooling before it")
    return out


def _check_layer(entry, shape: tuple[int, ...], where: str) -> tuple[LayerInfo, dict]:
    """The checked layer (its output shape and costs) and the keyword arguments that build it."""
    if type(entry) not in (tuple, list) or not entry or type(entry[0]) is not str:
        raise CnnSpecError(f"{where}: each layer is a tuple that starts with its name, such as ('relu',); "
                           f"got {type(entry).__name__}")
    kind = entry[0]
    if kind not in LAYERS:
        raise CnnSpecError(f"{where}: unknown layer {kind!r}; the layers are {', '.join(LAYERS)}")
    entry = tuple(entry)
    images = len(shape) == 3
    if kind in ("conv", "maxpool", "avgpool") and not images:
        raise CnnSpecError(f"{where}: '{kind}' needs images (C, H, W), but after 'flatten' it gets vectors {shape}; "
                           "put every convolution and pooling before 'flatten'")
    if kind == "flatten" and not images:
        raise CnnSpecError(f"{where}: the data is already flat {shape}; use 'flatten' once")
    if kind == "linear" and images:
        raise CnnSpecError(f"{where}: 'linear' needs vectors, but it gets images {shape}; put ('flatten',) before it")
    if kind in ("relu", "batchnorm", "flatten") and len(entry) != 1:
        raise CnnSpecError(f"{where}: '{kind}' takes no arguments; write {LAYERS[kind]}")

    if kind == "conv":
        options = _options(entry, kind, 2, where)
        out_channels = _integer(entry[1], "out_channels", 1, MAX_WIDTH, where)
        kernel = _integer(entry[2], "kernel_size", 1, 28, where)
        stride = _integer(options.get("stride", 1), "stride", 1, kernel, where)
        padding = _integer(options.get("padding", 0), "padding", 0, kernel // 2, where)
        channels, height, width = shape
        out = _window(height, kernel, stride, padding, where, "kernel")
        weights = out_channels * channels * kernel * kernel
        info = LayerInfo(entry, (out_channels, out, out), weights + out_channels, weights * out * out)
        return info, {"in_channels": channels, "out_channels": out_channels, "kernel_size": kernel,
                      "stride": stride, "padding": padding}
    if kind in ("maxpool", "avgpool"):
        options = _options(entry, kind, 1, where)
        kernel = _integer(entry[1], "kernel_size", 1, 28, where)
        stride = _integer(options.get("stride", kernel), "stride", 1, kernel, where)
        channels, height, _ = shape
        out = _window(height, kernel, stride, 0, where, "pooling window")
        return LayerInfo(entry, (channels, out, out), 0, 0), {"kernel_size": kernel, "stride": stride}
    if kind == "linear":
        if len(entry) != 2:
            raise CnnSpecError(f"{where}: wrong number of items; write {LAYERS[kind]}")
        features = _integer(entry[1], "out_features", 1, MAX_WIDTH, where)
        weights = shape[0] * features
        return LayerInfo(entry, (features,), weights + features, weights), {"in_features": shape[0],
                                                                             "out_features": features}
    if kind == "dropout":
        if len(entry) != 2 or type(entry[1]) not in (int, float) or not 0 <= entry[1] < 1:
            raise CnnSpecError(f"{where}: write {LAYERS[kind]}")
        return LayerInfo(entry, shape, 0, 0), {"p": float(entry[1])}
    if kind == "batchnorm":
        return LayerInfo(entry, shape, 2 * shape[0], 0), {"num_features": shape[0]}
    if kind == "flatten":
        return LayerInfo(entry, (math.prod(shape),), 0, 0), {}
    return LayerInfo(entry, shape, 0, 0), {}  # relu


def summarize(layers) -> CnnSummary:
    """Check a layer list for 1x28x28 images and 10 classes; every layer's output shape and costs.

    Raises ``CnnSpecError`` naming the first wrong layer (counted from 0) and what to change.
    Parameters count what ``nn.Module.parameters()`` holds (BatchNorm's running statistics are
    buffers, not parameters); multiply-adds count convolutions and linear layers for one image.
    """
    if type(layers) is not list:
        raise CnnSpecError(f"describe the network as a list of layers, got {type(layers).__name__}")
    if not layers:
        raise CnnSpecError("the list of layers is empty")
    if len(layers) > 100:
        raise CnnSpecError(f"{len(layers)} layers: at most 100")
    shape, checked = INPUT_SHAPE, []
    for index, entry in enumerate(layers):
        info, _ = _check_layer(entry, shape, f"layer {index} ({_show(entry)})")
        checked.append(info)
        shape = info.output_shape
    if shape != (CLASSES,):
        raise CnnSpecError(f"the network must end with a vector of {CLASSES} class scores, but it ends with shape "
                           f"{shape}; end with ('flatten',) if needed and ('linear', {CLASSES})")
    return CnnSummary(checked)


BUILDERS = {"conv": nn.Conv2d, "maxpool": nn.MaxPool2d, "avgpool": nn.AvgPool2d, "relu": nn.ReLU,
            "dropout": nn.Dropout, "flatten": nn.Flatten, "linear": nn.Linear}


def build(layers) -> nn.Sequential:
    """The ``nn.Sequential`` a checked layer list describes, from PyTorch's own layers only.

    Its weights are drawn from PyTorch's global random state (seed it first, for a repeatable
    network).
    """
    summarize(layers)
    modules, shape = [], INPUT_SHAPE
    for index, entry in enumerate(layers):
        info, arguments = _check_layer(entry, shape, f"layer {index}")
        if entry[0] == "batchnorm":
            modules.append((nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d)(**arguments))
        else:
            modules.append(BUILDERS[entry[0]](**arguments))
        shape = info.output_shape
    return nn.Sequential(*modules)


def count_parameters(model: nn.Module) -> int:
    """How many numbers training adjusts: every element of ``model.parameters()``."""
    return sum(p.numel() for p in model.parameters())
