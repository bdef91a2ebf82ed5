import sys; sys.path.insert(0, "/tmp/author")
from nbtools import md, code, write

cells = [
md(r"""
# Convolutional neural networks

Chapter 3 ended with a weakness of the multi-layer perceptron: its features are tied to pixel
positions, so a digit moved by a few pixels is misread. This chapter builds the remedy into
the network. A **convolution** applies one small feature detector at every position of the
image, so whatever it detects, it detects anywhere. Networks made of convolutions, the
**convolutional neural networks** (CNNs) of {cite}`lecun1998gradient`, are what changed
computer vision, AlexNet {cite}`krizhevsky2012imagenet` included.
"""),
code(r"""
import io
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from IPython.display import display
from matplotlib import cbook
from myst_nb import glue
from torch import nn

from dlcv.convolution import (
    gabor_kernel,
    plot_connections,
    plot_multiple_filters,
    plot_sliding_filter,
)
from dlcv.data import mnist_tensors, shift_images
from dlcv.device import choose_device, describe_device
from dlcv.plots import show_images
from dlcv.seeding import seed_everything
from dlcv.training import accuracy, fit, predict

device = choose_device()
generator = seed_everything(0)
glue("device", describe_device(device), display=False)
"""),
md(r"""
## Convolution: a filter sliding over an image

A convolution takes a small grid of weights, the **filter** or **kernel**, and slides it
over the image. At each position it multiplies the pixels under the kernel by the weights
and sums the products; that sum is one pixel of the output. For a $k \times k$ kernel $w$
and an image $x$:

$$
y_{i,j} = \sum_{u=0}^{k-1} \sum_{v=0}^{k-1} w_{u,v}\, x_{i+u,\, j+v}
$$

Here is a $7 \times 7$ image with a bright vertical bar, and a kernel that subtracts the
left column of its window from the right one: a detector of dark-to-bright vertical edges.
The figure stops the kernel at output position $(1, 1)$; the outputs computed before it are
filled in.
"""),
code(r"""
image = torch.ones(7, 7)
image[:, 2:4] = 8  # a bright vertical bar two pixels wide
image[5:, 5] = 5
edge_kernel = torch.tensor([[-1.0, 0.0, 1.0],
                            [-2.0, 0.0, 2.0],
                            [-1.0, 0.0, 1.0]])
fig = plot_sliding_filter(image, edge_kernel, position=(1, 1))
"""),
md(r"""
PyTorch's `F.conv2d` gives the same number. It works on batches of multi-channel images, so
both tensors get two leading dimensions of size 1 (`[None, None]`): the image becomes
(batch, channels, height, width) = (1, 1, 7, 7).
"""),
code(r"""
by_hand = (image[1:4, 1:4] * edge_kernel).sum()
output = F.conv2d(image[None, None], edge_kernel[None, None])[0, 0]
print("by hand:", by_hand.item(), "  F.conv2d:", output[1, 1].item())
print("output shape:", tuple(output.shape))
"""),
code(r"""
assert by_hand == output[1, 1] == 28
assert output.shape == (5, 5)
assert (output[:, 0] > 0).all() and (output[:, 2] < 0).all()  # left edge +, right edge -
""", tags=["remove-cell"]),
md(r"""
The output is $5 \times 5$: a $3 \times 3$ kernel fits in $7 - 3 + 1 = 5$ places along each
direction. It is large and positive along the bar's left edge (dark to bright), large and
negative along its right edge, and zero where the image is flat. The next chapter returns
to output sizes, padding and strides.

```{note}
Mathematics defines convolution with the kernel flipped, $x_{i-u,\, j-v}$; what deep-learning
libraries call convolution, and what the formula above computes, is strictly a
*cross-correlation*. For a network the difference does not matter: its kernels are learned,
and a learned kernel can just as well be learned flipped.
```

## A Gabor filter on a photograph

A classic hand-designed kernel is the **Gabor filter**: a stripe pattern seen through a
Gaussian window. It responds to edges and bars of one orientation and one thickness. The
course's `gabor_kernel` makes one; we subtract its mean, so that it responds to structure
rather than to overall brightness. Our photograph is the computer scientist Grace Hopper,
in grey and at half size.
"""),
code(r"""
rgb = plt.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
luminance = torch.tensor([0.299, 0.587, 0.114])
grey = torch.tensor(rgb, dtype=torch.float32) @ luminance / 255
photo = F.avg_pool2d(grey[None, None], 2)[0, 0]  # mean of 2x2 blocks: half size


def gabor_response(angle, wavelength, image=photo):
    # a zero-mean Gabor kernel at `angle` degrees and the image's response to it
    sigma = wavelength / 2
    size = 2 * math.ceil(3 * sigma) + 1  # the window spans 3 standard deviations
    kernel = gabor_kernel(size, sigma, math.radians(angle), wavelength)
    kernel = kernel - kernel.mean()
    padded = F.pad(image[None, None], [size // 2] * 4, mode="reflect")
    response = F.conv2d(padded, kernel[None, None])
    return kernel, response[0, 0].relu()


def show_kernel(axis, kernel, title):
    limit = kernel.abs().max().item()
    axis.imshow(kernel.numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
    axis.set_title(title, fontsize=10)
    axis.axis("off")


def show_response(axis, response, title):
    # the brightest 0.5% saturate, so that weaker responses stay visible
    top = response.quantile(0.995).item()
    axis.imshow(response.numpy(), cmap="magma", vmin=0, vmax=top)
    axis.set_title(title, fontsize=10)
    axis.axis("off")


kernel, response = gabor_response(angle=0, wavelength=8)
fig, axes = plt.subplots(1, 3, figsize=(9, 3.8), layout="constrained",
                         gridspec_kw={"width_ratios": [3, 1.2, 3]})
axes[0].imshow(photo.numpy(), cmap="gray")
axes[0].set_title(f"photo ({photo.shape[0]}×{photo.shape[1]})", fontsize=10)
axes[0].axis("off")
height, width = kernel.shape
show_kernel(axes[1], kernel, f"Gabor kernel, 0°\n{height}×{width}")
show_response(axes[2], response, "response (after ReLU)")
"""),
md(r"""
The filter's stripes are vertical, and so are the features it finds: the edges of the
flag, the sides of the face and of the tie. Padding the photo by half the kernel size on
each side keeps the response at the photo's size; the padding mirrors the photo at its
border (`mode="reflect"`), because zeros would make the border itself look like an edge.

Because the same kernel is applied everywhere, moving the photo moves the response by
exactly as much: the filter detects its feature wherever the feature is. A convolution is
**equivariant** to translation, which the next cell checks by moving the photo 20 pixels
right and 10 down.
"""),
code(r"""
moved_photo = torch.roll(photo, shifts=(10, 20), dims=(0, 1))
_, moved_response = gabor_response(0, 8, image=moved_photo)
m = kernel.shape[0]  # stay away from the borders, where rolling wraps pixels around
same = torch.allclose(moved_response[10 + m:-m, 20 + m:-m],
                      response[m:-m - 10, m:-m - 20], atol=1e-4)
print("response of the moved photo == moved response:", same)
"""),
code(r"""
assert response.shape == photo.shape == (300, 256)
assert same
""", tags=["remove-cell"]),
md(r"""
### Explore: orientation and wavelength

Turn the filter and change the spacing of its stripes. Each orientation picks out other
edges of the photograph; a long wavelength finds broad bars, a short one fine detail. (The
sliders need a running notebook; the figure after them shows four orientations on any
page.)
"""),
code(r"""
def draw_gabor(angle, wavelength):
    kernel, response = gabor_response(angle, wavelength)
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.6), layout="constrained",
                             gridspec_kw={"width_ratios": [1, 2]})
    show_kernel(axes[0], kernel, f"kernel: {angle}°, wavelength {wavelength} px")
    show_response(axes[1], response, "response (after ReLU)")
    return fig


angle_slider = widgets.IntSlider(value=45, min=0, max=165, step=15,
                                 description="angle (°)")
wavelength_slider = widgets.IntSlider(value=8, min=4, max=20, step=2,
                                      description="wavelength")
# The figure goes into an Image widget as a PNG rather than through interact's
# Output widget: notebook runners (nbclient) can stall on Output widgets.
picture = widgets.Image(format="png")


def redraw(change=None):
    fig = draw_gabor(angle_slider.value, wavelength_slider.value)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    picture.value = buffer.getvalue()


redraw()
angle_slider.observe(redraw, names="value")
wavelength_slider.observe(redraw, names="value")
display(widgets.VBox([widgets.HBox([angle_slider, wavelength_slider]), picture]))
"""),
code(r"""
angles = [0, 45, 90, 135]
fig, axes = plt.subplots(2, 4, figsize=(9, 4.8), layout="constrained",
                         gridspec_kw={"height_ratios": [1, 2.3]})
for column, angle in enumerate(angles):
    kernel, response = gabor_response(angle, wavelength=8)
    show_kernel(axes[0, column], kernel, f"{angle}°")
    show_response(axes[1, column], response, "")
fig.suptitle("Four Gabor filters (wavelength 8 px), each finding its own edges")
plt.show()
"""),
md(r"""
At 90° the filter finds horizontal features instead: the brim of the cap, the glasses, the
mouth, the rows of medal ribbons. The diagonal filters pick out the slanting edges of the
collar and shoulders and the points of the stars.
"""),
md(r"""
## From a dense layer to a convolutional layer

A convolution is a layer of a neural network like any other: each output pixel is a
hidden unit that computes a weighted sum of inputs. It differs from the dense layers of
chapter 3 in two ways, easiest to see in one dimension. In a **dense** layer every hidden
unit is connected to every input. With **local connections** each unit is connected only
to the inputs in its neighbourhood, here three. With **shared weights** all units use the
same three weights $w_1, w_2, w_3$: those three numbers are the filter, and the layer is a
convolution.
"""),
code(r"""
fig, axes = plt.subplots(3, 1, figsize=(5.5, 7), layout="constrained")
for axis, kind in zip(axes, ["dense", "local", "shared"]):
    plot_connections(kind, n_inputs=7, kernel_size=3, ax=axis)
plt.show()
"""),
md(r"""
Each idea divides the number of weights. Count them for a real case: a $28 \times 28$
MNIST image in, and 16 feature maps of $28 \times 28$ out (16 filters of $5 \times 5$, with
padding). Let PyTorch count the dense layer and the convolution; the locally connected
layer, which PyTorch does not provide, has one $5 \times 5$ patch of weights and one bias
per output unit.
"""),
code(r"""
def count_parameters(model):
    return sum(parameter.numel() for parameter in model.parameters())


outputs = 16 * 28 * 28
dense_layer = nn.Linear(28 * 28, outputs)
conv_layer = nn.Conv2d(1, 16, kernel_size=5, padding=2)
conv_shape = tuple(conv_layer(torch.zeros(1, 1, 28, 28)).shape[1:])
counts = {
    "dense": count_parameters(dense_layer),
    "local connections": outputs * (5 * 5 + 1),
    "shared weights": count_parameters(conv_layer),
}
for name, count in counts.items():
    print(f"{name:>17}: {count:>9,} parameters")
print("output of the convolution:", conv_shape, "=", outputs, "units")
for name, key in [("dense", "dense"), ("local", "local connections"),
                  ("conv", "shared weights")]:
    glue(f"{name}_params", f"{counts[key]:,}", display=False)
"""),
code(r"""
assert counts == {"dense": 9_847_040, "local connections": 326_144, "shared weights": 416}
assert conv_shape == (16, 28, 28) and outputs == 12_544
""", tags=["remove-cell"]),
md(r"""
Nearly ten million weights for the dense layer ({glue:text}`dense_params`), a thirtieth
of that with local connections ({glue:text}`local_params`), and {glue:text}`conv_params`
for the convolution: 16 filters of 25 weights plus 16 biases, however large the image.
Fewer weights need fewer examples to learn, and a filter learned at one position works at
all of them.

## Several filters: a multi-channel output

One filter detects one kind of feature. For practical vision a layer uses many filters
and stacks their responses as the **channels** of its output, just as a colour image
stacks red, green and blue. Four Gabor filters give an output of four channels:
"""),
code(r"""
kernels = torch.stack([gabor_kernel(15, 3.5, math.radians(angle), 8.0)
                       for angle in angles])
kernels = kernels - kernels.mean(dim=(1, 2), keepdim=True)
small_photo = F.avg_pool2d(photo[None, None], 2)[0, 0]
fig = plot_multiple_filters(small_photo, kernels)
"""),
md(r"""
In PyTorch this is one `nn.Conv2d` with `out_channels=4`; its weight tensor has shape
(out channels, in channels, height, width). A layer after it takes all four channels as
input: **each of its filters spans every channel** of the layer before, so a second layer
with 8 filters of $3 \times 3$ has weights of shape (8, 4, 3, 3).
"""),
code(r"""
layer1 = nn.Conv2d(1, 4, kernel_size=15, padding=7, bias=False)
layer2 = nn.Conv2d(4, 8, kernel_size=3, padding=1)
with torch.no_grad():
    layer1.weight.copy_(kernels[:, None])  # the four Gabor filters as weights
    features = layer1(small_photo[None, None])
    deeper = layer2(features)
print("weights:", tuple(layer1.weight.shape), "then", tuple(layer2.weight.shape))
print("image", tuple(small_photo.shape), "-> features", tuple(features.shape),
      "-> next layer", tuple(deeper.shape))
"""),
code(r"""
assert layer1.weight.shape == (4, 1, 15, 15) and layer2.weight.shape == (8, 4, 3, 3)
assert features.shape == (1, 4, 150, 128) and deeper.shape == (1, 8, 150, 128)
""", tags=["remove-cell"]),
md(r"""
## Convolution is multiplication by a weight matrix

A convolution is linear: it can be written as $y = Wx$ for one matrix $W$, so a
convolutional layer is still the lecture's $y = f(Wx + b)$. We can build that matrix
without thinking about its structure. Column $p$ of a linear map's matrix is its output for
the input that is 1 at pixel $p$ and 0 elsewhere; so convolve all 25 one-pixel images of
size $5 \times 5$ with a random $3 \times 3$ kernel and stack the results as columns.
"""),
code(r"""
kernel3 = torch.randn(3, 3, generator=generator)
one_pixel_images = torch.eye(25).view(25, 1, 5, 5)  # image p: 1 at pixel p
responses = F.conv2d(one_pixel_images, kernel3[None, None])  # (25, 1, 3, 3)
T = responses.view(25, 9).T  # column p: the response to pixel p

x = torch.randn(5, 5, generator=generator)
by_matrix = T @ x.flatten()
by_conv = F.conv2d(x[None, None], kernel3[None, None]).flatten()
print("T:", tuple(T.shape), "  T @ x == conv2d(x):",
      torch.allclose(by_matrix, by_conv, atol=1e-6))
"""),
code(r"""
nonzero_per_row = (T != 0).sum(dim=1)
assert T.shape == (9, 25)
assert torch.allclose(by_matrix, by_conv, atol=1e-6)
assert (nonzero_per_row == 9).all()
assert all(torch.equal(row[row != 0].sort().values, kernel3.flatten().sort().values)
           for row in T)
""", tags=["remove-cell"]),
code(r"""
fig, ax = plt.subplots(figsize=(9, 3.6), layout="constrained")
limit = T.abs().max().item()
shown = ax.imshow(T.numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
ax.set_xticks(range(0, 25, 5), [f"row {r}" for r in range(5)], ha="left")
ax.set_yticks(range(9), [f"$y_{{{i // 3},{i % 3}}}$" for i in range(9)])
ax.set_xlabel("input pixel (5×5 image, flattened row by row)")
ax.set_title("the 9×25 matrix of a 3×3 convolution on a 5×5 image (white: zero)")
fig.colorbar(shown, ax=ax, shrink=0.8, label="weight")
plt.show()
"""),
md(r"""
Each row is one output unit. It holds the kernel's nine weights, in three runs of three
(one per image row the window covers), and zeros elsewhere: those zeros are the **local
connections**. Every row holds the **same** nine weights, shifted along: those are the
**shared weights**. A dense layer would fill all 225 entries with free parameters; the
convolution has 9.

## A CNN for MNIST

Now the real thing: a small CNN for the digits. Two convolutional layers learn 16 and 32
filters of $5 \times 5$. Each is followed by **max pooling**, which keeps the largest value
of every $2 \times 2$ block and so halves the image (the next chapter is about it), then by
a ReLU. A dense layer reads the final $32 \times 4 \times 4$ features and scores the ten
digits.

One ingredient is not in the lecture: **batch normalisation** {cite}`ioffe2015batch`
before each ReLU. It rescales every channel to zero mean and unit variance over the
mini-batch (then applies a learned scale and shift), which lets training take larger steps
and reach 99% in two epochs. Pooling comes straight after the convolution so that
normalisation and ReLU work on a quarter of the pixels, which saves much of the training
time on a CPU. (Max pooling and ReLU commute, so for them the order makes no difference
at all.)
"""),
code(r"""
train_x, train_y = mnist_tensors(train=True, device=device)
test_x, test_y = mnist_tensors(train=False, device=device)

cnn = nn.Sequential(
    nn.Conv2d(1, 16, kernel_size=5), nn.MaxPool2d(2),
    nn.BatchNorm2d(16), nn.ReLU(),
    nn.Conv2d(16, 32, kernel_size=5), nn.MaxPool2d(2),
    nn.BatchNorm2d(32), nn.ReLU(),
    nn.Flatten(),
    nn.Linear(32 * 4 * 4, 10),
).to(device)

shapes = [("input", tuple(train_x.shape[1:]))]
with torch.no_grad():
    cnn.eval()
    features = train_x[:2]
    for layer in cnn:
        features = layer(features)
        shapes.append((type(layer).__name__, tuple(features.shape[1:])))
for name, shape in shapes:
    print(f"{name:>12}  {shape}")
print(f"parameters: {count_parameters(cnn):,}")
"""),
code(r"""
assert [shape for _, shape in shapes] == [
    (1, 28, 28), (16, 24, 24), (16, 12, 12), (16, 12, 12), (16, 12, 12),
    (32, 8, 8), (32, 4, 4), (32, 4, 4), (32, 4, 4), (512,), (10,)]
assert count_parameters(cnn) == 18_474
""", tags=["remove-cell"]),
md(r"""
Each $5 \times 5$ convolution without padding shrinks the image by 4 pixels and each
pooling halves it: $28 \to 24 \to 12 \to 8 \to 4$. The whole network has
{glue:text}`cnn_params` parameters, about {glue:text}`param_ratio` times fewer than the
lecture's MLP (784-256-256-10). Two epochs of training:
"""),
code(r"""
history = fit(cnn, (train_x, train_y), epochs=2, batch_size=128, lr=1e-2,
              generator=generator)
cnn_accuracy = accuracy(cnn, test_x, test_y)
print(f"test accuracy: {100 * cnn_accuracy:.2f}%",
      f"({history.seconds:.0f} s of training)")
glue("cnn_accuracy", f"{100 * cnn_accuracy:.2f}%", display=False)
glue("cnn_seconds", f"{history.seconds:.0f} s", display=False)
"""),
code(r"""
assert cnn_accuracy >= 0.99, cnn_accuracy
""", tags=["remove-cell"]),
md(r"""
The CNN classifies {glue:text}`cnn_accuracy` of the 10,000 test digits correctly after
{glue:text}`cnn_seconds` of training on {glue:text}`device` (at least 99% on any device):
better than the MLP of chapter 3 (which is trained again below), with a fraction of its
parameters.

## What the network learned

The 16 filters of the first layer, drawn as $5 \times 5$ images (red: positive weights,
blue: negative). Nobody designed them. Some are recognisably edge or stroke detectors, with
positive weights on one side and negative on the other, rough cousins of the Gabor filters
above; others are harder to read, since training only asks them to be useful.
"""),
code(r"""
filters = cnn[0].weight.detach()
fig = show_images(filters, titles=range(1, 17), ncols=8, cmap="RdBu_r",
                  symmetric=True, size=1.1)
"""),
md(r"""
Feeding one digit through the network shows what the filters find in it. The first
layer's 16 feature maps (its convolution outputs, $24 \times 24$, before pooling) are drawn
relative to the filter's response to blank paper: red where the digit makes the response
larger, blue where it makes it smaller. Each map lights up at the strokes and edges of its
filter's kind. The second layer's 32 maps, $8 \times 8$, combine those into responses to
larger parts of the digit.
"""),
code(r"""
digit = test_x[:1]
first_maps = predict(cnn[:1], digit)[0]  # the first convolution alone
first_maps = first_maps - first_maps[:, :1, :1]  # minus the blank-paper response
second_maps = predict(cnn[:5], digit)[0]  # up to the second convolution
fig = show_images(digit, titles=[f"label {test_y[0].item()}"], size=1.6)
fig = show_images(first_maps, titles=[f"map {i}" for i in range(1, 17)], ncols=8,
                  cmap="RdBu_r", symmetric=True, size=1.1)
fig = show_images(second_maps, ncols=16, size=0.75)
"""),
code(r"""
assert first_maps.shape == (16, 24, 24) and second_maps.shape == (32, 8, 8)
""", tags=["remove-cell"]),
md(r"""
## The shifted digits again

Chapter 3 moved the test digits a few pixels and watched the MLP fail. Now the same test for
both networks. For the comparison we train the lecture's MLP here, for two epochs (chapter
3 trains it for five; two are enough to show how it behaves).
"""),
code(r"""
mlp = nn.Sequential(
    nn.Flatten(),
    nn.Linear(784, 256), nn.ReLU(),
    nn.Linear(256, 256), nn.ReLU(),
    nn.Linear(256, 10),
).to(device)
fit(mlp, (train_x, train_y), epochs=2, batch_size=256, lr=3e-3,
    generator=generator)

shifts = range(5)
results = {
    name: [accuracy(model, shift_images(test_x, dx=dx), test_y) for dx in shifts]
    for name, model in [("CNN", cnn), ("MLP", mlp)]
}
print("shift (px):  " + "".join(f"{dx:>8}" for dx in shifts))
for name, accuracies in results.items():
    print(f"{name} acc. (%): " + "".join(f"{100 * a:>8.1f}" for a in accuracies))

ratio = count_parameters(mlp) / count_parameters(cnn)
glue("cnn_params", f"{count_parameters(cnn):,}", display=False)
glue("param_ratio", f"{ratio:.0f}", display=False)
"""),
code(r"""
cnn_acc, mlp_acc = results["CNN"], results["MLP"]
assert count_parameters(mlp) == 269_322 and round(ratio) == 15
assert mlp_acc[0] >= 0.97 and cnn_acc[0] > mlp_acc[0], results
assert all(cnn_acc[dx] > mlp_acc[dx] + 0.03 for dx in (2, 3, 4)), results
assert cnn_acc[0] - cnn_acc[3] < 0.1 and mlp_acc[0] - mlp_acc[3] > 0.3, results
assert cnn_acc[0] - cnn_acc[4] < (mlp_acc[0] - mlp_acc[4]) / 2, results
""", tags=["remove-cell"]),
code(r"""
fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
for (name, accuracies), marker in zip(results.items(), ["o", "s"]):
    ax.plot(shifts, [100 * a for a in accuracies], marker=marker, label=name)
ax.axhline(10, color="gray", linestyle=":", label="chance (10%)")
ax.set(xlabel="shift to the right (pixels)", ylabel="test accuracy (%)",
       ylim=(0, 100), xticks=list(shifts), title="Test digits moved to the right")
ax.legend()
plt.show()
for dx in (3, 4):
    glue(f"cnn_shift_{dx}", f"{100 * cnn_acc[dx]:.0f}%", display=False)
    glue(f"mlp_shift_{dx}", f"{100 * mlp_acc[dx]:.0f}%", display=False)
"""),
md(r"""
Moved three pixels, the digits are still read correctly {glue:text}`cnn_shift_3` of the time
by the CNN but only {glue:text}`mlp_shift_3` by the MLP; at four pixels it is
{glue:text}`cnn_shift_4` against {glue:text}`mlp_shift_4`. The CNN holds up far better,
although it never saw a moved digit either.

It is not perfectly invariant, though, and the reasons are instructive. The convolutions
are equivariant: a moved digit gives moved feature maps. Each max pooling forgives a
movement within its $2 \times 2$ block. But the final dense layer reads the $4 \times 4$
grid of features position by position, as the MLP reads pixels; a large shift moves
features into cells where it never saw them. Networks that must be more robust pool over
the whole image at the end, or are trained on moved images (data augmentation).

## Exercises

Assignment **`a4_convolution`** (in `assignments/a4_convolution/`) asks you to write this
chapter's operations yourself, with tensor operations only:

1. `conv2d(x, weight, bias, stride, padding)`, a convolutional layer that gives the same
   result as `F.conv2d`, summing over all input channels;
2. `conv_matrix(kernel, input_size)`, the matrix $T$ of this chapter, built row by row
   from its structure rather than from one-pixel images.

Its other two functions, `conv_output_size` and `max_pool2d`, belong to the next chapter.
Open it in JupyterLab, fill in each function, and press **Validate** before you submit.
"""),
]
write("/work/main/book/06_cnn.ipynb", cells)
