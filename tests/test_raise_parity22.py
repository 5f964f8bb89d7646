"""Bad arguments refused as PyTorch refuses them (found by ``scripts/raise_parity_sweep.py`` and
its whole-call scenarios, ``scripts/raise_parity_scenarios.py``): PyTorch's exception type,
with a message naming the op or the argument; and the calls PyTorch takes, taken.

Fixed here: adaptive pooling with an ``output_size`` of the wrong length (it answered, reading
two of three entries), 1-D pools' tuple arguments, ``interpolate`` to an empty or negative size
(it answered an empty tensor, or divided by zero), ``Tensor.to(dtype="float32")`` (it answered),
conv's padding strings and argument lengths, ``tensor[key] = value`` of the wrong shape,
``cat([])``, ``Embedding(_weight=...)`` of the wrong shape, ``trunc_normal_(a > b)``, RNN cells'
sizes, and an in-place call with bad arguments on a leaf that requires grad (PyTorch's
argument parser refuses it before autograd's leaf check); ``weight_norm`` with a ``dim`` out of
range (it wrapped it), ``Hardtanh(min_val > max_val)`` (it answered), the RNN utilities' and
``spectral_norm``'s exception types, an LSTM cell's ``hx`` that is not a pair; and the Tensor
methods ``tile``/``hsplit``/``vsplit``/``dsplit`` take their sizes as ints (``x.tile(2, 2)``);
``tensor_split`` at a negative index counts it from the end (it clamped it to 0: wrong pieces);
a number among the tensors of ``atleast_1d``, ``block_diag``, ``broadcast_tensors``,
``meshgrid``, ... is PyTorch's TypeError (it was an AttributeError).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")


def _f(m, *shape):
    return m.arange(1, 1 + math.prod(shape), dtype=m.float32).reshape(shape) / 7


def _F(m):
    return m.nn.functional


# (id, call, words minigrad's message holds: the op or the argument)
RAISES = [
    ("adaptive_avg_pool2d-3", lambda m: _F(m).adaptive_avg_pool2d(_f(m, 1, 1, 4, 4), (2, 2, 2)),
     "adaptive_avg_pool2d: output_size must be 2"),
    ("adaptive_max_pool2d-3", lambda m: _F(m).adaptive_max_pool2d(_f(m, 1, 1, 4, 4), (2, 2, 2)),
     "adaptive_max_pool2d"),
    ("adaptive_avg_pool3d-2", lambda m: _F(m).adaptive_avg_pool3d(_f(m, 1, 1, 4, 4, 4), (2, 2)),
     "adaptive_avg_pool3d: output_size must be 3"),
    ("adaptive_avg_pool1d-2", lambda m: _F(m).adaptive_avg_pool1d(_f(m, 1, 1, 4), (2, 2)),
     "adaptive_avg_pool1d() argument 'output_size' should contain one int (got 2)"),
    ("adaptive_max_pool1d-2", lambda m: _F(m).adaptive_max_pool1d(_f(m, 1, 1, 4), (2, 2)),
     "adaptive_max_pool1d() argument 'output_size' should contain one int (got 2)"),
    ("max_pool1d-kernel-2", lambda m: _F(m).max_pool1d(_f(m, 1, 1, 4), (2, 2)),
     "max_pool1d() argument 'kernel_size'"),
    ("max_pool1d-stride-2", lambda m: _F(m).max_pool1d(_f(m, 1, 1, 6), 2, (1, 1)),
     "max_pool1d() argument 'stride'"),
    ("avg_pool1d-padding-2", lambda m: _F(m).avg_pool1d(_f(m, 1, 1, 6), 2, 1, (0, 0)),
     "avg_pool1d() argument 'padding'"),
    ("max_pool2d-kernel-3", lambda m: _F(m).max_pool2d(_f(m, 1, 1, 4, 4), (2, 2, 2)),
     "max_pool2d: kernel_size"),
    ("interpolate-negative-scale",
     lambda m: _F(m).interpolate(_f(m, 1, 1, 2, 2), scale_factor=-2.0),
     "output (H: -4, W: -4)"),
    ("interpolate-bilinear-negative-scale",
     lambda m: _F(m).interpolate(_f(m, 1, 1, 2, 2), scale_factor=-2.0, mode="bilinear"),
     "Input and output sizes should be greater than 0"),
    ("interpolate-size-0", lambda m: _F(m).interpolate(_f(m, 1, 1, 2, 2), size=(0, 2)),
     "output (H: 0, W: 2)"),
    ("interpolate-scale-0", lambda m: _F(m).interpolate(_f(m, 1, 1, 2, 2), scale_factor=0.0),
     "Input and output sizes should be greater than 0"),
    ("to-dtype-string", lambda m: _f(m, 2).to(dtype="float32"), "dtype=str"),
    ("conv2d-same-strided",
     lambda m: _F(m).conv2d(_f(m, 1, 1, 4, 4), _f(m, 1, 1, 2, 2), stride=2, padding="same"),
     "padding='same' is not supported for strided convolutions"),
    ("conv2d-padding-string",
     lambda m: _F(m).conv2d(_f(m, 1, 1, 4, 4), _f(m, 1, 1, 2, 2), padding="full"),
     "Invalid padding string 'full'"),
    ("conv1d-stride-2", lambda m: _F(m).conv1d(_f(m, 1, 1, 4), _f(m, 1, 1, 2), stride=(1, 1)),
     "stride"),
    ("Conv2d-padding-string", lambda m: m.nn.Conv2d(3, 4, 3, padding="full"),
     "Invalid padding string 'full'"),
    ("Conv2d-same-strided", lambda m: m.nn.Conv2d(3, 4, 3, padding="same", stride=2),
     "padding='same' is not supported for strided convolutions"),
    ("ConvTranspose2d-same-forward",
     lambda m: m.nn.ConvTranspose2d(3, 4, 3, padding="same")(_f(m, 1, 3, 4, 4)),
     "argument 'padding' must be tuple of ints, but found element of type str"),
    ("EmbeddingBag-mode-forward",
     lambda m: m.nn.EmbeddingBag(10, 3, mode="median")(m.tensor([[1, 2]])),
     "mode has to be one of sum, mean or max"),
    ("setitem-shape", lambda m: _f(m, 2, 3).__setitem__(0, _f(m, 4)), "__setitem__"),
    ("setitem-index-shape",
     lambda m: _f(m, 2, 3).__setitem__(m.tensor([0, 1]), _f(m, 4)), "shape mismatch"),
    ("cat-empty", lambda m: m.cat([]), "cat(): expected a non-empty list of Tensors"),
    ("Embedding-weight-shape", lambda m: m.nn.Embedding(4, 3, _weight=_f(m, 3, 3)),
     "Shape of weight [3, 3] does not match"),
    ("trunc_normal-a-above-b", lambda m: m.nn.init.trunc_normal_(_f(m, 3), a=2.0, b=-2.0),
     "trunc_normal_"),
    ("LSTMCell-negative", lambda m: m.nn.LSTMCell(3, -4), "negative dimension"),
    ("leaf-acos_-extra-argument", lambda m: _f(m, 2, 3).requires_grad_().acos_(_f(m, 2, 3)),
     "acos"),
    ("leaf-addmm_-missing", lambda m: _f(m, 2, 2).requires_grad_().addmm_(), "addmm"),
    ("leaf-clamp_max_-missing", lambda m: _f(m, 2, 3).requires_grad_().clamp_max_(), "max"),
    ("leaf-cumsum_-missing", lambda m: _f(m, 2, 3).requires_grad_().cumsum_(), "dim"),
    ("weight_norm-dim", lambda m: m.nn.utils.weight_norm(m.nn.Linear(2, 3), dim=5),
     "Dimension out of range (expected to be in range of [-2, 1], but got 5)"),
    ("parametrizations.weight_norm-dim",
     lambda m: m.nn.utils.parametrizations.weight_norm(m.nn.Linear(2, 3), dim=-3),
     "Dimension out of range"),
    ("Hardtanh-min-above-max", lambda m: m.nn.Hardtanh(1.0, -1.0),
     "max_val (-1.0) must be greater than min_val (1.0)"),
    ("pack_padded_sequence-lengths-count",
     lambda m: m.nn.utils.rnn.pack_padded_sequence(_f(m, 3, 2, 1), [3, 2, 1]),
     "Expected `len(lengths)` to be equal to batch_size, but got 3 (batch_size=2)"),
    ("pad_sequence-side", lambda m: m.nn.utils.rnn.pad_sequence([_f(m, 2)], padding_side="top"),
     "Expected padding_side to be one of left or right, but got top"),
    ("spectral_norm-missing-name", lambda m: m.nn.utils.spectral_norm(m.nn.Linear(2, 3), name="w"),
     "'w'"),
    ("LSTMCell-hx-not-tuple", lambda m: m.nn.LSTMCell(3, 4)(_f(m, 2, 3), _f(m, 2, 4)),
     "argument 'hx' must be tuple of Tensors, not Tensor"),
    *[
        (f"{name}-number", lambda m, name=name: getattr(m, name)(_f(m, 2, 3), 0),
         f"{name}(): expected Tensor as element 1 in argument 0, but got int")
        for name in ("atleast_1d", "atleast_2d", "atleast_3d", "block_diag", "broadcast_tensors",
                     "cartesian_prod", "meshgrid", "chain_matmul")
    ],
    ("interpolate-2d-no-size", lambda m: _F(m).interpolate(_f(m, 2, 3)),
     "either size or scale_factor should be defined"),
    ("interpolate-2d-both", lambda m: _F(m).interpolate(_f(m, 2, 3), 2, 2.0),
     "only one of size or scale_factor should be defined"),
    ("fractional_max_pool2d-2d-no-output", lambda m: _F(m).fractional_max_pool2d(_f(m, 2, 3), 2),
     "requires specifying either an output_size or an output_ratio"),
    ("fractional_max_pool3d-2d-no-output", lambda m: _F(m).fractional_max_pool3d(_f(m, 2, 3), 2),
     "requires specifying either an output_size or an output_ratio"),
    *[
        (f"{name}-tensor-length", lambda m, name=name: getattr(m, name)(_f(m, 2, 3)),
         f"{name}(): argument 'window_length' (position 1) must be")
        for name in ("hann_window", "hamming_window", "blackman_window", "bartlett_window",
                     "kaiser_window")
    ],
    ("hamming_window-tensor-alpha", lambda m: m.hamming_window(3, True, _f(m, 2)),
     "argument 'alpha'"),
    ("tril_indices-tensor-row", lambda m: m.tril_indices(_f(m, 2, 3), 3), "argument 'row'"),
    ("triu_indices-tensor-offset", lambda m: m.triu_indices(3, 3, _f(m, 2)), "argument 'offset'"),
    ("arange-tensor-end", lambda m: m.arange(_f(m, 2, 3)), "arange(): argument"),
    ("arange-tensor-step", lambda m: m.arange(0, 5, _f(m, 2)), "argument 'step'"),
    ("range-tensor-end", lambda m: m.range(0, _f(m, 2, 3)), "range(): argument 'end'"),
    *[
        (f"{name}-tensor-kernel", lambda m, name=name: getattr(_F(m), name)(_f(m, 2, 3), _f(m, 2, 3)),
         "kernel_size")
        for name in ("max_pool2d", "avg_pool2d", "max_pool3d", "avg_pool3d")
    ],
    ("atleast_2d-list-with-number", lambda m: m.atleast_2d([_f(m, 2), 1]),
     "atleast_2d(): expected Tensor as element 1"),
]  # fmt: skip


@pytest.mark.parametrize("call,words", [c[1:] for c in RAISES], ids=[c[0] for c in RAISES])
def test_raises_as_pytorch(call, words):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value), match=re.escape(words)):
        call(minigrad)


def test_leaf_check_still_first_for_a_valid_call():
    """A well-formed in-place call on a leaf that requires grad keeps autograd's refusal."""
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        _f(minigrad, 2, 3).requires_grad_().acos_()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        _f(minigrad, 2, 3).requires_grad_().add_(_f(minigrad, 4, 5))  # (PyTorch: the same)


# calls PyTorch takes (minigrad refused them): the same shapes and values
RETURNS = [
    ("RNNCell-hidden-0", lambda m: m.nn.RNNCell(3, 0)(_f(m, 2, 3))),
    ("avg_pool1d-empty-stride", lambda m: _F(m).avg_pool1d(_f(m, 1, 1, 6), 2, [])),
    ("max_pool1d-empty-stride", lambda m: _F(m).max_pool1d(_f(m, 1, 1, 6), 2, ())),
    ("adaptive_max_pool1d-1-tuple", lambda m: _F(m).adaptive_max_pool1d(_f(m, 1, 1, 6), (2,))),
    ("interpolate-size", lambda m: _F(m).interpolate(_f(m, 1, 1, 2, 2), size=(3, 4))),
    ("to-dtype", lambda m: _f(m, 2).to(dtype=m.float64)),
    (
        "tensor_split-negative-indices",
        lambda m: m.cat(m.tensor_split(m.arange(5.0), [-1, -4, 7, -9])[::-1]),
    ),
    ("hsplit-negative-index", lambda m: m.cat(_f(m, 2, 3).hsplit(-2, 3)[::-1], 1)),
    ("arange-one-element-tensor", lambda m: m.arange(m.tensor(3))),
    ("hann_window-one-element-tensor", lambda m: m.hann_window(m.tensor(4))),
    ("Tensor.tile-ints", lambda m: _f(m, 2, 3).tile(2, 2)),
    ("Tensor.tile-keyword", lambda m: _f(m, 2, 3).tile(dims=(1, 2))),
    ("Tensor.hsplit-ints", lambda m: m.cat(_f(m, 2, 3).hsplit(1, 2)[::-1], 1)),
    ("Tensor.vsplit-ints", lambda m: m.cat(_f(m, 4, 3).vsplit(1, 3)[::-1], 0)),
    ("Tensor.dsplit-ints", lambda m: m.cat(_f(m, 2, 2, 4).dsplit(1, 2)[::-1], 2)),
    ("Tensor.hsplit-sections", lambda m: m.cat(_f(m, 2, 4).hsplit(2), 0)),
]


@pytest.mark.parametrize("call", [c for _, c in RETURNS], ids=[i for i, _ in RETURNS])
def test_calls_pytorch_takes_agree(call):
    theirs, mine = call(torch), call(minigrad)
    assert tuple(mine.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc_bins_in_the_input_dtype(dtype):
    """PyTorch bins (x - min) * bins / (max - min) in the input's dtype: (1..6)/7 in float32
    puts 3/7 in bin 1 (a float64 binning: bin 2); minigrad's float64 histogram differed."""
    for x in (np.arange(1, 7) / 7, np.random.default_rng(0).normal(size=40).round(1)):
        for low, high in ((0, 0), (-1.3, 2.1)):
            theirs = torch.histc(torch.tensor(x, dtype=getattr(torch, dtype)), 5, low, high)
            mine = minigrad.histc(minigrad.tensor(x, dtype=getattr(minigrad, dtype)), 5, low, high)
            assert mine.tolist() == theirs.tolist()


def test_logical_inplace_not_recorded_as_pytorch():
    """PyTorch does not differentiate logical_and_ and kin: a leaf that requires grad takes
    them, and a result keeps its grad_fn (its version still moves)."""
    for m in (torch, minigrad):
        leaf = m.ones(2, requires_grad=True)
        leaf.logical_not_()
        assert leaf.is_leaf and leaf.requires_grad and leaf.grad_fn is None
        assert leaf.tolist() == [0.0, 0.0]
        y = m.ones(2, requires_grad=True) * 2
        y.logical_and_(m.tensor([1.0, 0.0]))
        assert type(y.grad_fn).__name__ == "MulBackward0" and y._version == 1
        assert y.tolist() == [1.0, 0.0]


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: x.all(),
        lambda m, x: m.any(x, 1),
        lambda m, x: x.argmax(),
        lambda m, x: x.argmin(0, keepdim=True),
        lambda m, x: m.histc(x, 4),
    ],
    ids=["all", "any-dim", "argmax", "argmin-keepdim", "histc"],
)
def test_value_free_reductions_on_meta(call):
    """Results whose shape needs no values: meta results of PyTorch's shapes and dtypes."""
    theirs = call(torch, torch.ones(2, 3, device="meta"))
    mine = call(minigrad, minigrad.ones(2, 3).to("meta"))
    assert mine.is_meta and tuple(mine.shape) == tuple(theirs.shape)
    assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]


@pytest.mark.parametrize("name", ["dropout", "dropout1d", "dropout2d", "dropout3d"])
def test_dropout_on_meta(name):
    x = minigrad.ones(2, 3, 4, 5).to("meta")
    x = x[0] if name == "dropout1d" else x
    out = getattr(minigrad.nn.functional, name)(x)
    assert out.is_meta and out.shape == x.shape


def test_constructors_pytorch_takes():
    """Modules PyTorch builds (refusing only in forward): built here too."""
    assert minigrad.nn.ConvTranspose2d(3, 4, 3, padding="same").padding == "same"
    assert minigrad.nn.EmbeddingBag(10, 3, mode="median").mode == "median"
