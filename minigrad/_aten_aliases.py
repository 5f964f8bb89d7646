"""Top-level functions with PyTorch's ATen signatures, whose arguments differ from
``nn.functional``'s (``torch.batch_norm(input, weight, bias, running_mean, ...)``, losses
with an integer ``reduction``: 0 none, 1 mean, 2 sum) and the ``native_*`` forms returning
PyTorch's tuples; each calls the ``nn.functional`` function underneath."""

from __future__ import annotations

from . import creation, dtypes
from .autograd import grad_mode
from .autograd.graph import names_node
from .nn import functional as F
from .nn.functional.normalization import _batch_norm
from .ops.base import check_bool_arg, normalize_dim
from .ops.complex import complex_not_implemented
from .ops.joining import stack

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(value, op: str) -> str:
    if isinstance(value, str) and value in _REDUCTIONS:
        return value
    if isinstance(value, bool) or value not in (0, 1, 2):
        raise ValueError(f"{op}: reduction must be 0 (none), 1 (mean) or 2 (sum), got {value!r}")
    return _REDUCTIONS[value]


# -- pooling, padding, convolution ---------------------------------------------------------------


def adaptive_max_pool1d(input, output_size):
    """``(values, indices)`` of :func:`nn.functional.adaptive_max_pool1d`."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``(values, indices)`` of :func:`nn.functional.max_pool1d` (``stride=()``: the kernel)."""
    stride = None if stride in ((), []) else stride
    return F.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def affine_grid_generator(theta, size, align_corners: bool):
    """:func:`nn.functional.affine_grid` with ``align_corners`` required."""
    return F.affine_grid(theta, size, align_corners)


def constant_pad_nd(input, pad, value=0):
    """:func:`nn.functional.pad` with a constant."""
    return F.pad(input, pad, mode="constant", value=value)


# PyTorch's CPU kernel refuses complex inputs (F.conv2d and the layers take them)
@complex_not_implemented
def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """A 1-, 2- or 3-D (transposed) convolution chosen by ``weight``'s dims, as ATen's."""
    n = weight.ndim - 2
    if n not in (1, 2, 3):
        raise RuntimeError(
            f"convolution: expected a 3-D, 4-D or 5-D weight, got shape {tuple(weight.shape)}"
        )
    if transposed:
        fn = getattr(F, f"conv_transpose{n}d")
        return fn(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return getattr(F, f"conv{n}d")(input, weight, bias, stride, padding, dilation, groups)


@names_node("ConvTbcBackward0")
def conv_tbc(input, weight, bias, pad: int = 0):
    """1-D convolution of a (time, batch, channels) input with a (kernel, in, out) weight."""
    if input.ndim != 3 or weight.ndim != 3 or bias.ndim != 1:
        raise RuntimeError(
            "conv_tbc: expected a 3-D input (T, B, C), a 3-D weight (K, C, O) and a 1-D bias, "
            f"got {tuple(input.shape)}, {tuple(weight.shape)} and {tuple(bias.shape)}"
        )
    out = F.conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return out.permute(2, 0, 1)


# -- normalization -------------------------------------------------------------------------------


def batch_norm(
    input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled
):
    """``torch.batch_norm`` (ATen's argument order): :func:`nn.functional.batch_norm`, which
    checks ``eps`` where this does not (as PyTorch's)."""
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(
    input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled
):
    """``torch.instance_norm`` (ATen's argument order): :func:`nn.functional.instance_norm`."""
    return F.instance_norm(
        input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps
    )


def _stats(x, dims, eps, differentiable=False):
    """Mean and 1/sqrt(biased var + eps) over ``dims`` (kept); outside autograd unless
    ``differentiable`` (ATen's layer and batch norm statistics have no gradient, group norm's
    do)."""
    with grad_mode.set_grad_enabled(differentiable and grad_mode.is_grad_enabled()):
        mean = x.mean(dims, keepdim=True)
        rstd = ((x - mean).square().mean(dims, keepdim=True) + eps).rsqrt()
    return mean, rstd


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """``(output, mean, rstd)``: layer norm and its statistics (shape ``input.shape[:axis]``
    followed by ones)."""
    dims = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    out = F.layer_norm(input, normalized_shape, weight, bias, eps)
    return (out, *_stats(input, dims, eps))


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """``(output, save_mean, save_invstd)``: batch norm and, in training, the batch's mean and
    inverse standard deviation per channel (empty tensors in evaluation, as ATen's)."""
    if input.numel() == 0 and training:
        raise RuntimeError(
            f"native_batch_norm: input tensor must have at least one element, but got "
            f"input_sizes = {list(input.shape)}"
        )
    if input.numel() == 0:  # (ATen's kernel reads no statistics: F.batch_norm's check skipped)
        out = input.clone()
    else:
        out = _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training and running_mean is not None:
        empty = input.new_zeros((0,))
        return out, empty, empty.clone()
    dims = (0,) + tuple(range(2, input.ndim))
    mean, rstd = _stats(input, dims, eps)
    return out, mean.reshape(-1), rstd.reshape(-1)


@names_node("NativeGroupNormBackward0")
def native_group_norm(input, weight, bias, N, C, HxW, group, eps):  # noqa: N803 - ATen names
    """``(output, mean, rstd)``: group norm and its statistics of shape ``(N, group)``."""
    if input.numel() != N * C * HxW:
        raise RuntimeError(
            f"native_group_norm: Expected X.numel() == N * C * HxW to be true, but got false "
            f"({input.numel()} elements, N={N}, C={C}, HxW={HxW})"
        )
    out = F.group_norm(input, group, weight, bias, eps)
    grouped = input.reshape(N, group, -1)
    mean, rstd = _stats(grouped, (2,), eps, differentiable=True)
    return out, mean.reshape(N, group), rstd.reshape(N, group)


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dim but ``dim`` (kept, size 1 elsewhere); over
    all of ``v`` for ``dim=-1`` (weight norm's helper)."""
    if dim == -1:
        return v.norm(pow)
    dim = normalize_dim(dim, v.ndim, "norm_except_dim")  # (other negative dims count from the end)
    dims = [d for d in range(v.ndim) if d != dim]
    return v.norm(pow, dim=dims, keepdim=True)


# -- dropout -------------------------------------------------------------------------------------


def native_dropout(input, p: float, train):
    """``(output, mask)``: dropout and its bool keep-mask (all True when not training)."""
    if train is not None:
        check_bool_arg(train, "native_dropout", "train", 2)
    if train is False or (train is None and not grad_mode.is_grad_enabled()) or p == 0:
        return input.clone(), creation.ones(input.shape, dtype=dtypes.bool, device=input.device)
    if p == 1:
        return input * 0, creation.zeros(input.shape, dtype=dtypes.bool, device=input.device)
    mask = creation.rand(input.shape, dtype=input.dtype, device=input.device) >= p
    return input * mask.to(input.dtype) / (1 - p), mask


def _feature_mask(input, p):
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    keep = creation.rand(shape, dtype=input.dtype, device=input.device) >= p
    return keep.to(input.dtype) / (1 - p)


def feature_dropout(input, p: float, train: bool):
    """Zero whole channels (dims from 2 on) with probability ``p``, scaling the rest."""
    check_bool_arg(train, "feature_dropout", "train", 2)
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not train or p == 0:
        return input
    if p == 1:
        return input * 0
    return input * _feature_mask(input, p)


def feature_dropout_(input, p: float, train: bool):
    """In-place :func:`feature_dropout`."""
    check_bool_arg(train, "feature_dropout_", "train", 2)
    if not train or p == 0:
        return input
    return input.mul_(_feature_mask(input, p) if p < 1 else 0)


def alpha_dropout_(input, p: float, train: bool):
    """In-place ``torch.alpha_dropout``."""
    return F.alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout_(input, p: float, train: bool):
    """In-place ``torch.feature_alpha_dropout``."""
    return F.feature_alpha_dropout(input, p, train, inplace=True)


# -- embeddings ----------------------------------------------------------------------------------


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """``torch.embedding(weight, indices, ...)``: rows of ``weight`` (a negative
    ``padding_idx`` means none, as ATen's)."""
    padding_idx = None if padding_idx is None or padding_idx < 0 else padding_idx
    return F.embedding(
        indices, weight, padding_idx, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse
    )


def embedding_bag(
    weight,
    indices,
    offsets,
    scale_grad_by_freq=False,
    mode=0,
    sparse=False,
    per_sample_weights=None,
    include_last_offset=False,
    padding_idx=None,
):
    """``(output, offset2bag, bag_size, max_indices)`` as ATen's ``embedding_bag`` (``mode``
    0 sum, 1 mean, 2 max); the output is :func:`nn.functional.embedding_bag`'s."""
    if mode not in (0, 1, 2):
        raise ValueError(f"embedding_bag: mode must be 0 (sum), 1 (mean) or 2 (max), got {mode}")
    out = F.embedding_bag(
        indices,
        weight,
        offsets,
        scale_grad_by_freq=scale_grad_by_freq,
        mode=("sum", "mean", "max")[mode],
        sparse=sparse,
        per_sample_weights=per_sample_weights,
        include_last_offset=include_last_offset,
        padding_idx=padding_idx,
    )
    return (out, *_bag_extras(weight, indices, offsets, mode, include_last_offset))


def _bag_extras(weight, indices, offsets, mode: int, include_last_offset: bool):
    """ATen's bookkeeping outputs: the bag of each index, the bag sizes, and the argmax rows."""
    starts = [int(v) for v in offsets.tolist()]
    ends = starts[1:] + [indices.numel()]
    if include_last_offset:
        starts, ends = starts[:-1], ends[:-1]
    like = dict(dtype=indices.dtype, device=indices.device)
    sizes = [e - s for s, e in zip(starts, ends)]
    bags = [b for b, n in enumerate(sizes) for _ in range(n)]
    offset2bag = creation.tensor(bags, **like)
    if mode == 0:  # (PyTorch's float32 fast path leaves offset2bag empty; its float64 one fills it)
        zero = creation.zeros(len(sizes), **like)
        return offset2bag, zero, zero.clone()
    bag_size = creation.tensor(sizes, **like)
    if mode == 1:
        return offset2bag, bag_size, bag_size.clone()
    rows = []
    with grad_mode.no_grad():
        for s, e in zip(starts, ends):
            picked = indices[s:e]
            if e > s:
                rows.append(picked[weight[picked].argmax(0)])
            else:
                rows.append(creation.zeros(weight.shape[1], **like))
    return offset2bag, bag_size, stack(rows) if rows else creation.zeros(0, **like)


# -- losses with an integer reduction ------------------------------------------------------------


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    """:func:`nn.functional.binary_cross_entropy_with_logits` with ATen's arguments."""
    r = _reduction(reduction, "binary_cross_entropy_with_logits")
    return F.binary_cross_entropy_with_logits(
        input, target, weight, reduction=r, pos_weight=pos_weight
    )


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    """:func:`nn.functional.cosine_embedding_loss` with an integer ``reduction``."""
    r = _reduction(reduction, "cosine_embedding_loss")
    return F.cosine_embedding_loss(input1, input2, target, margin, reduction=r)


def ctc_loss(
    log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1, zero_infinity=False
):
    """:func:`nn.functional.ctc_loss` with an integer ``reduction``."""
    r = _reduction(reduction, "ctc_loss")
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, r, zero_infinity)


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    """:func:`nn.functional.hinge_embedding_loss` with an integer ``reduction``."""
    r = _reduction(reduction, "hinge_embedding_loss")
    return F.hinge_embedding_loss(input, target, margin, reduction=r)


def kl_div(input, target, reduction=1, *, log_target=False):
    """:func:`nn.functional.kl_div` with an integer ``reduction`` (1 is the plain mean over
    elements, as ATen's; ``batchmean`` is nn.functional's)."""
    r = _reduction(reduction, "kl_div")
    return F.kl_div(input, target, reduction=r, log_target=log_target)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    """:func:`nn.functional.margin_ranking_loss` with an integer ``reduction``."""
    r = _reduction(reduction, "margin_ranking_loss")
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=r)


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """:func:`nn.functional.poisson_nll_loss` with ATen's (all required) arguments."""
    r = _reduction(reduction, "poisson_nll_loss")
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=r)


def triplet_margin_loss(
    anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction=1
):
    """:func:`nn.functional.triplet_margin_loss` with an integer ``reduction``."""
    r = _reduction(reduction, "triplet_margin_loss")
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction=r)


__all__ = [
    name
    for name, obj in dict(globals()).items()
    if callable(obj) and not name.startswith("_") and getattr(obj, "__module__", None) == __name__
]
