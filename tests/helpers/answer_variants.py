"""Answers as students write them: plausible mistakes, and correct answers written differently.

For each assignment and function (the grade id of its answer cell), ``WRONG`` holds
implementations that must lose marks and ``ALTERNATIVE`` holds correct ones, written in
another style, that must keep full marks. ``tests/helpers/assignment_checks.py`` grades them all
through nbgrader, and checks that every hidden test cell is failed by at least one wrong answer
of its own function.
"""

WRONG = {
    "a1_single_layer": {
        "linear": {
            "forgets the bias": "def linear(x, W, b):\n    return x @ W\n",
            "adds the first bias to every unit": "def linear(x, W, b):\n    return x @ W + b[0]\n",
            "clips its input in place": "def linear(x, W, b):\n    x.clamp_(-3, 3)\n    return x @ W + b\n",
        },
        "relu": {
            "modifies its input in place": "def relu(x):\n    return x.clamp_(min=0)\n",
            "calls the ready-made ReLU": "def relu(x):\n    return torch.relu(x)\n",
            "calls the tensor method relu": "def relu(x):\n    return x.relu()\n",
        },
        "he_normal": {
            "scales by the outputs as the slide did": (
                "def he_normal(fan_in, fan_out, generator=None):\n"
                "    return torch.randn(fan_in, fan_out, generator=generator) / math.sqrt(fan_out)\n"
            ),
            "ignores the generator": (
                "def he_normal(fan_in, fan_out, generator=None):\n"
                "    return torch.randn(fan_in, fan_out) * math.sqrt(2 / fan_in)\n"
            ),
        },
        "mlp_forward": {
            "applies ReLU to the last layer too": (
                "def mlp_forward(x, layers):\n"
                "    h = x.reshape(len(x), -1)\n"
                "    for W, b in layers:\n"
                "        h = relu(linear(h, W, b))\n"
                "    return h\n"
            ),
            "uses nn.ReLU": (
                "def mlp_forward(x, layers):\n"
                "    h = x.reshape(len(x), -1)\n"
                "    for W, b in layers[:-1]:\n"
                "        h = torch.nn.ReLU()(linear(h, W, b))\n"
                "    return linear(h, *layers[-1])\n"
            ),
        },
        "top_k_accuracy": {
            "ignores k and uses the arg-max": (
                "def top_k_accuracy(logits, targets, k=5):\n"
                "    return (logits.argmax(dim=1) == targets).float().mean().item()\n"
            ),
            "takes the k smallest logits": (
                "def top_k_accuracy(logits, targets, k=5):\n"
                "    lowest = logits.argsort(dim=1)[:, :k]\n"
                "    return (lowest == targets[:, None]).any(dim=1).float().mean().item()\n"
            ),
            "breaks ties by position with topk": (
                "def top_k_accuracy(logits, targets, k=5):\n"
                "    best = logits.topk(k, dim=1).indices\n"
                "    return float((best == targets.unsqueeze(1)).any(dim=1).float().mean())\n"
            ),
            "returns a 0-d tensor": (
                "def top_k_accuracy(logits, targets, k=5):\n"
                "    rank = (logits > logits.gather(1, targets.view(-1, 1))).sum(dim=1)\n"
                "    return (rank < k).float().mean()\n"
            ),
        },
    },
    "a2_losses": {
        "softmax": {
            "forgets the max shift": (
                "def softmax(z):\n"
                "    e = z.exp()\n"
                "    return e / e.sum(dim=-1, keepdim=True)\n"
            ),
            "normalises along the first dimension": (
                "def softmax(z):\n"
                "    e = (z - z.max()).exp()\n"
                "    return e / e.sum(dim=0, keepdim=True)\n"
            ),
        },
        "cross_entropy": {
            "takes the log of a naive softmax": (
                "def cross_entropy(logits, targets):\n"
                "    q = logits.exp() / logits.exp().sum(dim=1, keepdim=True)\n"
                "    return -q[torch.arange(len(targets)), targets].log().mean()\n"
            ),
            "sums instead of averaging": (
                "def cross_entropy(logits, targets):\n"
                "    m = logits.max(dim=1, keepdim=True).values\n"
                "    log_q = logits - m - (logits - m).exp().sum(dim=1, keepdim=True).log()\n"
                "    return -log_q[torch.arange(len(targets)), targets].sum()\n"
            ),
            "returns a Python float": (
                "def cross_entropy(logits, targets):\n"
                "    m = logits.max(dim=1, keepdim=True).values\n"
                "    log_q = logits - m - (logits - m).exp().sum(dim=1, keepdim=True).log()\n"
                "    return -log_q[torch.arange(len(targets)), targets].mean().item()\n"
            ),
        },
        "mse": {
            "averages over the batch only": (
                "def mse(pred, target):\n"
                "    return ((pred - target) ** 2).sum() / len(pred)\n"
            ),
            "takes the root (RMSE)": (
                "def mse(pred, target):\n"
                "    return ((pred - target) ** 2).mean().sqrt()\n"
            ),
            "returns a Python float": (
                "def mse(pred, target):\n"
                "    return ((pred - target) ** 2).mean().item()\n"
            ),
        },
        "cross_entropy_grad": {
            "forgets to divide by the batch size": (
                "def cross_entropy_grad(logits, targets):\n"
                "    one_hot = torch.zeros_like(logits)\n"
                "    one_hot[torch.arange(len(targets)), targets] = 1.0\n"
                "    return softmax(logits) - one_hot\n"
            ),
            "uses autograd": (
                "def cross_entropy_grad(logits, targets):\n"
                "    z = logits.detach().clone().requires_grad_(True)\n"
                "    cross_entropy(z, targets).backward()\n"
                "    return z.grad\n"
            ),
            "skips the max shift": (
                "def cross_entropy_grad(logits, targets):\n"
                "    e = logits.exp()\n"
                "    one_hot = torch.zeros_like(logits)\n"
                "    one_hot[torch.arange(len(targets)), targets] = 1.0\n"
                "    return (e / e.sum(dim=1, keepdim=True) - one_hot) / len(targets)\n"
            ),
        },
    },
    "a3_training": {
        "minibatches": {
            "never shuffles": (
                "def minibatches(x, y, batch_size, generator=None):\n"
                "    for start in range(0, len(x), batch_size):\n"
                "        yield x[start:start + batch_size], y[start:start + batch_size]\n"
            ),
            "drops the last, smaller batch": (
                "def minibatches(x, y, batch_size, generator=None):\n"
                "    order = torch.randperm(len(x), generator=generator)\n"
                "    for start in range(0, len(x) - batch_size + 1, batch_size):\n"
                "        batch = order[start:start + batch_size]\n"
                "        yield x[batch], y[batch]\n"
            ),
        },
        "sgd_step": {
            "never clears the gradients": (
                "def sgd_step(params, lr):\n"
                "    with torch.no_grad():\n"
                "        for p in params:\n"
                "            if p.grad is not None:\n"
                "                p -= lr * p.grad\n"
            ),
            "climbs the gradient": (
                "def sgd_step(params, lr):\n"
                "    with torch.no_grad():\n"
                "        for p in params:\n"
                "            if p.grad is not None:\n"
                "                p += lr * p.grad\n"
                "                p.grad = None\n"
            ),
        },
        "train_epoch": {
            "returns the last batch's loss": (
                "def train_epoch(model, x, y, lr, batch_size, generator=None):\n"
                "    model.train()\n"
                "    for xb, yb in minibatches(x, y, batch_size, generator):\n"
                "        loss = F.cross_entropy(model(xb), yb)\n"
                "        loss.backward()\n"
                "        sgd_step(model.parameters(), lr)\n"
                "    return loss.item()\n"
            ),
            "forgets model.train()": (
                "def train_epoch(model, x, y, lr, batch_size, generator=None):\n"
                "    losses = []\n"
                "    for xb, yb in minibatches(x, y, batch_size, generator):\n"
                "        loss = F.cross_entropy(model(xb), yb)\n"
                "        loss.backward()\n"
                "        sgd_step(model.parameters(), lr)\n"
                "        losses.append(loss.item())\n"
                "    return sum(losses) / len(losses)\n"
            ),
        },
        "accuracy": {
            "stays in training mode": (
                "def accuracy(model, x, y):\n"
                "    with torch.no_grad():\n"
                "        return (model(x).argmax(dim=1) == y).float().mean().item()\n"
            ),
            "forgets torch.no_grad()": (
                "def accuracy(model, x, y):\n"
                "    model.eval()\n"
                "    return (model(x).argmax(dim=1) == y).float().mean().item()\n"
            ),
        },
    },
    "a4_convolution": {
        "conv_output_size": {
            "is off by one": (
                "def conv_output_size(n, kernel_size, stride=1, padding=0):\n"
                "    return (n + 2 * padding - kernel_size) // stride\n"
            ),
            "rounds up": (
                "def conv_output_size(n, kernel_size, stride=1, padding=0):\n"
                "    return math.ceil((n + 2 * padding - kernel_size) / stride) + 1\n"
            ),
        },
        "conv2d": {
            "flips the kernel": (
                "def conv2d(x, weight, bias=None, stride=1, padding=0):\n"
                "    w = weight.flip(-1, -2)\n"
                "    cols = F.unfold(x, w.shape[-2:], padding=padding, stride=stride)\n"
                "    h = conv_output_size(x.shape[2], w.shape[2], stride, padding)\n"
                "    v = conv_output_size(x.shape[3], w.shape[3], stride, padding)\n"
                "    out = (w.reshape(len(w), -1) @ cols).view(len(x), len(w), h, v)\n"
                "    return out if bias is None else out + bias.view(1, -1, 1, 1)\n"
            ),
            "calls the ready-made layer": (
                "def conv2d(x, weight, bias=None, stride=1, padding=0):\n"
                "    return F.conv2d(x, weight, bias, stride=stride, padding=padding)\n"
            ),
            "ignores the padding": (
                "def conv2d(x, weight, bias=None, stride=1, padding=0):\n"
                "    cols = F.unfold(x, weight.shape[-2:], stride=stride)\n"
                "    h = conv_output_size(x.shape[2], weight.shape[2], stride)\n"
                "    v = conv_output_size(x.shape[3], weight.shape[3], stride)\n"
                "    out = (weight.reshape(len(weight), -1) @ cols).view(len(x), len(weight), h, v)\n"
                "    return out if bias is None else out + bias.view(1, -1, 1, 1)\n"
            ),
        },
        "max_pool2d": {
            "defaults the stride to 1": (
                "def max_pool2d(x, kernel_size, stride=None):\n"
                "    stride = 1 if stride is None else stride\n"
                "    return x.unfold(2, kernel_size, stride).unfold(3, kernel_size, stride).amax(dim=(-2, -1))\n"
            ),
            "averages instead of taking the maximum": (
                "def max_pool2d(x, kernel_size, stride=None):\n"
                "    stride = kernel_size if stride is None else stride\n"
                "    return x.unfold(2, kernel_size, stride).unfold(3, kernel_size, stride).mean(dim=(-2, -1))\n"
            ),
        },
        "conv_matrix": {
            "flips the kernel": (
                "def conv_matrix(kernel, input_size):\n"
                "    kernel = kernel.flip(0, 1)\n"
                "    (kh, kw), (h, w) = kernel.shape, input_size\n"
                "    rows = []\n"
                "    for i in range(h - kh + 1):\n"
                "        for j in range(w - kw + 1):\n"
                "            window = torch.zeros(h, w)\n"
                "            window[i:i + kh, j:j + kw] = kernel\n"
                "            rows.append(window.flatten())\n"
                "    return torch.stack(rows)\n"
            ),
            "returns the transpose": (
                "def conv_matrix(kernel, input_size):\n"
                "    (kh, kw), (h, w) = kernel.shape, input_size\n"
                "    rows = []\n"
                "    for i in range(h - kh + 1):\n"
                "        for j in range(w - kw + 1):\n"
                "            window = torch.zeros(h, w)\n"
                "            window[i:i + kh, j:j + kw] = kernel\n"
                "            rows.append(window.flatten())\n"
                "    return torch.stack(rows).T\n"
            ),
        },
    },
    "a5_backprop": {
        "linear_backward": {
            "returns zeros for grad_x, as x is no parameter": (
                "def linear_backward(grad_y, x, W):\n"
                "    return torch.zeros_like(x), x.T @ grad_y, grad_y.sum(dim=0)\n"
            ),
            "averages grad_b over the batch": (
                "def linear_backward(grad_y, x, W):\n"
                "    return grad_y @ W.T, x.T @ grad_y, grad_y.mean(dim=0)\n"
            ),
        },
        "relu_backward": {
            "passes the gradient at x == 0": (
                "def relu_backward(grad_y, x):\n"
                "    return grad_y * (x >= 0).to(grad_y.dtype)\n"
            ),
            "masks grad_y in place": (
                "def relu_backward(grad_y, x):\n"
                "    grad_y[x <= 0] = 0.0\n"
                "    return grad_y\n"
            ),
        },
        "mlp_loss_and_grads": {
            "forgets to divide by the batch size": (
                "def mlp_loss_and_grads(x, targets, params):\n"
                "    pre = x @ params['W0'] + params['b0']\n"
                "    hidden = pre.clamp(min=0)\n"
                "    logits = hidden @ params['W1'] + params['b1']\n"
                "    log_q = logits - torch.logsumexp(logits, dim=1, keepdim=True)\n"
                "    rows = torch.arange(len(targets))\n"
                "    grad_logits = log_q.exp()\n"
                "    grad_logits[rows, targets] -= 1.0\n"
                "    grad_hidden, grad_W1, grad_b1 = linear_backward(grad_logits, hidden, params['W1'])\n"
                "    _, grad_W0, grad_b0 = linear_backward(relu_backward(grad_hidden, pre), x, params['W0'])\n"
                "    grads = {'W0': grad_W0, 'b0': grad_b0, 'W1': grad_W1, 'b1': grad_b1}\n"
                "    return -log_q[rows, targets].mean().item(), grads\n"
            ),
            "skips the max shift": (
                "def mlp_loss_and_grads(x, targets, params):\n"
                "    pre = x @ params['W0'] + params['b0']\n"
                "    hidden = pre.clamp(min=0)\n"
                "    logits = hidden @ params['W1'] + params['b1']\n"
                "    q = logits.exp() / logits.exp().sum(dim=1, keepdim=True)\n"
                "    rows = torch.arange(len(targets))\n"
                "    loss = -q[rows, targets].log().mean()\n"
                "    grad_logits = torch.softmax(logits, dim=1)\n"
                "    grad_logits[rows, targets] -= 1.0\n"
                "    grad_logits /= len(targets)\n"
                "    grad_hidden, grad_W1, grad_b1 = linear_backward(grad_logits, hidden, params['W1'])\n"
                "    _, grad_W0, grad_b0 = linear_backward(relu_backward(grad_hidden, pre), x, params['W0'])\n"
                "    return loss.item(), {'W0': grad_W0, 'b0': grad_b0, 'W1': grad_W1, 'b1': grad_b1}\n"
            ),
            "uses autograd": (
                "def mlp_loss_and_grads(x, targets, params):\n"
                "    leaves = {name: p.detach().clone().requires_grad_(True) for name, p in params.items()}\n"
                "    hidden = (x @ leaves['W0'] + leaves['b0']).clamp(min=0)\n"
                "    loss = torch.nn.functional.cross_entropy(hidden @ leaves['W1'] + leaves['b1'], targets)\n"
                "    loss.backward()\n"
                "    return loss.item(), {name: leaf.grad for name, leaf in leaves.items()}\n"
            ),
        },
        "numerical_gradient": {
            "uses forward differences": (
                "def numerical_gradient(f, x, eps=1e-3):\n"
                "    grad = torch.zeros_like(x)\n"
                "    here = float(f(x))\n"
                "    for i in range(x.numel()):\n"
                "        probe = x.clone()\n"
                "        probe.view(-1)[i] += eps\n"
                "        grad.view(-1)[i] = (float(f(probe)) - here) / eps\n"
                "    return grad\n"
            ),
            "restores x by subtracting eps": (
                "def numerical_gradient(f, x, eps=1e-3):\n"
                "    grad = torch.zeros_like(x)\n"
                "    flat = x.view(-1)\n"
                "    for i in range(flat.numel()):\n"
                "        flat[i] += eps\n"
                "        up = float(f(x))\n"
                "        flat[i] -= 2 * eps\n"
                "        down = float(f(x))\n"
                "        flat[i] += eps\n"
                "        grad.view(-1)[i] = (up - down) / (2 * eps)\n"
                "    return grad\n"
            ),
        },
        "adam_step": {
            "never counts its steps": (
                "def adam_step(params, grads, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):\n"
                "    beta1, beta2 = betas\n"
                "    step = state.get('step', 0) + 1\n"
                "    for name, p in params.items():\n"
                "        m = state.setdefault('m_' + name, torch.zeros_like(p))\n"
                "        v = state.setdefault('v_' + name, torch.zeros_like(p))\n"
                "        m.mul_(beta1).add_((1 - beta1) * grads[name])\n"
                "        v.mul_(beta2).add_((1 - beta2) * grads[name] ** 2)\n"
                "        p -= lr * (m / (1 - beta1 ** step)) / ((v / (1 - beta2 ** step)).sqrt() + eps)\n"
            ),
            "puts new tensors in the dict": (
                "def adam_step(params, grads, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):\n"
                "    beta1, beta2 = betas\n"
                "    state['step'] = state.get('step', 0) + 1\n"
                "    for name in params:\n"
                "        m = beta1 * state.get('m_' + name, 0.0) + (1 - beta1) * grads[name]\n"
                "        v = beta2 * state.get('v_' + name, 0.0) + (1 - beta2) * grads[name] ** 2\n"
                "        state['m_' + name], state['v_' + name] = m, v\n"
                "        m_hat, v_hat = m / (1 - beta1 ** state['step']), v / (1 - beta2 ** state['step'])\n"
                "        params[name] = params[name] - lr * m_hat / (v_hat.sqrt() + eps)\n"
            ),
        },
    },
    "a6_cnn": {
        "split_validation": {
            "keeps the validation images in the training part too": (
                "def split_validation(n, n_validation, generator):\n"
                "    order = torch.randperm(n, generator=generator)\n"
                "    return order, order[:n_validation]\n"
            ),
            "ignores the generator": (
                "def split_validation(n, n_validation, generator):\n"
                "    order = torch.randperm(n)\n"
                "    return order[n_validation:], order[:n_validation]\n"
            ),
        },
        "cnn_layers": {
            "goes over the parameter budget": (
                "def cnn_layers():\n"
                "    return [('conv', 32, 5), ('relu',), ('maxpool', 2), ('conv', 64, 5), ('relu',), ('maxpool', 2),\n"
                "            ('flatten',), ('linear', 128), ('relu',), ('linear', 10)]\n"
            ),
            "is a multi-layer perceptron": (
                "def cnn_layers():\n"
                "    return [('flatten',), ('linear', 48), ('relu',), ('linear', 10)]\n"
            ),
        },
        "train_cnn": {
            "never takes an optimiser step": (
                "def train_cnn(model, x, y, generator):\n"
                "    train_idx, val_idx = split_validation(len(x), len(x) // 6, generator)\n"
                "    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)\n"
                "    for batch in train_idx[torch.randperm(len(train_idx), generator=generator)].split(128):\n"
                "        optimiser.zero_grad()\n"
                "        F.cross_entropy(model(x[batch]), y[batch]).backward()\n"
                "    model.eval()\n"
                "    with torch.no_grad():\n"
                "        return [(model(x[val_idx]).argmax(dim=1) == y[val_idx]).float().mean().item()]\n"
            ),
            "measures validation in training mode": (
                "def train_cnn(model, x, y, generator):\n"
                "    train_idx, val_idx = split_validation(len(x), len(x) // 6, generator)\n"
                "    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)\n"
                "    model.train()\n"
                "    history = []\n"
                "    for _ in range(2):\n"
                "        for batch in train_idx[torch.randperm(len(train_idx), generator=generator)].split(128):\n"
                "            optimiser.zero_grad()\n"
                "            F.cross_entropy(model(x[batch]), y[batch]).backward()\n"
                "            optimiser.step()\n"
                "        with torch.no_grad():\n"
                "            history.append((model(x[val_idx]).argmax(dim=1) == y[val_idx]).float().mean().item())\n"
                "    return history\n"
            ),
        },
    },
}


ALTERNATIVE = {
    "a1_single_layer": {
        "linear": {
            "loops over samples": (
                "def linear(x, W, b):\n"
                "    rows = [row @ W + b for row in x]\n"
                "    return torch.stack(rows)\n"
            ),
        },
        "relu": {
            "uses torch.where": "def relu(x):\n    return torch.where(x > 0, x, torch.zeros_like(x))\n",
        },
        "he_normal": {
            "scales a standard normal with normal_": (
                "def he_normal(fan_in, fan_out, generator=None):\n"
                "    weights = torch.empty(fan_in, fan_out)\n"
                "    weights.normal_(0.0, math.sqrt(2.0 / fan_in), generator=generator)\n"
                "    return weights\n"
            ),
        },
        "mlp_forward": {
            "indexes the last layer": (
                "def mlp_forward(x, layers):\n"
                "    h = x.flatten(start_dim=1)\n"
                "    for index, (W, b) in enumerate(layers):\n"
                "        h = linear(h, W, b)\n"
                "        if index < len(layers) - 1:\n"
                "            h = relu(h)\n"
                "    return h\n"
            ),
        },
        "top_k_accuracy": {
            "compares with the k-th largest logit": (
                "def top_k_accuracy(logits, targets, k=5):\n"
                "    kth_largest = logits.topk(k, dim=1).values[:, -1:]\n"
                "    target_logits = logits.gather(1, targets.unsqueeze(1))\n"
                "    return float((target_logits >= kth_largest).float().mean())\n"
            ),
        },
    },
    "a2_losses": {
        "softmax": {
            "uses logsumexp": "def softmax(z):\n    return torch.exp(z - torch.logsumexp(z, dim=-1, keepdim=True))\n",
        },
        "cross_entropy": {
            "loops over rows": (
                "def cross_entropy(logits, targets):\n"
                "    total = 0.0\n"
                "    for row, target in zip(logits, targets):\n"
                "        m = row.max()\n"
                "        total = total + (m + (row - m).exp().sum().log() - row[target])\n"
                "    return total / len(targets)\n"
            ),
        },
        "mse": {
            "divides by numel": (
                "def mse(pred, target):\n    diff = pred - target\n    return (diff * diff).sum() / diff.numel()\n"
            ),
        },
        "cross_entropy_grad": {
            "builds the one-hot with eye": (
                "def cross_entropy_grad(logits, targets):\n"
                "    one_hot = torch.eye(logits.shape[1])[targets]\n"
                "    return (softmax(logits) - one_hot) / logits.shape[0]\n"
            ),
        },
    },
    "a3_training": {
        "minibatches": {
            "slices a list of indices": (
                "def minibatches(x, y, batch_size, generator=None):\n"
                "    order = torch.randperm(len(x), generator=generator).tolist()\n"
                "    for start in range(0, len(order), batch_size):\n"
                "        batch = torch.tensor(order[start:start + batch_size])\n"
                "        yield x[batch], y[batch]\n"
            ),
        },
        "sgd_step": {
            "updates .data and zeroes the gradient": (
                "def sgd_step(params, lr):\n"
                "    for p in params:\n"
                "        if p.grad is not None:\n"
                "            p.data.sub_(lr * p.grad)\n"
                "            p.grad.zero_()\n"
            ),
        },
        "train_epoch": {
            "weights the mean by batch size": (
                "def train_epoch(model, x, y, lr, batch_size, generator=None):\n"
                "    model.train()\n"
                "    total, count = 0.0, 0\n"
                "    for xb, yb in minibatches(x, y, batch_size, generator):\n"
                "        loss = F.cross_entropy(model(xb), yb)\n"
                "        loss.backward()\n"
                "        sgd_step(model.parameters(), lr)\n"
                "        total += loss.item() * len(xb)\n"
                "        count += len(xb)\n"
                "    return total / count\n"
            ),
        },
        "accuracy": {
            "uses inference_mode and counts": (
                "def accuracy(model, x, y):\n"
                "    model.eval()\n"
                "    with torch.inference_mode():\n"
                "        correct = (model(x).argmax(1) == y).sum().item()\n"
                "    return correct / len(y)\n"
            ),
        },
    },
    "a4_convolution": {
        "conv_output_size": {
            "uses math.floor": (
                "def conv_output_size(n, kernel_size, stride=1, padding=0):\n"
                "    return int(math.floor((n + 2 * padding - kernel_size) / stride)) + 1\n"
            ),
        },
        "conv2d": {
            "loops over output positions": (
                "def conv2d(x, weight, bias=None, stride=1, padding=0):\n"
                "    x = F.pad(x, (padding, padding, padding, padding))\n"
                "    c_out, _, kh, kw = weight.shape\n"
                "    h = (x.shape[2] - kh) // stride + 1\n"
                "    w = (x.shape[3] - kw) // stride + 1\n"
                "    out = torch.zeros(x.shape[0], c_out, h, w)\n"
                "    for i in range(h):\n"
                "        for j in range(w):\n"
                "            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]\n"
                "            out[:, :, i, j] = (patch.unsqueeze(1) * weight.unsqueeze(0)).sum(dim=(2, 3, 4))\n"
                "    if bias is not None:\n"
                "        out += bias.view(1, -1, 1, 1)\n"
                "    return out\n"
            ),
        },
        "max_pool2d": {
            "loops over windows": (
                "def max_pool2d(x, kernel_size, stride=None):\n"
                "    stride = stride or kernel_size\n"
                "    h = (x.shape[2] - kernel_size) // stride + 1\n"
                "    w = (x.shape[3] - kernel_size) // stride + 1\n"
                "    out = torch.empty(x.shape[0], x.shape[1], h, w)\n"
                "    for i in range(h):\n"
                "        for j in range(w):\n"
                "            top, left = i * stride, j * stride\n"
                "            window = x[:, :, top:top + kernel_size, left:left + kernel_size]\n"
                "            out[:, :, i, j] = window.amax(dim=(2, 3))\n"
                "    return out\n"
            ),
        },
        "conv_matrix": {
            "convolves basis images with its own conv2d": (
                "def conv_matrix(kernel, input_size):\n"
                "    h, w = input_size\n"
                "    basis = torch.eye(h * w).view(h * w, 1, h, w)\n"
                "    columns = conv2d(basis, kernel.view(1, 1, *kernel.shape))\n"
                "    return columns.reshape(h * w, -1).T\n"
            ),
        },
    },
    "a5_backprop": {
        "linear_backward": {
            "uses einsum": (
                "def linear_backward(grad_y, x, W):\n"
                "    grad_x = torch.einsum('sn,mn->sm', grad_y, W)\n"
                "    grad_W = torch.einsum('sm,sn->mn', x, grad_y)\n"
                "    return grad_x, grad_W, torch.einsum('sn->n', grad_y)\n"
            ),
        },
        "relu_backward": {
            "uses torch.where": (
                "def relu_backward(grad_y, x):\n"
                "    return torch.where(x > 0, grad_y, torch.zeros_like(grad_y))\n"
            ),
        },
        "mlp_loss_and_grads": {
            "uses logsumexp and a one-hot from eye, without the helpers": (
                "def mlp_loss_and_grads(x, targets, params):\n"
                "    pre = x @ params['W0'] + params['b0']\n"
                "    hidden = torch.relu(pre)\n"
                "    logits = hidden @ params['W1'] + params['b1']\n"
                "    log_q = logits - torch.logsumexp(logits, dim=1, keepdim=True)\n"
                "    one_hot = torch.eye(logits.shape[1])[targets]\n"
                "    loss = -(log_q * one_hot).sum() / len(x)\n"
                "    d_logits = (log_q.exp() - one_hot) / len(x)\n"
                "    d_pre = (d_logits @ params['W1'].T) * (pre > 0)\n"
                "    grads = {'W0': x.T @ d_pre, 'b0': d_pre.sum(0)}\n"
                "    grads.update(W1=hidden.T @ d_logits, b1=d_logits.sum(0))\n"
                "    return float(loss), grads\n"
            ),
        },
        "numerical_gradient": {
            "perturbs x in place and puts back the old value": (
                "def numerical_gradient(f, x, eps=1e-3):\n"
                "    grad = torch.empty_like(x)\n"
                "    for index in torch.cartesian_prod(*[torch.arange(n) for n in x.shape]).view(x.numel(), -1):\n"
                "        i = tuple(index.tolist())\n"
                "        old = x[i].item()\n"
                "        x[i] = old + eps\n"
                "        up = f(x)\n"
                "        x[i] = old - eps\n"
                "        down = f(x)\n"
                "        x[i] = old\n"
                "        grad[i] = (up - down) / (2 * eps)\n"
                "    return grad\n"
            ),
        },
        "adam_step": {
            "keeps the moments in dicts of their own and copies the new values in": (
                "def adam_step(params, grads, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):\n"
                "    if not state:\n"
                "        state.update(t=0, m={k: torch.zeros_like(p) for k, p in params.items()},\n"
                "                     v={k: torch.zeros_like(p) for k, p in params.items()})\n"
                "    state['t'] += 1\n"
                "    b1, b2 = betas\n"
                "    for k, p in params.items():\n"
                "        state['m'][k] = b1 * state['m'][k] + (1 - b1) * grads[k]\n"
                "        state['v'][k] = b2 * state['v'][k] + (1 - b2) * grads[k] ** 2\n"
                "        m_hat = state['m'][k] / (1 - b1 ** state['t'])\n"
                "        v_hat = state['v'][k] / (1 - b2 ** state['t'])\n"
                "        p.copy_(p - lr * m_hat / (torch.sqrt(v_hat) + eps))\n"
            ),
        },
    },
    "a6_cnn": {
        "split_validation": {
            "sorts random numbers and puts the validation part last": (
                "def split_validation(n, n_validation, generator):\n"
                "    order = torch.argsort(torch.rand(n, generator=generator))\n"
                "    return order[:n - n_validation], order[n - n_validation:]\n"
            ),
        },
        "cnn_layers": {
            "a different network, with average pooling and dropout": (
                "def cnn_layers():\n"
                "    layers = [('conv', 12, 5), ('maxpool', 2), ('batchnorm',), ('relu',)]\n"
                "    layers += [('conv', 24, 3), ('batchnorm',), ('relu',), ('avgpool', 2)]\n"
                "    return layers + [('flatten',), ('dropout', 0.1), ('linear', 10)]\n"
            ),
        },
        "train_cnn": {
            "SGD with momentum, a step schedule and shifted copies": (
                "from dlcv.data import random_shifts\n"
                "\n"
                "\n"
                "def train_cnn(model, x, y, generator):\n"
                "    train_idx, val_idx = split_validation(len(x), len(x) // 6, generator)\n"
                "    optimiser = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)\n"
                "    history = []\n"
                "    for lr in (0.05, 0.005):\n"
                "        for group in optimiser.param_groups:\n"
                "            group['lr'] = lr\n"
                "        model.train()\n"
                "        order = train_idx[torch.randperm(len(train_idx), generator=generator)]\n"
                "        for start in range(0, len(order), 128):\n"
                "            batch = order[start:start + 128]\n"
                "            optimiser.zero_grad()\n"
                "            F.cross_entropy(model(random_shifts(x[batch], 1, generator)), y[batch]).backward()\n"
                "            optimiser.step()\n"
                "        model.eval()\n"
                "        with torch.no_grad():\n"
                "            correct = sum(int((model(x[c]).argmax(1) == y[c]).sum()) for c in val_idx.split(1000))\n"
                "        history.append(correct / len(val_idx))\n"
                "    return history\n"
            ),
        },
    },
}
