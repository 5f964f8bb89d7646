"""Calls where PyTorch raises and minigrad returned a value (found by
``scripts/raise_parity_sweep.py``): each must now raise PyTorch's exception type, and a nearby
valid call must still agree with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")


def _f(m, *shape):
    return m.arange(1, 1 + int(np.prod(shape)), dtype=m.float32).reshape(shape) / 7


def _i(m):
    return m.arange(6).reshape(2, 3)


def _c(m):
    return _f(m, 2, 3).to(m.complex64)


# (id, call on module m): PyTorch raises for each; minigrad must raise the same type
RAISES = [
    ("int-add-2**70", lambda m: _i(m) + 2**70),
    ("int-eq-2**70", lambda m: _i(m).eq(2**70)),
    ("float-mul-2**64", lambda m: _f(m, 2, 3) * 2**64),
    ("rsub-2**70", lambda m: 2**70 - _i(m)),
    ("int-bitwise-and-2**70", lambda m: _i(m).bitwise_and(2**70)),
    ("fmod-int-by-zero", lambda m: m.fmod(_i(m), _i(m))),
    ("fmod_-int-by-zero", lambda m: _i(m).fmod_(_i(m))),
    ("trapezoid-bool", lambda m: m.trapezoid(_f(m, 2, 3) > 0.5)),
    ("cumulative_trapezoid-bool-x", lambda m: m.cumulative_trapezoid(_f(m, 3), _f(m, 3) > 0.2)),
    ("nanmedian-bool", lambda m: m.nanmedian(_f(m, 2, 3) > 0.5)),
    ("nansum-complex", lambda m: m.nansum(_c(m))),
    ("unique_consecutive-complex", lambda m: m.unique_consecutive(_c(m))),
    ("left-shift-bool", lambda m: m.bitwise_left_shift(_f(m, 3) > 0.2, _f(m, 3) > 0.3)),
    ("right-shift-bool", lambda m: (_f(m, 3) > 0.2).bitwise_right_shift(_f(m, 3) > 0.3)),
    ("all-out-int64", lambda m: m.all(_f(m, 2, 3), out=m.empty(2, 3, dtype=m.int64))),
    ("isposinf-out-int64", lambda m: m.isposinf(_f(m, 2, 3), out=m.empty(2, 3, dtype=m.int64))),
    ("signbit-out-float", lambda m: m.signbit(_f(m, 2, 3), out=m.empty(2, 3))),
    ("absolute_-complex", lambda m: _c(m).absolute_()),
    ("exponential_-complex", lambda m: _c(m).exponential_()),
    ("cauchy_-complex", lambda m: _c(m).cauchy_()),
    ("log_normal_-complex", lambda m: _c(m).log_normal_()),
    ("bernoulli_-complex", lambda m: _c(m).bernoulli_()),
    ("hardtanh-min-above-max", lambda m: m.nn.functional.hardtanh(_f(m, 2, 3), 5.0, 1.0)),
    ("sum-keepdim-tensor", lambda m: _f(m, 2, 3).sum(0, m.tensor([7]))),
    ("nansum-keepdim-int", lambda m: m.nansum(_f(m, 2, 3), 0, 1)),
    ("mean-keepdim-int", lambda m: _f(m, 2, 3).mean(0, keepdim=1)),
    ("dropout-train-tensor", lambda m: m.nn.functional.dropout(_f(m, 2, 3), 0.5, m.tensor([1]))),
    ("alpha_dropout-train-int", lambda m: m.nn.functional.alpha_dropout(_f(m, 2, 3), 0.5, 1)),
    ("unique-sorted-int", lambda m: m.unique(_i(m), sorted=1)),
    ("unique_consecutive-inverse-int", lambda m: _i(m).unique_consecutive(1)),
    ("linspace-1d-start", lambda m: m.linspace(m.ones(1), 2, 3)),
    ("logspace-2d-end", lambda m: m.logspace(m.tensor(1.0), m.ones(2, 2), 3)),
    ("cholesky_inverse-complex-not-square", lambda m: m.cholesky_inverse(_c(m))),
    ("cholesky_inverse-1d", lambda m: m.cholesky_inverse(_f(m, 3))),
    ("qr-some-int", lambda m: m.qr(_f(m, 3, 2), 0)),
    ("svd-some-int", lambda m: _f(m, 3, 2).svd(1)),
    ("as_tensor-list-of-matrices", lambda m: m.as_tensor([_f(m, 2, 3), _f(m, 2, 3)])),
    ("asarray-list-of-matrices", lambda m: m.asarray([_f(m, 2, 3), _i(m)])),
    ("split-2**70", lambda m: _i(m).split(2**70)),
    ("chunk-2**63", lambda m: m.chunk(_i(m), 2**63)),
    ("roll-2**70", lambda m: _i(m).roll(2**70, 0)),
    ("rot90-2**70", lambda m: _i(m).rot90(2**70)),
    ("diag-2**70", lambda m: m.diag(_i(m), 2**70)),
    ("diagonal-offset-2**70", lambda m: _i(m).diagonal(2**70)),
    ("diff-n-2**70", lambda m: _f(m, 2, 3).diff(2**70)),
    ("polygamma-2**70", lambda m: m.polygamma(2**70, _f(m, 2, 3))),
    ("nan_to_num-nan-tensor", lambda m: m.nan_to_num(_f(m, 2, 3), nan=_f(m, 2, 3))),
    ("nan_to_num_-posinf-1d", lambda m: _f(m, 2, 3).nan_to_num_(0.0, m.tensor([7.0]))),
    ("logit-eps-tensor", lambda m: m.special.logit(_f(m, 2, 3), _f(m, 3))),
    ("threshold-value-1d", lambda m: m.nn.functional.threshold(_f(m, 2, 3), 0.5, m.ones(1))),
    ("softplus-threshold-1d", lambda m: m.nn.functional.softplus(_f(m, 2, 3), 1, m.ones(1))),
    ("rrelu-upper-1d", lambda m: m.nn.functional.rrelu(_f(m, 2, 3), 0.1, m.ones(1))),
    ("softmax-dtype-tensor", lambda m: m.softmax(_f(m, 2, 3), 0, m.tensor([7]))),
    ("softmax-dtype-int", lambda m: _f(m, 2, 3).softmax(0, -2)),
    ("F.log_softmax-dtype-tensor", lambda m: m.nn.functional.log_softmax(_f(m, 2, 3), 0, 3, _i(m))),
    ("Tensor.softmax-no-dim", lambda m: _f(m, 2, 3).softmax()),
    ("sort-descending-tensor", lambda m: m.sort(_f(m, 2, 3), 0, m.tensor([7]))),
    ("argsort-descending-int", lambda m: _f(m, 2, 3).argsort(0, -2)),
    ("std-unbiased-int", lambda m: m.std(_f(m, 2, 3), 0, 2)),
    ("var-unbiased-tensor", lambda m: _f(m, 2, 3).var(0, m.tensor([7]))),
    ("lu-pivot-int", lambda m: m.lu(_f(m, 3, 3), 5)),
    ("linalg.svd-full_matrices-int", lambda m: m.linalg.svd(_f(m, 3, 2), 0)),
    ("copy_-non_blocking-int", lambda m: _f(m, 2, 3).copy_(_f(m, 2, 3), -2)),
    ("fill_diagonal_-wrap-int", lambda m: _f(m, 3, 3).fill_diagonal_(1.0, 2)),
    ("native_dropout-train-int", lambda m: m.native_dropout(_f(m, 2, 3), 0.5, -2)),
    ("feature_dropout-train-tensor", lambda m: m.feature_dropout(_f(m, 2, 3), 0.5, m.ones(1))),
    ("frobenius_norm-keepdim-int", lambda m: m.frobenius_norm(_f(m, 2, 3), 0, -2)),
    ("new_zeros-no-size", lambda m: _i(m).new_zeros()),
    ("new_empty-no-size", lambda m: _i(m).new_empty(dtype=m.float32)),
    ("sum_to_size-no-size", lambda m: _f(m, 2, 3).sum_to_size()),
    ("resize_-no-size", lambda m: _f(m, 2, 3).resize_()),
    ("resize-other-count", lambda m: _f(m, 2, 3).resize(5)),
    ("resize_as-other-count", lambda m: _f(m, 2, 3).resize_as(_f(m, 4, 5))),
    ("tensor-dtype-int", lambda m: m.tensor([1.5, 2.5], 0)),
    ("as_tensor-dtype-tensor", lambda m: m.as_tensor(_f(m, 2, 3), _i(m))),
    ("normal_-std-tensor", lambda m: _f(m, 2, 3).normal_(0, m.ones(1))),
    ("cauchy_-sigma-tensor", lambda m: _f(m, 2, 3).cauchy_(0, m.ones(3))),
    ("scalar_tensor-2d", lambda m: m.scalar_tensor(_f(m, 2, 3))),
    ("scalar_tensor-list", lambda m: m.scalar_tensor([1, 2])),
    ("result_type-2**70", lambda m: m.result_type(_i(m), 2**70)),
    ("isin-2**70", lambda m: m.isin(_i(m), 2**70)),
    ("random_-to-0", lambda m: _f(m, 2, 3).random_(0)),
    ("random_-to-tensor", lambda m: _f(m, 2, 3).random_(0, m.tensor([7]))),
    ("torch.selu-inplace-positional", lambda m: m.selu(_f(m, 2, 3), 5)),
    ("torch.celu-inplace-positional", lambda m: m.celu(_f(m, 2, 3), -2.0, 3)),
    ("torch.threshold-inplace-positional", lambda m: m.threshold(_f(m, 2, 3), 0.5, 1.0, True)),
    ("multi_dot-of-a-tensor", lambda m: m.linalg.multi_dot(_f(m, 2, 2, 2))),
    ("subtract-alpha-positional", lambda m: m.subtract(_f(m, 2, 3), 0, m.tensor([7.0]))),
    ("subtract_-alpha-positional", lambda m: _f(m, 2, 3).subtract_(0, _f(m, 3))),
    ("softmin-dtype-tensor", lambda m: m.nn.functional.softmin(_f(m, 2, 3), 0, 3, _i(m))),
]


@pytest.mark.parametrize("call", [c for _, c in RAISES], ids=[i for i, _ in RAISES])
def test_raises_as_pytorch(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    expected = type(theirs.value)
    if issubclass(expected, RuntimeError) and expected is not NotImplementedError:
        expected = RuntimeError  # (PyTorch's own subclasses, such as LinAlgError)
    with pytest.raises(expected) as mine:
        call(minigrad)
    assert str(mine.value)


# valid neighbours of the refused calls: same values as PyTorch
RETURNS = [
    ("int-add-2**63-wraps", lambda m: _i(m) + 2**63),
    ("float-mul-neg-2**63", lambda m: _f(m, 2, 3) * (-(2**63))),
    ("fmod-int", lambda m: m.fmod(_i(m), _i(m) + 1)),
    ("trapezoid-int", lambda m: m.trapezoid(_i(m))),
    ("left-shift-int", lambda m: m.bitwise_left_shift(_i(m), 2)),
    ("all-out-bool", lambda m: m.all(_f(m, 2, 3), 0, out=m.empty(3, dtype=m.bool))),
    ("hardtanh-equal-limits", lambda m: m.nn.functional.hardtanh(_f(m, 2, 3), 0.5, 0.5)),
    ("hardtanh_-min-above-max", lambda m: m.nn.functional.hardtanh_(_f(m, 2, 3), 0.5, 0.2)),
    ("as_tensor-list-of-scalars", lambda m: m.as_tensor([_f(m, 1), m.tensor(2.0)])),
    ("linspace-0d-start", lambda m: m.linspace(m.tensor(1.0), 2, 3)),
    ("dropout-eval", lambda m: m.nn.functional.dropout(_f(m, 2, 3), 0.5, False)),
    ("unique-counts", lambda m: m.unique(_i(m) % 2, return_counts=True)[1]),
    ("sum-keepdim-positional", lambda m: _f(m, 2, 3).sum(1, True)),
    ("amax-keepdims-alias", lambda m: _f(m, 2, 3).amax(dim=0, keepdims=True)),
    ("roll-2**63-1", lambda m: _i(m).roll(2**63 - 1, 1)),
    ("diag-offset-negative", lambda m: m.diag(_i(m), -1)),
    ("nan_to_num-0d-tensor", lambda m: m.nan_to_num(_f(m, 2, 3).log() * 0 / 0, nan=m.tensor(2.0))),
    ("threshold-0d-value", lambda m: m.nn.functional.threshold(_f(m, 2, 3), 0.5, m.tensor(2.0))),
    ("softmax-dtype-positional", lambda m: m.softmax(_f(m, 2, 3), 0, m.float64)),
    ("Tensor.log_softmax-dtype", lambda m: _f(m, 2, 3).log_softmax(1, m.float64)),
    ("F.softmax-stacklevel", lambda m: m.nn.functional.softmax(_f(m, 2, 3), 1, 3, m.float64)),
    ("argsort-descending-positional", lambda m: m.argsort(_f(m, 2, 3), 0, True)),
    ("std-unbiased-positional", lambda m: m.std(_f(m, 2, 3), 1, False, True)),
    ("var-unbiased-first", lambda m: _f(m, 2, 3).var(False)),
    ("native_dropout-eval", lambda m: m.native_dropout(_f(m, 2, 3), 0.5, False)[0]),
    ("new_ones-0d", lambda m: _i(m).new_ones(())),
    ("new_zeros-size-keyword", lambda m: _i(m).new_zeros(size=(2,))),
    ("sum_to_size-0d", lambda m: _f(m, 2, 3).sum_to_size(())),
    ("resize-same-count", lambda m: _f(m, 2, 3).resize(3, 2)),
    ("tensor-dtype-keyword", lambda m: m.tensor([1.5, 2.5], dtype=m.float64)),
    ("scalar_tensor-0d", lambda m: m.scalar_tensor(m.tensor(2.5))),
    ("isin-2**63-1", lambda m: m.isin(_i(m), 2**63 - 1)),
    ("torch.celu-alpha", lambda m: m.celu(_f(m, 2, 3) - 0.5, 2.0)),
    ("subtract-alpha-keyword", lambda m: _f(m, 2, 3).subtract(_f(m, 3), alpha=2)),
    ("subtract-number-alpha-positional", lambda m: _f(m, 2, 3).subtract(-2, 3)),
    ("sub-deprecated-number-first", lambda m: m.sub(_f(m, 2, 3), 2, _f(m, 3))),
    ("F.selu-inplace-positional", lambda m: m.nn.functional.selu(_f(m, 2, 3), True)),
]


@pytest.mark.parametrize("call", [c for _, c in RETURNS], ids=[i for i, _ in RETURNS])
def test_valid_neighbours_agree(call):
    theirs, mine = call(torch), call(minigrad)
    assert tuple(mine.shape) == tuple(theirs.shape)
    assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)
