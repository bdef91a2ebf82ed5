import sys; sys.path.insert(0, "/tmp/author")
from nbtools import md, code, write

cells = [
md(r"""
# Pooling and striding

The CNN of the last chapter made its feature maps smaller twice, from $24 \times 24$ to
$12 \times 12$ and from $8 \times 8$ to $4 \times 4$. Down-sampling like this is part of
nearly every CNN, for three reasons: later layers have fewer pixels to work on, so they
are cheaper; each of their units sees a larger part of the image; and a feature that moves
by a pixel or so gives the same output. This chapter compares the two ways of doing it,
**max pooling** and **strided convolution**, and works out the arithmetic of output sizes
and receptive fields that goes with them.
"""),
code(r"""
import itertools

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from myst_nb import glue
from torch import nn

from dlcv.convolution import plot_max_pooling, plot_receptive_field
from dlcv.data import mnist_tensors
from dlcv.device import choose_device, describe_device
from dlcv.seeding import seed_everything
from dlcv.training import accuracy, fit

device = choose_device()
generator = seed_everything(0)
glue("device", describe_device(device), display=False)
"""),
md(r"""
## Max pooling

Max pooling splits each feature map into $p \times p$ regions and keeps only the largest
value of each. The output is $p$ times smaller in each direction:
"""),
code(r"""
grid = torch.tensor([[1, 3, 0, 2, 5, 1],
                     [4, 2, 1, 0, 2, 3],
                     [0, 1, 7, 2, 0, 1],
                     [2, 6, 1, 1, 4, 0],
                     [3, 0, 2, 8, 1, 1],
                     [1, 2, 0, 1, 0, 6]], dtype=torch.float32)
fig = plot_max_pooling(grid, pool_size=2)
"""),
md(r"""
PyTorch's `F.max_pool2d` (or the layer `nn.MaxPool2d`) does the same to every channel of
every image in a batch. With pooling regions of $3 \times 3$ the same grid shrinks to
$2 \times 2$.
"""),
code(r"""
pooled = F.max_pool2d(grid.view(1, 1, 6, 6), kernel_size=2)[0, 0]
pooled3 = F.max_pool2d(grid.view(1, 1, 6, 6), kernel_size=3)[0, 0]
print("2x2 pooling:\n", pooled)
print("3x3 pooling:\n", pooled3)
"""),
code(r"""
assert torch.equal(pooled, torch.tensor([[4.0, 2, 5], [6, 7, 4], [3, 8, 6]]))
assert torch.equal(pooled3, torch.tensor([[7.0, 5], [6, 8]]))
""", tags=["remove-cell"]),
md(r"""
Pooling has no weights to learn, and it treats every channel separately: 16 feature maps
in, 16 smaller maps out. A feature that moves *within* a pooling region does not change the
output at all, which is where a little of a CNN's tolerance to shifts comes from:
"""),
code(r"""
pool = nn.MaxPool2d(2)
maps = torch.randn(1, 16, 24, 24, generator=generator)
pool_parameters = sum(p.numel() for p in pool.parameters())
print("parameters:", pool_parameters)
print("shape:", tuple(maps.shape), "->", tuple(pool(maps).shape))

dot = torch.zeros(1, 1, 6, 6)
dot[0, 0, 2, 2] = 1.0  # a one-pixel feature...
moved_dot = torch.zeros(1, 1, 6, 6)
moved_dot[0, 0, 3, 3] = 1.0  # ...moved down and right, in the same 2x2 region
print("same pooled output:", torch.equal(pool(dot), pool(moved_dot)))
"""),
code(r"""
assert pool_parameters == 0
assert pool(maps).shape == (1, 16, 12, 12)
assert torch.equal(pool(dot), pool(moved_dot)) and not torch.equal(dot, moved_dot)
""", tags=["remove-cell"]),
md(r"""
## Strided convolution

The other way to down-sample is to compute a convolution at only one in every $s$
positions: the kernel jumps $s$ pixels at a time instead of one. This **stride** divides
the output's size by about $s$ in each direction. In one dimension, with a kernel of 3:
"""),
code(r"""
fig, axes = plt.subplots(2, 1, figsize=(6, 3.6), layout="constrained")
for axis, stride in zip(axes, [1, 2]):
    plot_receptive_field([(3, stride)], n_inputs=9, ax=axis)
    outputs = (9 - 3) // stride + 1
    axis.set_title(f"stride {stride}: 9 inputs, {outputs} outputs", fontsize=10)
plt.show()
"""),
md(r"""
A strided convolution is exactly an ordinary convolution with all but every $s$-th
output (in each direction) thrown away, so in 2-D it computes roughly $s^2$ times fewer
outputs:
"""),
code(r"""
image = torch.randn(1, 1, 9, 9, generator=generator)
kernel = torch.randn(1, 1, 3, 3, generator=generator)
strided = F.conv2d(image, kernel, stride=2)
every_other = F.conv2d(image, kernel)[..., ::2, ::2]
print("stride 2:", tuple(strided.shape[2:]),
      "  stride 1:", tuple(F.conv2d(image, kernel).shape[2:]),
      "  same values:", torch.allclose(strided, every_other))
"""),
code(r"""
assert strided.shape == (1, 1, 4, 4) and torch.allclose(strided, every_other)
""", tags=["remove-cell"]),
md(r"""
Unlike max pooling, a strided convolution has weights: the network *learns* how to
summarise each neighbourhood instead of always taking the maximum, and the down-sampling
costs no separate layer.

## Output sizes

Both operations slide a window of size $k$ over an input of size $n$, with a stride $s$,
after adding $p$ pixels of zero **padding** on each side. The window fits at positions
$0, s, 2s, \dots$ as long as it stays inside the $n + 2p$ padded pixels, which gives an
output of size

$$
n_\text{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1 .
$$

For a convolution `nn.Conv2d(..., kernel_size=k, stride=s, padding=p)` and a pooling layer
alike (pooling has $s = k$ by default). The formula is worth checking against PyTorch on
many cases rather than trusting:
"""),
code(r"""
def conv_output_size(n, kernel_size, stride=1, padding=0):
    # length of the output of a convolution or pooling along one dimension
    return (n + 2 * padding - kernel_size) // stride + 1


cases = 0
settings = itertools.product(range(1, 33), range(1, 8), range(1, 5), range(4))
for n, k, s, p in settings:  # size, kernel, stride, padding
    if k > n + 2 * p:
        continue  # the window does not fit even once
    x = torch.zeros(1, 1, n, n)
    expected = conv_output_size(n, k, s, p)
    conv = F.conv2d(x, torch.zeros(1, 1, k, k), stride=s, padding=p)
    assert conv.shape[-1] == expected, (n, k, s, p)
    if p <= k // 2:  # PyTorch allows pooling padding up to half the window
        pooled = F.max_pool2d(x, k, stride=s, padding=p)
        assert pooled.shape[-1] == expected, (n, k, s, p)
    cases += 1
print(f"the formula agrees with PyTorch in all {cases:,} cases")
glue("size_cases", f"{cases:,}", display=False)
"""),
code(r"""
assert cases == 3_448
""", tags=["remove-cell"]),
md(r"""
The formula agrees with PyTorch in all {glue:text}`size_cases` cases (sizes 1 to 32,
kernels 1 to 7, strides 1 to 4, padding 0 to 3). Two uses of it come up all the time. With
stride 1 and $p = (k - 1)/2$ for an odd kernel, the output keeps the input's size
("same" padding, as in the last chapter's Gabor filters). And it tells the size of the
features that reach a network's first dense layer, which is the number to give
`nn.Linear`. For the last chapter's CNN, and for the same network with strided
convolutions instead of pooling:
"""),
code(r"""
pool_layers = [(5, 1), (2, 2), (5, 1), (2, 2)]  # (kernel, stride) of each layer
stride_layers = [(5, 2), (5, 2)]  # conv 5x5 with stride 2, twice
pool_sizes, stride_sizes = [28], [28]
for k, s in pool_layers:
    pool_sizes.append(conv_output_size(pool_sizes[-1], k, s))
for k, s in stride_layers:
    stride_sizes.append(conv_output_size(stride_sizes[-1], k, s))
print("pooling: ", " -> ".join(map(str, pool_sizes)))
print("striding:", " -> ".join(map(str, stride_sizes)))
"""),
code(r"""
assert pool_sizes == [28, 24, 12, 8, 4] and stride_sizes == [28, 12, 4]
""", tags=["remove-cell"]),
md(r"""
Both end with $4 \times 4$ feature maps: with 32 channels, $32 \cdot 4 \cdot 4 = 512$
inputs to the dense layer.

## Receptive fields

A unit's **receptive field** is the part of the input image it depends on. In the first
layer it is the kernel, $k \times k$. Every layer after that widens it, and by more the
further apart its inputs lie: after a stride or a pooling of 2, neighbouring units are 2
input pixels apart, so each extra step of the next kernel adds 2 pixels. Keeping track of
that **jump** $j$ (the distance, in input pixels, between neighbouring units) gives a
recurrence, layer by layer, starting from $r_0 = j_0 = 1$ for the image itself:

$$
r_l = r_{l-1} + (k_l - 1)\, j_{l-1}, \qquad j_l = j_{l-1}\, s_l .
$$
"""),
code(r"""
def receptive_fields(layers):
    # receptive field and jump after each (kernel_size, stride) layer
    field, jump = 1, 1
    fields = []
    for kernel_size, stride in layers:
        field += (kernel_size - 1) * jump
        jump *= stride
        fields.append((field, jump))
    return fields


for name, layers in [("pooling", pool_layers), ("striding", stride_layers)]:
    fields = [field for field, _ in receptive_fields(layers)]
    print(f"{name:>8}: receptive field after each layer {fields}")
"""),
code(r"""
assert receptive_fields(pool_layers) == [(5, 1), (6, 2), (14, 2), (16, 4)]
assert receptive_fields(stride_layers) == [(5, 2), (13, 4)]
""", tags=["remove-cell"]),
md(r"""
Each of the final units of the pooling network sees a $16 \times 16$ patch of the
$28 \times 28$ digit; the strided network's see $13 \times 13$. In one dimension the
growth is easy to follow: here is a stack of two 3-wide convolutions, each followed by a
pooling of 2, and the inputs that one top unit depends on.
"""),
code(r"""
stack = [(3, 1), (2, 2), (3, 1), (2, 2)]
fig = plot_receptive_field(stack, n_inputs=18)
print("recurrence:", receptive_fields(stack)[-1][0], "inputs")
"""),
code(r"""
assert receptive_fields(stack)[-1][0] == 10
assert "10 inputs" in fig.axes[0].get_title()
""", tags=["remove-cell"]),
md(r"""
The recurrence can also be checked on real layers, with autograd: the receptive field of a
unit is the set of input pixels on which its value depends, which are the pixels where its
gradient is not zero. (Max pooling passes a gradient only to the largest input of each
region, so for this check it is replaced by average pooling, whose windows are the same;
all weights are set to 1 so that nothing cancels.)
"""),
code(r"""
def measured_receptive_field(layers):
    # side of the input patch that the centre unit of the last layer depends on
    modules = []
    for kernel_size, stride in layers:
        if stride == kernel_size == 2:
            modules.append(nn.AvgPool2d(2))
        else:
            conv = nn.Conv2d(1, 1, kernel_size, stride=stride, bias=False)
            nn.init.ones_(conv.weight)
            modules.append(conv)
    image = torch.zeros(1, 1, 28, 28, requires_grad=True)
    output = nn.Sequential(*modules)(image)
    output[0, 0, output.shape[2] // 2, output.shape[3] // 2].backward()
    rows = image.grad[0, 0].abs().sum(dim=1).nonzero()
    return int(rows.max() - rows.min() + 1)


measured = {"pooling": measured_receptive_field(pool_layers),
            "striding": measured_receptive_field(stride_layers)}
print(measured)
"""),
code(r"""
assert measured == {"pooling": 16, "striding": 13}
""", tags=["remove-cell"]),
md(r"""
## Pooling or striding? A comparison on MNIST

The lecture says strided convolution is faster and can work as well as max pooling. Let
us test that on the digits, with two networks that differ only in how they down-sample:
the last chapter's CNN, and the same two convolutions with stride 2 and no pooling.
Because pooling has no weights, both have exactly the same parameters.
"""),
code(r"""
def pooling_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=5), nn.MaxPool2d(2),
        nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, kernel_size=5), nn.MaxPool2d(2),
        nn.BatchNorm2d(32), nn.ReLU(),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 10),
    )


def strided_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=5, stride=2),
        nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, kernel_size=5, stride=2),
        nn.BatchNorm2d(32), nn.ReLU(),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 10),
    )


def count_parameters(model):
    return sum(parameter.numel() for parameter in model.parameters())


def count_multiply_adds(model, input_shape=(1, 1, 28, 28)):
    # multiplications in one image's pass through convolutions and dense layers:
    # each output number costs one per weight of its window
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            height, width = module.kernel_size
            total += output.numel() * module.in_channels * height * width
        elif isinstance(module, nn.Linear):
            total += output.numel() * module.in_features

    hooks = [module.register_forward_hook(count) for module in model.modules()]
    with torch.no_grad():
        model.eval()(torch.zeros(input_shape))
    for hook in hooks:
        hook.remove()
    return total
"""),
md(r"""
Each network is trained for one epoch, with the same settings, and timed:
"""),
code(r"""
train_x, train_y = mnist_tensors(train=True, device=device)
test_x, test_y = mnist_tensors(train=False, device=device)

results = {}
for name, build in [("max pooling", pooling_cnn), ("stride 2", strided_cnn)]:
    model = build()
    multiply_adds = count_multiply_adds(model)
    history = fit(model.to(device), (train_x, train_y), epochs=1, batch_size=64,
                  lr=1e-2, generator=generator)
    results[name] = {
        "parameters": count_parameters(model),
        "multiply-adds": multiply_adds,
        "accuracy": accuracy(model, test_x, test_y),
        "seconds": history.seconds,
    }
for name, row in results.items():
    print(f"{name}: {100 * row['accuracy']:.2f}% test accuracy,",
          f"{row['seconds']:.1f} s of training")
"""),
code(r"""
pooling, striding = results["max pooling"], results["stride 2"]
for key, row in [("pool", pooling), ("stride", striding)]:
    glue(f"{key}_params", f"{row['parameters']:,}", display=False)
    glue(f"{key}_madds", f"{row['multiply-adds']:,}", display=False)
    glue(f"{key}_acc", f"{100 * row['accuracy']:.2f}%", display=False)
    glue(f"{key}_seconds", f"{row['seconds']:.1f} s", display=False)
madds_ratio = pooling["multiply-adds"] / striding["multiply-adds"]
glue("madds_ratio", f"{madds_ratio:.1f}", display=False)
"""),
code(r"""
assert pooling["parameters"] == striding["parameters"] == 18_474
assert pooling["multiply-adds"] == 1_054_720 and striding["multiply-adds"] == 267_520
assert round(madds_ratio, 1) == 3.9
assert pooling["accuracy"] >= 0.985 and striding["accuracy"] >= 0.985, results
assert abs(pooling["accuracy"] - striding["accuracy"]) < 0.01, results
""", tags=["remove-cell"]),
md(r"""
| | max pooling | stride 2 |
| --- | --- | --- |
| parameters | {glue:text}`pool_params` | {glue:text}`stride_params` |
| multiply-adds per image | {glue:text}`pool_madds` | {glue:text}`stride_madds` |
| test accuracy after one epoch | {glue:text}`pool_acc` | {glue:text}`stride_acc` |
| training time on {glue:text}`device` | {glue:text}`pool_seconds` | {glue:text}`stride_seconds` |

Same parameters, but the strided network does {glue:text}`madds_ratio` times fewer
multiply-adds: its convolutions are evaluated at a quarter of the positions (and its
dense layer is the same). How much training time that saves depends on the device: the
arithmetic is most of the work on a CPU, while on a GPU networks this small are limited by
other overheads. Both reach more than 98.5% after a single epoch and lie within a
percentage point of each other: the lecture's claim holds here, far less arithmetic for
about the same accuracy. The saving grows with the size of the images, which is why many
modern networks down-sample mostly with strided convolutions and pool only once, over the
whole feature map, at the end.

## Exercises

Assignment **`a4_convolution`** (in `assignments/a4_convolution/`) asks you to write the
operations of this chapter and the last yourself, with tensor operations only:

1. `conv_output_size(n, kernel_size, stride, padding)`, the formula above;
2. `conv2d(x, weight, bias, stride, padding)`, a convolutional layer with stride and padding;
3. `max_pool2d(x, kernel_size, stride)`, max pooling of every channel;
4. `conv_matrix(kernel, input_size)`, a convolution as one matrix (chapter 6).

Open it in JupyterLab, fill in each function, and press **Validate** before you submit.
"""),
]
write("/work/main/book/07_pooling_striding.ipynb", cells)
