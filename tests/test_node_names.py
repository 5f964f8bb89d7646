"""grad_fn names against PyTorch's over the op table: every differentiable row with a PyTorch
counterpart runs forward (float64, every sample) in both, and each output's ``grad_fn.name()``
must be PyTorch's; the reprs and graph pictures that show those names."""

from __future__ import annotations

import re
import warnings

import pytest
from helpers import build, outputs

import minigrad
from minigrad import viz
from minigrad.testing.op_db import OP_DB

# Nested-tensor rows are left out: PyTorch's first nested-tensor call costs seconds of setup.
ROWS = [
    op
    for op in OP_DB
    if op.torch and op.grad and op.raises is None and not op.name.startswith("nested_")
]

# Rows whose names still differ from PyTorch's, and why. Each must still differ (a row that
# comes to match fails until it leaves this list).
DIFFERENT = {
    "rms_norm": "PyTorch's result for the transposed-input sample ends in a copy of its own "
    "layout handling (CloneBackward0); minigrad's in the product (MulBackward0)",
    "norm_except_dim": "an internal of weight_norm whose last node in PyTorch depends on dim "
    "and shape (Transpose, View or Norm); minigrad's is the vector norm",
    # -- edges15's rows (op_db_widen), found open
    "multi_dot": "PyTorch reshapes a 1-D end operand back (ViewBackward0); minigrad squeezes it "
    "(SqueezeBackward1)",
    "fill_diagonal_": "PyTorch writes the diagonal through a strided view (CopySlices); minigrad "
    "fills through a mask (MaskedFillBackward0)",
    "fill_diagonal_wrap": "as fill_diagonal_",
    **{
        f"{name}_real": "minigrad names its complex-to-real transform node IRFFTBackward0 "
        "(PyTorch: FftC2RBackward0; likewise FFT/RFFT for FftC2C/FftR2C)"
        for name in ("irfft", "hfft", "irfftn", "irfft2", "hfftn")
    },
}


def _names(op, index, m) -> list:
    """The ``grad_fn.name()`` of each output of the row's sample in module ``m`` (None for an
    output without one)."""
    args, _ = build(op, index, m, "float64")
    result = outputs(op.fn(m, *args, **op.samples[index].kwargs))
    return [getattr(getattr(t, "grad_fn", None), "name", lambda: None)() for t in result]


def _differences(op, torch) -> list:
    """``(sample, minigrad's name, PyTorch's name)`` for every output named otherwise; samples
    that either library refuses are another test's business."""
    found = []
    for index in range(len(op.samples)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = _names(op, index, torch)
                ours = _names(op, index, minigrad)
        except Exception:  # values and errors are compared in test_ops.py
            continue
        found += [(op.sample_id(index), a, b) for a, b in zip(ours, theirs) if b and a != b]
    return found


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # these ops are tiny: a thread pool would only spin (5x slower)
    yield torch
    torch.set_num_threads(threads)


@pytest.mark.parametrize("op", ROWS, ids=[op.name for op in ROWS])
def test_node_names_match_pytorch(op, torch):
    found = _differences(op, torch)
    if op.name in DIFFERENT:
        assert found, f"{op.name} now matches PyTorch: drop it from DIFFERENT"
    else:
        assert not found, found


def test_allow_list_names_rows_of_the_table():
    assert set(DIFFERENT) <= {op.name for op in ROWS}
    assert all(reason for reason in DIFFERENT.values())


def test_repr_shows_the_name():
    x = minigrad.tensor([3.0, 1.0, 2.0], dtype=minigrad.float64, requires_grad=True)
    values = x.topk(2).values
    assert repr(values).endswith("grad_fn=<TopkBackward0>)")
    assert re.fullmatch(r"<TopkBackward0 object at 0x[0-9a-f]+>", repr(values.grad_fn))
    leaves = [f.name() for f, _ in values.grad_fn.next_functions]
    assert leaves == ["torch::autograd::AccumulateGrad"]  # PyTorch's name(); class AccumulateGrad
    y = x.clone()
    y[:2].mul_(2)  # in place through a view: PyTorch's CopySlices
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    assert repr(y).endswith("grad_fn=<CopySlices>)") and "<CopySlices object" in repr(y.grad_fn)


def test_graph_pictures_show_the_names():
    w = minigrad.randn(4, 3, dtype=minigrad.float64, requires_grad=True)
    b = minigrad.randn(4, dtype=minigrad.float64, requires_grad=True)
    x = minigrad.randn(2, 3, dtype=minigrad.float64)
    loss = minigrad.nn.functional.linear(x, w, b).max(1).values.mean()
    titles = re.findall(r"<B>([^<]*)</B>", viz.to_dot(loss, params={"w": w, "b": b}))
    assert {"AddmmBackward0", "MaxBackward0", "MeanBackward0"} <= set(titles)


def test_in_place_fills_and_copies_stay_in_the_graph():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.zero_()  # PyTorch's ZeroBackward0: the old values get a zero gradient
    assert y.grad_fn.name() == "ZeroBackward0" and not y.is_leaf
    (y * 3).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    assert (x * 1).fill_(5.0).grad_fn.name() == "FillBackward2"
    assert (x * 1).copy_(x).grad_fn.name() == "torch::autograd::CopyBackwards"
    assert repr((x * 1).copy_(x)).endswith("grad_fn=<CopyBackwards>)")


def test_next_functions_show_inputs_without_gradient_as_none_pairs():
    """PyTorch lists ``(None, 0)`` for an input that needs no gradient, so that
    ``for fn, _ in node.next_functions`` works over every input."""
    w = minigrad.randn(5, 3, requires_grad=True)
    edges = (w * 2).grad_fn.next_functions
    assert [(fn.name() if fn is not None else None, nr) for fn, nr in edges] == [
        ("torch::autograd::AccumulateGrad", 0),
        (None, 0),
    ]
    torch = pytest.importorskip("torch")
    theirs = (torch.randn(5, 3, requires_grad=True) * 2).grad_fn.next_functions
    assert [(fn.name() if fn is not None else None, nr) for fn, nr in theirs] == [
        ("torch::autograd::AccumulateGrad", 0),
        (None, 0),
    ]
