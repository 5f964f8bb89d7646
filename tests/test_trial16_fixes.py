"""Differences found by the thirteenth session's new-user trial, each checked against PyTorch."""

import copy
import io
import pickle
import sys
import warnings

import numpy as np
import pytest

import minigrad
import minigrad.as_torch
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


def test_numpy_conversions_refuse_a_tensor_in_the_graph_as_pytorch():
    # matplotlib's plt.plot(w[0]) and np.exp(w) go through __array__: PyTorch refuses them.
    w = minigrad.ones(2, requires_grad=True)
    for convert in (np.asarray, np.exp, lambda t: np.array(t * 2)):
        with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires"):
            convert(w)
    with minigrad.no_grad():
        assert np.asarray(w).tolist() == [1.0, 1.0]
    plain = minigrad.ones(2)
    shared, copied = np.asarray(plain), np.array(plain, copy=True)
    shared[0] = 5.0
    assert plain.tolist() == [5.0, 1.0] and copied.tolist() == [1.0, 1.0]


def test_float_of_a_tensor_in_the_graph_warns_as_pytorch(monkeypatch):
    monkeypatch.setattr(minigrad._warnings, "_said_once", set())  # once a process
    loss = minigrad.ones(2, requires_grad=True).sum()
    with pytest.warns(UserWarning, match="Converting a tensor with requires_grad=True to a scalar"):
        assert float(loss) == 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (int(loss), loss.item(), float(loss.detach())) == (2, 2.0, 2.0)


def test_a_read_only_array_warns_once_and_refuses_writes(monkeypatch):
    # pandas 3's df.to_numpy() is read-only (copy-on-write); PyTorch warns once a program.
    monkeypatch.setattr(minigrad._warnings, "_said_once", set())
    array = np.arange(3.0)
    array.flags.writeable = False
    with pytest.warns(UserWarning, match="The given NumPy array is not writable"):
        shared = minigrad.as_tensor(array)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minigrad.from_numpy(array)  # said once
        minigrad.tensor(array).add_(1)  # a copy: writable, no warning
    with pytest.raises(RuntimeError, match="read-only"):
        shared.add_(1)


@pytest.mark.parametrize(
    "case",
    [
        "bce_long_target",
        "bce_double_target",
        "one_hot_negative",
        "batchnorm_channels",
        "batchnorm_rank",
        "syncbatchnorm_rank",
        "batchnorm_no_state_any_channels",
    ],
)
def test_beginner_errors_match_pytorch(case):
    torch = pytest.importorskip("torch")

    def run(lib):
        F, nn_ = lib.nn.functional, lib.nn
        calls = {
            "bce_long_target": lambda: F.binary_cross_entropy(lib.rand(2), lib.tensor([1, 0])),
            "bce_double_target": lambda: F.binary_cross_entropy(
                lib.rand(2), lib.tensor([1.0, 0.0], dtype=lib.float64)
            ),
            "one_hot_negative": lambda: F.one_hot(lib.tensor([-1]), 3),
            "batchnorm_channels": lambda: nn_.BatchNorm2d(4)(lib.randn(2, 3, 4, 4)),
            "batchnorm_rank": lambda: nn_.BatchNorm1d(4)(lib.randn(2, 3, 4, 4)),
            "syncbatchnorm_rank": lambda: nn_.SyncBatchNorm(3)(lib.randn(2)),
            "batchnorm_no_state_any_channels": lambda: (
                nn_.BatchNorm2d(4, affine=False, track_running_stats=False)(
                    lib.randn(2, 3, 4, 4)
                ).shape
            ),
        }
        try:
            return "ok", tuple(calls[case]())
        except Exception as e:  # the exception is the result compared
            return type(e), str(e).split(":")[0].split(" (one_hot")[0]

    assert run(minigrad) == run(torch)


def test_torch_version_under_as_torch_is_pytorchs_api_with_minigrads_label():
    # Libraries check torch.__version__ (skorch refuses anything below 1.x).
    before = minigrad.__version__
    with minigrad.as_torch.imports():
        import torch

        assert torch.__version__ == f"2.13.0+minigrad{before}" and torch.__version__ >= (2, 0)
        assert torch.version.__version__ == torch.__version__
    assert minigrad.__version__ == before and minigrad.version.__version__ == before
