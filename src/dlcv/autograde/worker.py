"""The untrusted side: runs one student's answers inside the sandbox, on the grader's request.

Nothing here is trusted. The student's code runs in this process and can change
anything in it, this module included; so the grader never takes a verdict from here,
only plain data (see ``wire``), and whatever it gets is treated as the student's answer.
"""

from __future__ import annotations

import argparse
import builtins
import collections.abc
import itertools
import pickle
import sys
import traceback

import torch

from dlcv.autograde import wire
from dlcv.grading import forbid_calls

MAX_ITEMS = 100_000


class Unsendable(Exception):
    pass


def decode(value, tensors: list, generators: list):
    if type(value) is not tuple:
        return value
    tag = value[0]
    if tag == "__tensor__":
        tensors.append(value[2])
        return value[2]
    if tag == "__generator__":
        generator = torch.Generator()
        generator.set_state(value[2])
        generators.append(generator)
        return generator
    if tag in ("list", "tuple"):
        items = [decode(item, tensors, generators) for item in value[1]]
        return items if tag == "list" else tuple(items)
    if tag == "dict":
        return {decode(k, tensors, generators): decode(v, tensors, generators) for k, v in value[1]}
    raise ValueError(f"unknown tag {tag!r}")


def encode(value, depth: int = 0):
    """The student's result as plain data, or Unsendable with a message for them."""
    if depth > 50:
        raise Unsendable("the result is nested too deeply")
    if value is None or type(value) in (bool, int, float, complex, str, bytes, torch.dtype):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, torch.Tensor):
        if type(value) not in (torch.Tensor, torch.nn.Parameter):
            raise Unsendable(f"a tensor subclass ({type(value).__name__}); return a plain torch.Tensor")
        return value.detach().as_subclass(torch.Tensor).clone()
    if isinstance(value, torch.Size):
        return torch.Size(int(size) for size in value)
    if isinstance(value, (list, tuple)):
        items = [encode(item, depth + 1) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {encode(k, depth + 1): encode(v, depth + 1) for k, v in value.items()}
    raise Unsendable(f"an object of type {type(value).__name__}, which the grader cannot check; "
                     "return tensors, numbers, strings, lists, tuples or dicts of them")


def error_reply(error: BaseException) -> dict:
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename.startswith("<")]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(error), error)
    text = "".join(lines)
    return {"ok": False, "ename": type(error).__name__, "evalue": str(error)[:4000], "traceback": text[-8000:]}


def report_names(namespace: dict, before: dict) -> dict:
    names = {}
    for name, value in list(namespace.items())[:1000]:
        if name.startswith("__") or (name in before and before[name] is value):
            continue
        if callable(value) and not isinstance(value, type(sys)):
            names[name] = "function"
    return names


def serve(read_fd: int, write_fd: int) -> None:
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    wire.send(write_fd, wire.dump_reply({"ok": True, "ready": True}))  # imports done: the clock starts
    while True:
        try:
            request = pickle.loads(wire.receive(read_fd, 1 << 34))
        except EOFError:
            return
        try:
            reply = handle(request, namespace)
        except BaseException as error:  # noqa: BLE001 - the student's SystemExit included
            reply = error_reply(error)
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            payload = wire.dump_reply(reply)
        except Exception as error:  # noqa: BLE001
            payload = wire.dump_reply({"ok": False, "ename": "TypeError", "evalue": f"unsendable result: {error}",
                                       "traceback": ""})
        wire.send(write_fd, payload)


def handle(request: dict, namespace: dict) -> dict:
    op = request["op"]
    if op in ("exec", "run_test"):
        before = dict(namespace)
        code = compile(request["source"], f"<cell {request['name']}>", "exec")
        exec(code, namespace)  # noqa: S102 - this process exists to run the student's code
        return {"ok": True, "names": report_names(namespace, before)}
    if op == "call":
        tensors, generators = [], []
        args = decode(request["args"], tensors, generators)
        kwargs = decode(request["kwargs"], tensors, generators)
        function = namespace.get(request["name"])
        if function is None:
            raise NameError(f"name {request['name']!r} is not defined")
        with forbid_calls(*request["forbidden"]):
            result = function(*args, **kwargs)
            is_iterator = isinstance(result, collections.abc.Iterator) and not isinstance(result, torch.Tensor)
            if is_iterator:
                result = list(itertools.islice(result, MAX_ITEMS))
        try:
            value = encode(result)
        except Unsendable as problem:
            raise TypeError(f"{request['name']} returned {problem}") from None
        return {"ok": True, "value": value, "iterator": is_iterator,
                "tensors": [t.detach().clone() for t in tensors],
                "generators": [g.get_state() for g in generators]}
    raise ValueError(f"unknown request {op!r}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--read-fd", type=int, required=True)
    parser.add_argument("--write-fd", type=int, required=True)
    arguments = parser.parse_args()
    serve(arguments.read_fd, arguments.write_fd)


if __name__ == "__main__":
    main()
