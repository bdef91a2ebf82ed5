"""The judge–student protocol in-process: every kind of argument there and back, and what is refused.

A call goes through every step that ``dlcv autograde`` takes between two processes (encode,
pickle, decode in the student's process, call, report, ``torch.save``, the safe reader, the
checks of ``protocol.parse_reply``, taking back), without a sandbox or a second process.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
import threading
import time

import pytest
import torch

from dlcv.autograde import takeback, wire, worker
from dlcv.autograde.arguments import NotPlainData, Outbound
from dlcv.autograde.protocol import (
    TAKEN_BACK,
    ArgKind,
    Call,
    CellJob,
    CellResult,
    Job,
    Limits,
    MalformedReply,
    Role,
    StudentSpec,
    parse_reply,
)
from dlcv.autograde.proxies import ModelServer
from dlcv.grading import watch


class DirectChannel:
    """The student's side of the callback channel, answered in-process by the judge's ModelServer."""

    def __init__(self, server: ModelServer):
        self.server = server

    def ask(self, question: dict) -> dict:
        answer = pickle.loads(pickle.dumps(self.server.answer(wire.load_reply(bytes(wire.dump_reply(question))))))
        if not answer.ok:
            raise RuntimeError(answer.evalue)
        return answer.values


def through_the_wire(function, *args, **kwargs):
    """Call ``function`` as the judge calls a student's function; return what comes back, and the Outbound."""
    outbound = Outbound()
    request = Call(function.__name__, outbound.encode(list(args)), outbound.encode(dict(kwargs)), ())
    request = pickle.loads(pickle.dumps(request))
    inbound = worker.Inbound(DirectChannel(ModelServer(outbound.remote_modules, outbound.remote_functions)))
    result = function(*inbound.decode(request.args), **inbound.decode(request.kwargs))
    raw = {"ok": True, "value": worker.encode(result), "iterator": False, "changed": inbound.report()}
    reply = parse_reply(wire.load_reply(bytes(wire.dump_reply(raw))))
    takeback.take_back(outbound.sent, reply.changed)
    return reply.value, outbound


def test_a_plain_tensor_travels_as_a_copy_whose_changes_stay_with_the_student():
    """An answer that changes its arguments cannot change what the test compares it with."""
    x = torch.tensor([-1.0, 2.0])

    def relu_in_place(t):
        return t.clamp_(min=0)

    value, _ = through_the_wire(relu_in_place, x)
    assert type(value) is torch.Tensor and torch.equal(value, torch.tensor([0.0, 2.0]))
    assert torch.equal(x, torch.tensor([-1.0, 2.0]))


def test_a_watched_tensors_in_place_changes_come_back():
    x = watch(torch.tensor([-1.0, 2.0]))

    def relu_in_place(t):
        return t.clamp_(min=0)

    through_the_wire(relu_in_place, x)
    assert torch.equal(x, torch.tensor([0.0, 2.0])), "as in a plain notebook, the test sees the change"


def test_a_change_of_shape_or_dtype_never_comes_back():
    x = watch(torch.zeros(3))

    def grow(t):
        t.data = torch.zeros(10**6)

    with pytest.raises(takeback.StateRefused, match="changed an argument of shape"):
        through_the_wire(grow, x)
    assert x.shape == (3,)


def test_a_large_unchanged_tensor_does_not_travel_back():
    big = watch(torch.ones(300_000))
    outbound = Outbound()
    inbound = worker.Inbound(None)
    inbound.decode(outbound.encode([big]))
    assert inbound.report()[ArgKind.TENSOR.value] == [None]


def test_a_parameter_comes_back_as_the_judges_own_leaf_with_its_gradient():
    weight = torch.nn.Parameter(torch.ones(3))
    weight.grad = torch.full((3,), 2.0)

    def sgd_step(w, lr):
        with torch.no_grad():
            w -= lr * w.grad
        w.grad = None

    through_the_wire(sgd_step, weight, 0.5)
    assert type(weight) is torch.nn.Parameter and weight.is_leaf and weight.grad is None
    assert torch.equal(weight.detach(), torch.zeros(3))


def test_a_generator_comes_back_advanced():
    generator, twin = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)

    def draw(g):
        return torch.rand(4, generator=g)

    value, _ = through_the_wire(draw, generator)
    assert torch.equal(value, torch.rand(4, generator=twin))
    assert torch.equal(generator.get_state(), twin.get_state())


def test_a_model_of_pytorch_layers_travels_whole_and_its_state_comes_back():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    before = [p.detach().clone() for p in model.parameters()]

    def train_once(m, x):
        m.train()
        loss = m(x).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            for p in m.parameters():
                p -= 0.1 * p.grad
        m.eval()

    model.train(True)
    through_the_wire(train_once, model, torch.randn(4, 2))
    assert not model.training and all(p.grad is not None for p in model.parameters())
    assert any(not torch.equal(a, b.detach()) for a, b in zip(before, model.parameters()))
    assert model[1].num_batches_tracked.item() == 1, "buffers come back too"


class Recorder(torch.nn.Module):
    """A model of the instructor's: it records the batches it sees (so it must stay with the judge)."""

    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.seen: list[int] = []

    def forward(self, x):
        self.seen.append(len(x))
        return self.layer(x)


def test_an_instructors_model_stays_with_the_judge_and_runs_there():
    model = Recorder()
    bias = model.layer.bias.detach().clone()

    def fit(m, x):
        loss = m(x).sum()
        loss.backward()
        with torch.no_grad():
            for p in m.parameters():
                p -= p.grad
        return type(m).__name__

    value, outbound = through_the_wire(fit, model, torch.ones(5, 2))
    assert outbound.sent[ArgKind.REMOTE_MODULE] == [model] and value == "GraderModel"
    assert model.seen == [5], "the forward pass ran in the judge, which recorded it"
    assert torch.allclose(model.layer.bias.detach(), bias - 5), "bias -= its gradient (5 rows of 1)"


def test_a_watched_dict_keeps_the_students_state_from_call_to_call():
    """adam_step keeps its moments in ``state``: what a call leaves there is what the next call finds."""
    state = watch({})
    weight = watch(torch.ones(3))

    def step(params, grads, kept):
        kept["step"] = kept.get("step", 0) + 1
        moment = kept.setdefault("m", torch.zeros(3))
        moment.add_(grads["w"])
        params["w"].sub_(moment)

    for _ in range(2):
        through_the_wire(step, {"w": weight}, {"w": torch.ones(3)}, state)
    assert type(state) is watch({}).__class__ and state["step"] == 2
    assert torch.equal(state["m"], torch.full((3,), 2.0)), "the second call found the first call's moment"
    assert torch.equal(weight, torch.full((3,), -2.0)), "a watched tensor in a dict is updated in place: 1 - 1 - 2"


def test_a_tensor_in_a_plain_dict_that_the_student_replaces_does_not_come_back():
    weight = watch(torch.ones(3))
    params = {"w": weight}

    def rebind(p):
        p["w"] = p["w"] - 1

    through_the_wire(rebind, params)
    assert params["w"] is weight and torch.equal(weight, torch.ones(3)), "only in-place changes come back"


def test_a_watched_dict_refuses_what_is_not_plain_data():
    def keep_a_function(kept):
        kept["f"] = print

    with pytest.raises(worker.Unsendable, match="builtin_function_or_method"):
        through_the_wire(keep_a_function, watch({}))


def test_a_function_of_the_tests_stays_with_the_judge_and_runs_there():
    """numerical_gradient(f, x) gets a stand-in for f; the judge runs f on what the student's code sends."""
    calls = []

    def f(t):
        calls.append(t.clone())
        return (t ** 2).sum()

    def central_difference(function, x):
        return type(function).__name__, float(function(x + 0.5)) - float(function(x - 0.5))

    value, outbound = through_the_wire(central_difference, f, torch.tensor([1.0, 2.0]))
    assert value == ("GraderFunction", 6.0) and outbound.remote_functions == [f]
    assert [t.tolist() for t in calls] == [[1.5, 2.5], [0.5, 1.5]], "f ran in the judge, on what was sent"


def test_a_function_of_the_tests_cannot_call_the_students_code_back():
    from dlcv.autograde.proxies import CannotJudge, RemoteFunction

    students = RemoteFunction("relu", lambda request, models: pytest.fail("the student's process was called"))
    server = ModelServer([], [lambda t: students(t)])
    with pytest.raises(CannotJudge, match="calls relu"):
        server.answer({"op": "call", "function": 0, "args": [torch.zeros(2)]})


def test_one_object_passed_twice_arrives_as_one_object():
    x = torch.zeros(2)

    def same(a, b):
        return a is b

    assert through_the_wire(same, x, x)[0] is True
    assert through_the_wire(same, watch(x), x)[0] is True
    assert through_the_wire(same, [x], [x])[0] is False, "lists are copies; the tensor inside is shared"


def test_a_generator_of_parameters_travels_as_its_items():
    model = torch.nn.Linear(2, 2)

    def count(parameters):
        return len(list(parameters))

    assert through_the_wire(count, model.parameters())[0] == 2


@pytest.mark.parametrize("value", [object(), functools.partial(max, 1), torch.ones(2).to_sparse(), {1, 2}])
def test_what_is_not_plain_data_is_refused_before_it_leaves(value):
    """(A function the test wrote, ``def`` or ``lambda``, stays with the judge: see above.)"""
    with pytest.raises(NotPlainData):
        Outbound().encode([value])


class Rigged:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("hostile", [Rigged(), [1.0, Rigged()], {"value": Rigged()}, torch.nn.Parameter(torch.ones(1))])
def test_replies_are_read_as_plain_data_only(hostile):
    buffer = io.BytesIO()
    torch.save(hostile, buffer)
    if type(hostile) is torch.nn.Parameter:  # the safe reader may build it; it is rebuilt as a plain tensor
        assert type(wire.load_reply(buffer.getvalue())) is torch.Tensor
        return
    with pytest.raises(wire.WireError):
        wire.load_reply(buffer.getvalue())
    with pytest.raises(wire.WireError):
        wire.load_reply(pickle.dumps(hostile, protocol=2))


def test_plain_data_comes_back_as_exact_built_in_types():
    plain = wire.load_reply(bytes(wire.dump_reply({"value": [torch.ones(2), 3.5, (1, "a")]})))
    assert type(plain["value"][0]) is torch.Tensor and plain["value"][1:] == [3.5, (1, "a")]


def test_too_deep_and_too_large_replies_are_refused():
    deep: list = []
    for _ in range(60):
        deep = [deep]
    with pytest.raises(wire.WireError, match="nested too deeply"):
        wire.rebuild(deep, wire.Budget(10**6))
    read, write = os.pipe()
    try:
        wire.send(write, b"x" * 2000)
        with pytest.raises(wire.WireError, match="larger than the limit of 1000 bytes"):
            wire.receive(read, 1000)
    finally:
        os.close(read)
        os.close(write)


def test_a_half_sent_reply_does_not_outlast_the_deadline():
    read, write = os.pipe()
    try:
        os.write(write, wire.HEADER.pack(100) + b"only part of it")
        started = time.monotonic()
        with pytest.raises(wire.TooLate):
            wire.receive(read, 1000, deadline=started + 0.3)
        assert time.monotonic() - started < 5
    finally:
        os.close(read)
        os.close(write)


def test_a_whole_reply_arrives_in_pieces():
    read, write = os.pipe()
    payload = b"y" * 300_000  # more than a pipe holds: the writer must wait for the reader
    writer = threading.Thread(target=wire.send, args=(write, payload))
    writer.start()
    try:
        assert wire.receive(read, 10**6, deadline=time.monotonic() + 30) == payload
    finally:
        writer.join()
        os.close(read)
        os.close(write)


@pytest.mark.parametrize("raw", [
    None, {"ok": "yes"}, {"ok": True, "names": "double"}, {"ok": True, "callback": [1]},
    {"ok": True, "value": 1, "iterator": False},  # says nothing of what changed
    {"ok": True, "value": 1, "iterator": False, "changed": {"tensor": []}},  # not every kind
    {"ok": True, "value": 1, "iterator": 0, "changed": {kind.value: [] for kind in TAKEN_BACK}},
])
def test_malformed_replies_are_refused(raw):
    with pytest.raises(MalformedReply):
        parse_reply(raw)


def test_well_formed_replies_are_parsed():
    assert parse_reply({"ok": True, "ready": True}).ready
    assert parse_reply({"ok": True, "names": ["double", "not an identifier"]}).names == ["double"]
    failed = parse_reply({"ok": False, "ename": "ValueError", "evalue": "x" * 10_000})
    assert not failed.ok and failed.ename == "ValueError" and len(failed.evalue) == 4000
    call = parse_reply({"ok": True, "value": 2, "iterator": True, "changed": {k.value: [] for k in TAKEN_BACK}})
    assert call.value == 2 and call.iterator and set(call.changed) == set(TAKEN_BACK)


def test_taking_back_refuses_what_does_not_fit():
    weight = torch.nn.Parameter(torch.ones(3))
    sent = {kind: [] for kind in TAKEN_BACK} | {ArgKind.LEAF: [weight]}
    nothing = {kind: [] for kind in TAKEN_BACK}
    with pytest.raises(takeback.StateRefused, match="malformed"):
        takeback.take_back(sent, nothing)  # one state missing
    with pytest.raises(takeback.StateRefused, match="changed the shape of a parameter"):
        takeback.take_back(sent, nothing | {ArgKind.LEAF: [(torch.ones(4), None, True)]})
    with pytest.raises(takeback.StateRefused, match="malformed"):
        takeback.take_back(sent, nothing | {ArgKind.LEAF: [(torch.ones(3), None, "yes")]})
    assert torch.equal(weight.detach(), torch.ones(3)), "nothing was taken from refused states"


def test_jobs_and_results_cross_as_json_unchanged():
    job = Job([CellJob(2, Role.TEST, "double_hidden", "assert True", True)], StudentSpec(["python"], {"A": "1"}, None),
              StudentSpec(["python", "-I"], {}, "/home"), Limits(cell_timeout=5), "/tmp/logs")
    assert Job.from_json(job.to_json()) == job
    result = CellResult(3, [{"output_type": "stream", "name": "stdout", "text": "hi"}], unjudged="why")
    assert CellResult.from_json(result.to_json()) == result
    with pytest.raises(ValueError):
        CellResult.from_json('{"index": "3", "outputs": []}')


def test_a_students_error_reaches_the_test_as_an_error_of_a_known_kind():
    from dlcv.autograde.protocol import Reply
    from dlcv.autograde.proxies import RemoteFunction
    from dlcv.autograde.student import StudentCodeFailed

    def failing(ename):
        return lambda request, models: (Reply(False, ename=ename, evalue="write relu first", traceback="line 2"), False)

    with pytest.raises(NotImplementedError, match="write relu first") as raised:
        RemoteFunction("relu", failing("NotImplementedError"))(torch.ones(2))
    assert raised.value.remote_traceback == "line 2"
    with pytest.raises(StudentCodeFailed, match="MyOwnError: write relu first"):
        RemoteFunction("relu", failing("MyOwnError"))(torch.ones(2))


def test_a_tensor_whose_elements_share_memory_is_refused():
    """A stride-0 view costs 4 bytes to send and gigabytes to use."""
    sneaky = torch.zeros(1).expand(10**9)
    buffer = io.BytesIO()
    torch.save({"value": sneaky}, buffer)
    assert len(buffer.getvalue()) < 10_000
    with pytest.raises(wire.WireError, match="share memory"):
        wire.load_reply(buffer.getvalue())
    honest_view = torch.arange(10.0)[::2]  # a view with gaps: its elements have bytes of their own
    assert torch.equal(wire.load_reply(bytes(wire.dump_reply(honest_view))), torch.arange(0.0, 10.0, 2))


def test_a_small_reply_that_describes_a_huge_structure_is_refused():
    shared: list = [0]
    for _ in range(40):
        shared = [shared, shared]  # 2**40 items once copied, a few hundred bytes pickled
    with pytest.raises(wire.WireError, match="more than 200000 objects"):
        wire.load_reply(bytes(wire.dump_reply(shared)))
    storage = torch.zeros(1000)
    views = [storage[:] for _ in range(1000)]  # 1000 views of one storage: 4 MB of elements, 4 kB sent
    with pytest.raises(wire.WireError, match="more elements than the grader accepts"):
        wire.load_reply(bytes(wire.dump_reply(views)))
