"""A Python number where PyTorch's parameter is a Tensor (``torch.atan2(x, 2)``, ``F.relu(2.0)``,
``x.maximum(0)``, ``torch.pow(2, 3)``) or a tuple of ints (``torch.flip(x, 0)``): minigrad raises
PyTorch's ``TypeError`` with its words (found by ``scripts/raise_parity_sweep.py``; the
parameters are minigrad._tensor_params_table, generated from PyTorch), and the numbers PyTorch
takes are still taken, with its values. Also: in-place ops on the meta device check their
arguments, ``round``'s ``decimals`` is keyword-only."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
from minigrad._tensor_params_table import TENSOR_PAIR, TENSOR_PARAMS

torch = pytest.importorskip("torch")


def _f(m, *shape):
    return m.arange(1, 1 + int(np.prod(shape)), dtype=m.float32).reshape(shape) / 7


def _ns(m, path):
    for part in filter(None, path.split(".")):
        m = getattr(m, part)
    return m


def _call(m, path, name, position):
    t = _f(m, 2, 3)
    args = [t] * position + [2]
    return getattr(t, name)(*args) if path == "Tensor" else getattr(_ns(m, path), name)(*args)


def _refusal(m, path, name, position):
    try:
        _call(m, path, name, position)
    except TypeError as exc:
        return str(exc).split("(): ")[-1]  # PyTorch spells special.gammainc special_gammainc
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "answered"


@pytest.mark.parametrize("path", sorted({path for path, _ in TENSOR_PARAMS}))
def test_number_for_tensor_refused_as_pytorch(path):
    """One number at each listed position of each listed name of ``path``: PyTorch's words
    where its parser names the argument, a TypeError where it lists its overloads."""
    wrong = []
    for (where, spec), names in TENSOR_PARAMS.items():
        for name in names.split() if where == path else ():
            for position, _, _ in spec:
                theirs = _refusal(torch, path, name, position)
                mine = _refusal(minigrad, path, name, position)
                if mine != theirs and (theirs.startswith("argument") or mine == "answered"):
                    wrong.append(f"{name}[{position}]: {mine!r} (PyTorch: {theirs!r})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "path,name", [(p, n) for p, names in TENSOR_PAIR.items() for n in names.split()]
)
def test_two_numbers_refused_as_pytorch(path, name):
    with pytest.raises(TypeError, match="invalid combination of arguments - got \\(int, int\\)"):
        getattr(_ns(torch, path), name)(2, 3)
    with pytest.raises(TypeError, match="invalid combination of arguments - got \\(int, int\\)"):
        getattr(_ns(minigrad, path), name)(2, 3)


# the sweep's cases that the table does not cover by its probe (keywords, NumPy scalars, aliases)
RAISES = [
    ("maximum-other-keyword", lambda m: m.maximum(_f(m, 2, 3), other=2)),
    ("atan2-numpy-scalar", lambda m: m.atan2(_f(m, 2, 3), np.float32(2))),
    ("arctan2-number-first", lambda m: m.arctan2(-1, 2)),
    ("logical_and_-number", lambda m: _f(m, 2, 3).logical_and_(0)),
    ("fmod-number-first", lambda m: m.fmod(2, _f(m, 3))),
    ("gt-number-first", lambda m: m.gt(2, _f(m, 3))),
    ("clamp-number-input", lambda m: m.clamp(2.0, 0, 1)),
    ("pow-exponent-keyword", lambda m: m.pow(2, exponent=3)),
    ("F.pairwise_distance-number", lambda m: m.nn.functional.pairwise_distance(_f(m, 2, 3), 0)),
    ("F.soft_margin_loss-number", lambda m: m.nn.functional.soft_margin_loss(_f(m, 2, 3), 5)),
    ("special.gammainc-number", lambda m: m.special.gammainc(_f(m, 2, 3), 5)),
    ("special.zeta-two-numbers", lambda m: m.special.zeta(-1, 2)),
    ("resolve_conj-list", lambda m: m.resolve_conj([1, 2])),
    ("maximum-list", lambda m: m.maximum(_f(m, 2, 3), [1.0, 2.0, 3.0])),
    ("lerp-number-end", lambda m: _f(m, 2, 3).lerp(2, 0.5)),
    ("masked_fill-number-mask", lambda m: m.masked_fill(_f(m, 2, 3), 1, 2.0)),
    ("flip-int-dims", lambda m: m.flip(_f(m, 2, 3), 0)),
    ("reshape-int-shape", lambda m: m.reshape(_f(m, 2, 3), 6)),
    ("tile-int-dims", lambda m: m.tile(_f(m, 2, 3), 2)),
    ("new_full-int-size", lambda m: _f(m, 2, 3).new_full(2, 1.0)),
    ("round-decimals-positional", lambda m: m.round(_f(m, 2, 3), 2)),
    ("Tensor.round-decimals-positional", lambda m: _f(m, 2, 3).round(2)),
    ("Tensor.round_-decimals-positional", lambda m: _f(m, 2, 3).round_(2)),
    ("addcmul-number-tensor1", lambda m: m.addcmul(_f(m, 2, 3), 0, m.tensor([7.0]))),
    ("Tensor.addcmul_-number-tensor1", lambda m: _f(m, 2, 3).addcmul_(0, m.tensor([7.0]))),
    ("poisson-int-generator", lambda m: m.poisson(_f(m, 2, 3), 0)),
    ("uniform_-int-generator", lambda m: _f(m, 2, 3).uniform_(0, 1, 5)),
    ("matrix_rank-tol-and-atol", lambda m: m.linalg.matrix_rank(_f(m, 2, 3), 0.1, atol=0.1)),
    (
        "adaptive_avg_pool2d-negative-size",
        lambda m: m.nn.functional.adaptive_avg_pool2d(_f(m, 1, 2, 3), (-1, 2)),
    ),
    ("pinverse-rcond-tensor", lambda m: m.pinverse(_f(m, 2, 3), _f(m, 4, 5))),
    ("special.round-int", lambda m: m.special.round(m.arange(3))),
    ("rsub-tensor-alpha-positional", lambda m: m.rsub(_f(m, 2, 3), _f(m, 3), 2)),
    ("dequantize-list-of-floats", lambda m: m.dequantize([_f(m, 2, 3), _f(m, 4, 5)])),
    ("meta-atan2_-no-other", lambda m: _f(m, 2, 3).to("meta").atan2_()),
    ("meta-addmm_-no-matrices", lambda m: _f(m, 2, 3).to("meta").addmm_()),
    ("meta-index_add_-no-index", lambda m: _f(m, 2, 3).to("meta").index_add_()),
    ("meta-cumsum_-no-dim", lambda m: _f(m, 2, 3).to("meta").cumsum_()),
]


@pytest.mark.parametrize("call", [c for _, c in RAISES], ids=[i for i, _ in RAISES])
def test_raises_as_pytorch(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    expected = type(theirs.value)
    with pytest.raises(expected) as mine:
        call(minigrad)
    assert str(mine.value)


# numbers PyTorch takes (a Number overload, or a Python-level function): same values
RETURNS = [
    ("add-number-first", lambda m: m.add(1, _f(m, 2, 3))),
    ("pow-number-base", lambda m: m.pow(2, _f(m, 2, 3))),
    ("pow-number-exponent-keyword", lambda m: m.pow(_f(m, 2, 3), exponent=2)),
    ("remainder-number-first", lambda m: m.remainder(5, _f(m, 2, 3))),
    ("xlogy-number-first", lambda m: m.xlogy(2, _f(m, 2, 3))),
    ("normal-float-mean", lambda m: m.normal(0.0, _f(m, 2, 3) * 0).abs()),
    ("normal-two-floats-size", lambda m: m.normal(2.0, 0.0, size=(2,))),
    ("where-numbers", lambda m: m.where(_f(m, 2, 3) > 0.5, 1.0, 2.0)),
    ("clamp-number-bounds", lambda m: m.clamp(_f(m, 2, 3), 0.2, 0.5)),
    ("fmod-number-other", lambda m: m.fmod(_f(m, 2, 3), 0.3)),
    ("gt-number-other", lambda m: m.gt(_f(m, 2, 3), 0.3)),
    ("Tensor.maximum-tensor", lambda m: _f(m, 2, 3).maximum(_f(m, 3) * 2)),
    ("isclose-tensors", lambda m: m.isclose(_f(m, 2, 3), _f(m, 3))),
    ("F.relu", lambda m: m.nn.functional.relu(_f(m, 2, 3) - 0.5)),
    ("lerp-number-weight", lambda m: m.lerp(_f(m, 2, 3), _f(m, 3), 0.25)),
    ("Tensor.flip-int", lambda m: _f(m, 2, 3).flip(0)),
    ("Tensor.reshape-ints", lambda m: _f(m, 2, 3).reshape(3, 2)),
    ("Tensor.tile-int", lambda m: _f(m, 2, 3).tile(2)),
    ("reshape-tuple", lambda m: m.reshape(_f(m, 2, 3), (6,))),
    ("round-decimals-keyword", lambda m: m.round(_f(m, 2, 3), decimals=2)),
    ("Tensor.round_-decimals-keyword", lambda m: _f(m, 2, 3).round_(decimals=1)),
    ("special.round", lambda m: m.special.round(_f(m, 2, 3) * 3)),
    ("rsub-number-alpha-positional", lambda m: m.rsub(_f(m, 2, 3), -2, 3)),
    # refused where PyTorch answers (over-strict), now PyTorch's answers
    ("argmax-out", lambda m: m.argmax(_f(m, 2, 3), 1, out=m.empty(2, dtype=m.int64))),
    ("argmin-out", lambda m: m.argmin(_f(m, 2, 3), out=m.empty((), dtype=m.int64))),
    ("nonzero-out", lambda m: m.nonzero(_f(m, 2, 3) > 0.5, out=m.empty(0, dtype=m.int64))),
    ("greater-out", lambda m: m.greater(_f(m, 2, 3), 0.5, out=m.empty(2, 3, dtype=m.bool))),
    (
        "not_equal-out-int",
        lambda m: m.not_equal(_f(m, 2, 3), 0.5, out=m.empty(2, 3, dtype=m.int64)),
    ),
    ("chain_matmul-out", lambda m: m.chain_matmul(_f(m, 2, 3), _f(m, 3, 2), out=m.empty(2, 2))),
    ("adaptive_avg_pool1d-0", lambda m: m.nn.functional.adaptive_avg_pool1d(_f(m, 2, 3), 0)),
    (
        "adaptive_max_pool2d-0",
        lambda m: m.nn.functional.adaptive_max_pool2d(_f(m, 1, 2, 3), (2, 0)),
    ),
    (
        "adaptive_avg_pool3d-0",
        lambda m: m.nn.functional.adaptive_avg_pool3d(_f(m, 1, 2, 3, 4), (0, 2, 1)),
    ),
    ("linalg.matrix_rank-tol", lambda m: m.linalg.matrix_rank(_f(m, 3, 3), 0.5)),
    ("linalg.matrix_rank-tol-tensor", lambda m: m.linalg.matrix_rank(_f(m, 3, 3), _f(m, 2, 2))),
    ("linalg.pinv-rcond", lambda m: m.linalg.pinv(_f(m, 3, 3), 0.1)),
    (
        "linalg.pinv-rcond-hermitian",
        lambda m: m.linalg.pinv(_f(m, 3, 3) + _f(m, 3, 3).mT, 0.1, True),
    ),
]


def test_meta_inplace_keeps_shape_and_refuses_mismatch():
    x = _f(minigrad, 2, 3).to("meta")
    assert x.add_(1).shape == (2, 3) and x.mul_(_f(minigrad, 3).to("meta")).shape == (2, 3)
    with pytest.raises(RuntimeError):  # as PyTorch (not asked here: its meta imports sympy)
        x.mul_(_f(minigrad, 4, 5).to("meta"))


@pytest.mark.parametrize("call", [c for _, c in RETURNS], ids=[i for i, _ in RETURNS])
def test_numbers_pytorch_takes_agree(call):
    theirs, mine = call(torch), call(minigrad)
    assert tuple(mine.shape) == tuple(theirs.shape)
    assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)
