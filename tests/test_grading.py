"""forbid_calls: answers that call the ready-made layer fail, and nothing stays patched."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dlcv.grading import ForbiddenCallError, forbid_calls


def test_forbidden_functions_raise_inside_and_work_after():
    x = torch.tensor([-1.0, 2.0])
    with forbid_calls("torch.nn.functional.relu", "torch.Tensor.relu", "torch.relu"):
        with pytest.raises(ForbiddenCallError, match="torch.nn.functional.relu"):
            F.relu(x)
        with pytest.raises(ForbiddenCallError, match="torch.Tensor.relu"):
            x.relu()
        assert torch.equal(x.clamp(min=0), torch.tensor([0.0, 2.0])), "other operations still work"
    assert torch.equal(F.relu(x), torch.tensor([0.0, 2.0]))
    assert torch.equal(x.relu(), torch.tensor([0.0, 2.0]))


def test_functions_are_restored_when_the_block_raises():
    original = torch.nn.functional.linear
    with pytest.raises(ZeroDivisionError):
        with forbid_calls("torch.nn.functional.linear"):
            _ = 1 / 0
    assert torch.nn.functional.linear is original


def test_watch_changes_nothing_in_a_notebook_and_marks_the_tensor_for_the_grader():
    from dlcv.grading import is_watched, watch

    x = torch.zeros(3)
    assert watch(x) is x and is_watched(x)
    assert not is_watched(x.clone()) and not is_watched(torch.zeros(3))
