"""Differences found by the thirteenth session's new-user trial, each checked against PyTorch."""

import copy
import io
import pickle
import sys

import pytest

import minigrad
from minigrad import nn


def test_a_tensor_takes_user_attributes_as_pytorch_does():
    # Optimizer-group code tags parameters and tensors (``p.no_decay = True``, ``t.meta = ...``).
    t = minigrad.ones(2)
    t.tag = [1]
    assert t.tag == [1] and vars(t) == {"tag": [1]}
    assert vars(minigrad.ones(1)) == {}
    assert not hasattr(t.clone(), "tag") and not hasattr(t.detach(), "tag")
    assert not hasattr(t[:1], "tag") and not hasattr(t * 1, "tag")
    with pytest.raises(AttributeError, match="no attribute 'other'"):
        getattr(t, "other")  # noqa: B009


def test_user_attributes_travel_with_copies_and_files():
    t = minigrad.ones(2)
    t.tag = [1]
    deep = copy.deepcopy(t)
    assert deep.tag == [1] and deep.tag is not t.tag
    assert copy.copy(t).tag is t.tag
    assert pickle.loads(pickle.dumps(t)).tag == [1]
    buffer = io.BytesIO()
    minigrad.save(t, buffer)
    buffer.seek(0)
    assert minigrad.load(buffer, weights_only=False).tag == [1]


def test_a_parameters_deepcopy_drops_attributes_as_pytorch_does():
    layer = nn.Linear(2, 2)
    layer.weight.no_decay = True
    assert not hasattr(copy.deepcopy(layer).weight, "no_decay")


def test_swap_tensors_swaps_a_plain_tensor_with_a_parameter():
    t = minigrad.zeros(2)
    p = nn.Parameter(minigrad.ones(2))
    p.tag = "p"
    minigrad.utils.swap_tensors(t, p)
    assert type(t) is nn.Parameter and t.tag == "p" and t.tolist() == [1.0, 1.0]
    assert type(p) is minigrad.Tensor and vars(p) == {} and p.tolist() == [0.0, 0.0]


def test_user_attributes_match_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (torch, minigrad):
        t = lib.ones(2)
        t.tag = 1
        assert (copy.deepcopy(t).tag, copy.copy(t).tag, vars(t)) == (1, 1, {"tag": 1})
        assert not hasattr(t.detach(), "tag")


def test_getsizeof_of_a_storage_counts_its_bytes_as_pytorch():
    # torchinfo sums sys.getsizeof(t.untyped_storage()) for its "Input size (MB)" line.
    small = sys.getsizeof(minigrad.ones(2).untyped_storage())
    assert sys.getsizeof(minigrad.ones(1002).untyped_storage()) - small == 4000
