"""Focused regressions for what the edge-input sweep (tests/edges_sweep.py) found: integer and
bool inputs, 0-d tensors, dims and coefficients, each checked against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")


def both(fn):
    """``fn(module)`` for PyTorch and minigrad; a tensor result as (dtype name, shape, values),
    an exception as its type."""
    out = []
    for m in (torch, minigrad):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = fn(m)
        except Exception as e:  # the type is what is compared
            out.append(type(e))
            continue
        out.append((str(r.dtype).split(".")[-1], tuple(r.shape), np.asarray(r.tolist()).tolist()))
    return out


def same(fn):
    expected, got = both(fn)
    if isinstance(expected, type):
        assert isinstance(got, type) and issubclass(got, expected), (expected, got)
    else:
        assert got == expected


INTS = [
    lambda m: m.nn.functional.elu(m.tensor([-2, 1, 3])),
    lambda m: m.nn.functional.gelu(m.tensor([True, False])),
    lambda m: m.nn.functional.layer_norm(m.ones(2, 3, dtype=m.int64), (3,)),
    lambda m: m.nn.functional.mse_loss(m.tensor([1, 2]), m.tensor([2, 2])),
    lambda m: m.nn.functional.mse_loss(m.tensor([1, 2]), m.tensor([2.0, 2.0])),  # promoted
    lambda m: m.nn.functional.cross_entropy(m.ones(2, 3, dtype=m.int64), m.tensor([0, 1])),
    lambda m: m.nn.functional.threshold(m.tensor([True, False]), 0.5, 1.0),
    lambda m: m.tensor([1, 2, 3]).softmax(0),
    lambda m: m.hypot(m.tensor([3]), m.tensor([4])),
    lambda m: m.hypot(m.tensor([3]), m.tensor([4.0])),  # promoted to float: computed
    lambda m: m.tensor([1, 2]).logcumsumexp(0),
    lambda m: m.tensor([[True, False]]) @ m.tensor([[True], [False]]),
    lambda m: m.nn.functional.kl_div(m.tensor([1.0, 2.0]), m.tensor([1, 1]), reduction="sum"),
]


@pytest.mark.parametrize("fn", INTS)
def test_float_only_kernels_refuse_integers_as_pytorch(fn):
    same(fn)


A = [[3, 4], [5, 6]]
COEFFICIENTS = [
    lambda m: m.addmm(m.tensor(A), m.tensor(A), m.tensor(A), beta=0.5, alpha=1.7),
    lambda m: m.addcmul(m.tensor(A), m.tensor(A), m.tensor(A), value=-1.5),
    lambda m: m.addmv(m.tensor(A[0]), m.tensor(A), m.tensor(A[0]), beta=0.5, alpha=1.5),
    lambda m: m.zeros(2, 2, dtype=m.int64).index_add(0, m.tensor([0, 0]), m.tensor(A), alpha=1.5),
    lambda m: m.add(m.tensor([True, False]), m.tensor([True, True]), alpha=2),
    lambda m: m.nn.functional.hardtanh(m.tensor([-3, 0, 1, 2, 5]), -1.5, 2.5),
    lambda m: m.nn.functional.threshold(m.tensor([-3, 0, 1, 2, 5]), -0.5, 9.7),
    lambda m: m.nn.functional.threshold(m.tensor([1, 2], dtype=m.uint8), 0.5, -1.5),
    lambda m: m.nn.functional.hinge_embedding_loss(
        m.tensor([-3, 0, 1, 2, 5]), m.tensor([1, -1, 1, -1, 1]), margin=1.5, reduction="sum"
    ),
]


@pytest.mark.parametrize("fn", COEFFICIENTS)
def test_coefficients_keep_integer_results(fn):
    same(fn)


DTYPES = [
    lambda m: m.ones(2, 3, dtype=m.uint8).sum_to_size(1, 3),
    lambda m: m.einsum("ij,k->i", m.ones(2, 3, dtype=m.int32), m.ones(4, dtype=m.int32)),
    lambda m: m.einsum("ij,jk->ik", m.ones(2, 3, dtype=m.int32), m.ones(3, 4, dtype=m.int32)),
    lambda m: m.nn.functional.bilinear(
        m.ones(2, 3, dtype=m.int32), m.ones(2, 4, dtype=m.int32), m.ones(5, 3, 4, dtype=m.int32)
    ),
    lambda m: m.nn.functional.huber_loss(
        m.ones(3, dtype=m.float16), m.tensor(2.0, dtype=m.float64)
    ),
    lambda m: m.linalg.vander(m.tensor([1, 2, 3], dtype=m.int32)),
    lambda m: m.linalg.vander(m.tensor([True, False])),
    lambda m: m.tensor(3, dtype=m.uint8).cumprod(0),
    lambda m: m.tensor(True).cummax(0).values,
    lambda m: m.tensor([[True, False], [False, False]]).min(1).indices,
    lambda m: m.tensor([0, 1, -1, 2, -2, 3]) ** m.tensor([-1, -1, -1, -1, -2, -3]),
    lambda m: m.nn.functional.hinge_embedding_loss(
        m.tensor([-3, 0, 1]), m.tensor(1.0), margin=1.5, reduction="none"
    ),
    lambda m: m.ones(3, dtype=m.int64).put(m.tensor([0]), m.ones(1)),
    lambda m: m.ones(3, dtype=m.int64).masked_scatter(m.tensor([True, False, True]), m.ones(3)),
]


@pytest.mark.parametrize("fn", DTYPES)
def test_result_dtypes_match_pytorch(fn):
    same(fn)


ZERO_D = [
    lambda m: m.tensor(2.0).transpose(0, -1),
    lambda m: m.moveaxis(m.tensor(2.0), 0, -1),
    lambda m: m.tensor(2.0).mT,
    lambda m: m.tensor(2.0).adjoint(),
    lambda m: m.tensor(2.0).masked_fill(m.tensor([True, False, True]), 1.5),
    lambda m: m.ones(3).masked_fill(m.ones(2, 3, dtype=m.bool), 0.0),
    lambda m: m.quantile(m.tensor(1.5), m.tensor([0.25, 0.5]), dim=0, keepdim=True),
    lambda m: m.tensor(2.0).cumprod(5),
    lambda m: m.tensor(2.0).flatten(1),
    lambda m: m.tensor(2.0).logcumsumexp(1),
    lambda m: m.tensor(2.0).split(1)[0],
    lambda m: m.tensor(2.0).chunk(2)[0],
    lambda m: m.tensor(2.0).tensor_split(2)[0],
    lambda m: m.nn.functional.glu(m.tensor(2.0)),
    lambda m: m.linalg.svd(m.zeros(0, 3, 3)).S,
    lambda m: m.linalg.det(m.zeros(0, 3, 3)),
    lambda m: m.quantile(m.ones(0, 3), 0.5, dim=1),
]


@pytest.mark.parametrize("fn", ZERO_D)
def test_zero_d_and_broadcast_edges(fn):
    same(fn)


DIMS = [
    lambda m: m.norm_except_dim(m.ones(2, 4, 3), 2, -2),
    lambda m: m.norm_except_dim(m.ones(2, 4, 3), 2, 6),
    lambda m: m.gradient(m.ones(3, 4), dim=5)[0],
    lambda m: m.ones(3).diff(-1),
    lambda m: m.nn.functional.pixel_shuffle(m.ones(1, 4, 2, 2), 0),
]


@pytest.mark.parametrize("fn", DIMS)
def test_dims_and_orders_checked_as_pytorch(fn):
    same(fn)


def test_the_float_kernel_refusal_names_the_kernel_and_the_dtype():
    with pytest.raises(NotImplementedError, match=r"\"elu_cpu\" not implemented for 'Long'"):
        minigrad.nn.functional.elu(minigrad.tensor([1, 2]))


@pytest.mark.parametrize("eps", [None, 0.1])
def test_logit_gradient_at_and_outside_the_unit_interval(eps):
    """PyTorch's LogitBackward: 1/(x(1-x)), NaN outside [0, 1] (inf at its ends) without eps,
    0 outside [eps, 1 - eps] with it (the composition it was gave finite values outside)."""
    values = [-0.5, 0.0, 0.1, 0.3, 1.0, 1.5]
    grads = []
    for lib in (minigrad, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        lib.special.logit(x, eps=eps).sum().backward()
        grads.append(x.grad.tolist())
    np.testing.assert_array_equal(np.array(grads[0]), np.array(grads[1]))


# -- edges15: what the widened sweep (minigrad/testing/op_db_widen.py) found ------------------

WIDENED = {
    "fill_diagonal_ int": lambda m: m.arange(6).reshape(2, 3).fill_diagonal_(1.7),
    "fill_diagonal_ bool": lambda m: m.zeros(2, 2, dtype=m.bool).fill_diagonal_(0.5),
    "fft 0-d half": lambda m: m.fft.fft(m.tensor(1.0, dtype=m.float16)),
    "fftn s longer than rank": lambda m: m.fft.ifftn(m.tensor(1.0), s=(2, 5)),
    "rfftn 0-d": lambda m: m.fft.rfftn(m.tensor(1.0)),
    "hfftn 0-d": lambda m: m.fft.hfftn(m.tensor(1.0)),
    "rfftn no dims": lambda m: m.fft.rfftn(m.ones(2, 3), dim=()),
    "fftshift 0-d": lambda m: m.fft.fftshift(m.tensor(1.0)),
    "matrix_rank empty hermitian": lambda m: m.linalg.matrix_rank(m.ones(2, 0, 3), hermitian=True),
    "exponential_ int": lambda m: m.zeros(2, dtype=m.int64).exponential_(),
    "cauchy_ int": lambda m: m.zeros(2, dtype=m.int64).cauchy_(),
    "log_normal_ int": lambda m: m.zeros(2, dtype=m.int64).log_normal_(),
    "gumbel_softmax int": lambda m: m.nn.functional.gumbel_softmax(m.ones(2, 3, dtype=m.int64)),
}


@pytest.mark.parametrize("name", WIDENED)
def test_widened_sweep_fixes(name):
    same(WIDENED[name])


def test_widened_sweep_messages_and_names():
    with pytest.raises(RuntimeError, match="dtype must be a floating point but you specified Long"):
        minigrad.zeros(2, dtype=minigrad.int64).exponential_()
    with pytest.raises(RuntimeError, match="Unsupported dtype"):
        minigrad.fft.fft(minigrad.tensor(1.0, dtype=minigrad.float16))
    x = minigrad.ones(4, 3, dtype=minigrad.float64, requires_grad=True).mT
    assert x.ravel().grad_fn.name() == "ViewBackward0"  # contiguous().view(-1), as PyTorch
    a = minigrad.eye(3, dtype=minigrad.float64, requires_grad=True)
    solved = minigrad.linalg.solve_triangular(
        a, minigrad.ones(3, 2, dtype=minigrad.float64), upper=True
    )
    assert solved.grad_fn.name() == "LinalgSolveTriangularBackward0"
