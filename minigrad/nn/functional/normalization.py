"""Normalization: layer, batch and group norm as fused ops with a closed-form backward; normalize."""

from __future__ import annotations

import math

from ... import backend, dtypes
from ..._memory_format import keep_layout
from ...autograd import forward_ad, grad_mode, graph
from ...autograd.grad_mode import no_grad
from ...autograd.graph import named_as
from ...ops.base import Op, constant, kernel_dtypes
from ...ops.complex import real_only
from ...ops.reduce import summed_to


def _mean(xp, a, axes):
    """``a``'s mean over ``axes`` (kept); NaN where they are empty, without NumPy's warning
    (PyTorch normalizes an empty input silently)."""
    if all(a.shape[i] for i in axes):
        return a.mean(axis=axes, keepdims=True)
    return a.sum(axis=axes, keepdims=True) * xp.nan


class _Normalize(Op):
    """y = x̂·w + b with x̂ = (x - mean)/√(var + eps), statistics over ``axes`` (biased var);
    with g = dy·w: dx = rstd·(g - mean(g) - x̂·mean(g·x̂)), dw = Σ dy·x̂, db = Σ dy.

    ``w`` and ``b`` (either may be None) come already shaped to broadcast against x; the
    engine sums their gradients down to those shapes. Forward keeps x̂, 1/√(var + eps) and
    the batch statistics (batch norm's running averages read them).
    """

    save_inputs = True
    input_names = ("input", "weight")  # grad_fn._saved_input, as PyTorch's native norms

    def __init__(self, axes: tuple, eps: float):
        self.axes, self.eps = axes, eps

    @dtypes.computed_in_float32  # statistics of bfloat16 inputs in float32, as PyTorch
    def forward(self, x, w, b):
        xp = self.xp
        mean = _mean(xp, x, self.axes)
        xhat = x - mean
        var = _mean(xp, xp.square(xhat), self.axes)
        rstd = 1.0 / xp.sqrt(var + self.eps)
        xhat *= rstd
        self.keep(xhat=xhat, rstd=rstd, mean=mean, var=var)
        if w is None:
            y = xhat.copy()  # what is kept must not alias the output, which callers may modify
        else:
            y = xhat * w
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        x, w, _ = self.saved
        kept = self.kept_arrays
        if _plain_backward(gy, kept):
            return self._array_backward(gy, w, kept["xhat"], kept["rstd"])
        xhat, rstd = self.reuse(("xhat", "rstd"), lambda: self._statistics(x), x)
        need_x, need_w, need_b = self.needs_input_grad
        gx = gw = None
        if need_x:
            g = gy if w is None else gy * w
            mean_g = g.mean(self.axes, keepdim=True)
            mean_gx = (g * xhat).mean(self.axes, keepdim=True)
            gx = (g - mean_g - xhat * mean_gx) * rstd
        if need_w:
            gw = gy * xhat
        return gx, gw, (gy if need_b else None)

    def _array_backward(self, gy, w, xhat, rstd):
        """The backward above on arrays (no graph recorded): the same formulas, in place where
        a temporary is new, and dw, db summed down to the parameters' shapes here."""
        need_x, need_w, need_b = self.needs_input_grad
        dy, axes, device = gy._data, self.axes, self.device
        gx = gw = gb = None
        if need_x:
            count = math.prod(xhat.shape[a] for a in axes)
            g = dy if w is None else dy * w._data
            mean_g = g.sum(axis=axes, keepdims=True) / count
            gxhat = g * xhat
            mean_gx = gxhat.sum(axis=axes, keepdims=True) / count
            gx = g - mean_g
            gx -= self.xp.multiply(xhat, mean_gx, out=gxhat)
            gx *= rstd
            gx = constant(gx, device)
        if need_w:
            gw = graph.mark_adoptable(constant(summed_to(dy * xhat, self.input_meta[1][0]), device))
        if need_b:
            gb = graph.mark_adoptable(constant(summed_to(dy, self.input_meta[2][0]), device), dy)
        return gx, gw, gb

    def _statistics(self, x):
        """(x̂, rstd) with tensor ops, as functions of x (for a differentiable backward)."""
        centered = x - x.mean(self.axes, keepdim=True)
        rstd = ((centered * centered).mean(self.axes, keepdim=True) + self.eps).rsqrt()
        return centered * rstd, rstd


class LayerNormOp(_Normalize):
    """Layer norm: statistics over the trailing normalized dims (see :class:`_Normalize`).

    On a GPU (float32/float64) forward and plain backward are fused kernels
    (``minigrad._fused``) computing the same formulas; forward then keeps only the mean and
    1/√(var + eps) per row, and backward recomputes x̂ from them (under ``create_graph`` it
    recomputes x̂ with tensor ops, as on the unfused path).
    """

    input_names = ("input", "weight", "bias")  # (PyTorch's layer norm saves its bias too)

    backward_name = "NativeLayerNormBackward0"

    def forward(self, x, w, b):
        kit = self.device.backend.fused
        if kit is None or not kit.supports(x, w, b):
            return super().forward(x, w, b)
        rows = _rows(x, self.axes)
        flat = (None if t is None else t.reshape(-1) for t in (w, b))
        y, mean, rstd = kit.layer_norm(x.reshape(rows), *flat, self.eps)
        self.keep(row_mean=mean, row_rstd=rstd)
        return y.reshape(x.shape)

    def backward(self, gy):
        kit, kept = self.device.backend.fused, self.kept_arrays
        x, w, _ = self.saved
        arrays = (gy._data, x._data, None if w is None else w._data)
        if kit is None or "row_rstd" not in kept or grad_mode.is_grad_enabled():
            return super().backward(gy)
        if not kit.supports(*arrays):
            return super().backward(gy)
        need_x, need_w, need_b = self.needs_input_grad
        rows = _rows(x._data, self.axes)
        gx, gw, gb = kit.layer_norm_backward(
            gy._data.reshape(rows), x._data.reshape(rows), None if w is None else w._data.reshape(-1),
            kept["row_mean"], kept["row_rstd"], need_x, need_w or need_b,
        )  # fmt: skip
        device, shape = x.device, x.shape[x.ndim - len(self.axes) :]
        return (
            None if gx is None else constant(gx.reshape(x.shape), device),
            constant(gw.reshape(shape), device) if need_w else None,
            constant(gb.reshape(shape), device) if need_b else None,
        )


def _plain_backward(gy, kept) -> bool:
    """Whether a normalization's backward may run on arrays: no graph recorded, no tangents,
    forward's x̂ kept, and a non-empty float32/float64 gradient."""
    if grad_mode._state.enabled or forward_ad.active or kept.get("xhat") is None:
        return False
    dy = gy._data
    return dy.size > 0 and dy.dtype.kind == "f" and dy.dtype.itemsize >= 4


def _rows(x, axes: tuple) -> tuple:
    """The (rows, n) shape of ``x`` with its trailing ``axes`` flattened into n."""
    n = math.prod(x.shape[a] for a in axes)
    return (x.size // n if n else 0, n)


class BatchNormOp(_Normalize):
    """Batch norm in training mode: statistics per channel over batch and spatial dims."""

    backward_name = "NativeBatchNormBackward0"


class GroupNormOp(_Normalize):
    """Group norm: statistics per (sample, group) over the group's channels and spatial dims."""

    backward_name = "NativeGroupNormBackward0"


def layer_norm_shape_error(normalized_shape, input_shape) -> str:
    """PyTorch's words for an input whose trailing dims are not ``normalized_shape`` (or an
    empty ``normalized_shape``)."""
    shape = list(normalized_shape)
    if not shape:
        return (
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least "
            "one element, but got normalized_shape = []"
        )
    return (
        f"Given normalized_shape={shape}, expected input with shape "
        f"[*, {', '.join(map(str, shape))}], but got input of size{list(input_shape)}"
    )


@kernel_dtypes("LayerNormKernelImpl")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalize over the last ``len(normalized_shape)`` dims, then scale and shift.

    Args:
        input: tensor of shape (*, *normalized_shape).
        normalized_shape: the trailing shape to normalize over (an int or a tuple).
        weight, bias: optional tensors of shape ``normalized_shape``.
        eps: added to the variance.

    Example:
        >>> y = F.layer_norm(minigrad.randn(2, 5, 8), (8,))
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.ndim - k :]) != shape or input.ndim < k:
        raise RuntimeError(layer_norm_shape_error(shape, input.shape))
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(
                f"layer_norm: expected {name} of shape {list(shape)}, got {list(t.shape)}"
            )
    axes = tuple(range(input.ndim - k, input.ndim))
    if _sixteen_bit(input):  # as PyTorch: in float32, the input's dtype out
        weight, bias = (None if t is None else t.float() for t in (weight, bias))
        return LayerNormOp(axes, eps)(input.float(), weight, bias).to(input.dtype)
    return LayerNormOp(axes, eps)(input, weight, bias)


def _sixteen_bit(input) -> bool:
    """A float16/bfloat16 input: PyTorch normalizes it in float32, affine map included (its
    weights may be float32 or 16-bit), and rounds once to the input's dtype."""
    return input.dtype in (dtypes.float16, dtypes.bfloat16)


def _channel_param(t, ndim: int):
    """A per-channel (C,) tensor reshaped to broadcast against (N, C, *spatial)."""
    return None if t is None else t.reshape((1, -1) + (1,) * (ndim - 2))


@real_only
def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
):
    """Batch norm over (N, C) or (N, C, *spatial) inputs, per channel C.

    In training (or without running statistics) it normalizes with the batch mean and the
    biased batch variance, and updates ``running_mean``/``running_var`` in place (unbiased
    variance) as ``running = (1 - momentum)·running + momentum·batch``. In evaluation it
    normalizes with the running statistics. ``eps`` must be positive in training and
    non-negative in evaluation (a ``ValueError``, as PyTorch's; ``torch.batch_norm`` takes any).

    Example:
        >>> rm, rv = minigrad.zeros(3), minigrad.ones(3)
        >>> y = F.batch_norm(minigrad.randn(8, 3), rm, rv, training=True)
    """
    if isinstance(input, graph.Tensor) and input.ndim >= 2:  # after PyTorch's batch-size check
        if training and eps <= 0.0 and _values_per_channel(input) != 1:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
        if eps < 0.0:
            raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def _values_per_channel(input) -> int:
    """N times the spatial sizes: how many values batch norm averages per channel."""
    return input.shape[0] * math.prod(input.shape[2:])


@real_only
@kernel_dtypes("batch_norm", min_ndim=2)  # (a 0-d or 1-d input: its IndexError first)
def _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps):
    """ATen's ``batch_norm``: :func:`batch_norm` without its checks of ``eps``."""
    if input.ndim < 2:
        raise backend.DimensionError(
            f"batch_norm: expected input of shape (N, C) or (N, C, *), got {list(input.shape)}"
        )
    evaluating = not training and running_mean is not None and running_var is not None
    _check_channel_params(input, running_mean, running_var, weight, bias, evaluating)
    weight, bias = _channel_param(weight, input.ndim), _channel_param(bias, input.ndim)
    if not training and running_mean is not None and running_var is not None:
        return _batch_norm_eval(input, running_mean, running_var, weight, bias, eps)
    axes = (0,) + tuple(range(2, input.ndim))
    count = _values_per_channel(input)
    if count == 0:  # an empty batch: an empty output, the running statistics left as they are
        return _batch_norm_eval(input, input.new_zeros(()), input.new_ones(()), weight, bias, 0)
    if count == 1:  # (PyTorch's _verify_batch_size)
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {input.shape}"
        )
    op = BatchNormOp(axes, eps)
    out = op(input, weight, bias)
    if training and running_mean is not None:
        _update_running(op.kept_arrays, running_mean, running_var, momentum, count)
    return out


def _check_channel_params(input, running_mean, running_var, weight, bias, evaluating) -> None:
    """PyTorch's checks of batch norm's per-channel tensors: C elements each; of an empty
    input, one of none that is used (the running statistics in evaluation only) fails first
    where its kernel selects channel 0 (an IndexError)."""
    named = {"weight": weight, "bias": bias, "running_mean": running_mean}
    named["running_var"] = running_var
    given = {n: t for n, t in named.items() if t is not None}
    if input.numel() == 0:
        for name, t in given.items():
            if t.numel() == 0 and (evaluating or not name.startswith("running")):
                raise IndexError(
                    f"batch_norm: {name} is empty: select(): index 0 out of range for tensor of "
                    f"size [0] at dimension 0"
                )
        return
    channels = input.shape[1]
    for name in ("running_mean", "running_var", "weight", "bias"):
        if name in given and given[name].numel() != channels:
            raise RuntimeError(
                f"batch_norm: {name} should contain {channels} elements not {given[name].numel()}"
            )


def _batch_norm_eval(input, running_mean, running_var, weight, bias, eps):
    shape = (1, -1) + (1,) * (input.ndim - 2)
    scale = (running_var + eps).rsqrt().reshape(shape)
    if weight is not None:
        scale = scale * weight
    shift = -running_mean.reshape(shape) * scale
    if bias is not None:
        shift = shift + bias
    out = input * scale + shift
    if out.dtype != input.dtype and _sixteen_bit(input):  # float32 statistics: computed in
        out = out.to(input.dtype)  # float32, the input's dtype out, as PyTorch's mixed kernel
    return named_as(out, "NativeBatchNormBackward0")


def _update_running(kept, running_mean, running_var, momentum, count):
    mean, var = kept["mean"], kept["var"]
    device = running_mean.device
    with no_grad(), backend.on(device):  # the array math below runs on the stats' GPU
        running_mean.mul_(1.0 - momentum).add_(_stat(mean * momentum, running_mean))
        if running_var is not None:
            unbiased = var * (momentum * count / (count - 1))
            running_var.mul_(1.0 - momentum).add_(_stat(unbiased, running_var))


def _stat(array, running):
    """A batch statistic (an array) as a tensor laid out as ``running``: under vmap, the
    statistics of every sample, batched as ``running`` is (per-sample running statistics)."""
    from ...func._batched import physical, rewrap

    if array.size == running.numel():
        return constant(array.reshape(-1), running.device)
    shape = tuple(physical(running).shape)
    if array.size != math.prod(shape):
        raise RuntimeError(
            "vmap: batch_norm in training mode cannot update running_mean/running_var that are "
            "the same for every sample from per-sample statistics (as PyTorch); batch the "
            "running statistics too, or pass None"
        )
    return rewrap(running, constant(array.reshape(shape), running.device))


@kernel_dtypes("GroupNormKernelImpl")
def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Normalize (N, C, *) inputs over groups of C / num_groups channels, then scale and shift
    per channel.

    Example:
        >>> y = F.group_norm(minigrad.randn(2, 6, 4), num_groups=3)
    """
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise RuntimeError(
            f"group_norm: expected input of shape (N, C, *) with C divisible by "
            f"num_groups={num_groups}, got input of shape {list(input.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.numel() != input.shape[1]):
            raise RuntimeError(
                f"group_norm: Expected {name} to be a vector of size equal to the number of "
                f"channels in input, but got {name} of shape {list(t.shape)} and input of shape "
                f"{list(input.shape)}"
            )
    if _sixteen_bit(input):  # as PyTorch: in float32, the input's dtype out
        weight, bias = (None if t is None else t.float() for t in (weight, bias))
        return group_norm(input.float(), num_groups, weight, bias, eps).to(input.dtype)
    n = input.shape[0]
    per_group = input.shape[1] // num_groups * math.prod(input.shape[2:])
    grouped = input.reshape(n, num_groups, per_group)  # (-1 is ambiguous for n = 0)
    out = GroupNormOp((2,), eps)(grouped, None, None).reshape(input.shape)
    if weight is not None:
        out = out * _channel_param(weight, input.ndim)
    if bias is not None:
        out = out + _channel_param(bias, input.ndim)
    return named_as(keep_layout(input, out), "NativeGroupNormBackward0")


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None):
    """``input / max(‖input‖_p, eps)`` along ``dim``.

    Example:
        >>> F.normalize(minigrad.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """
    if out is not None:
        raise NotImplementedError("normalize: the out= argument is not supported")
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)
