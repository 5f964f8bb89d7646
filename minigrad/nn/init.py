"""Parameter initialisation (``torch.nn.init``): fill tensors in place, under ``no_grad``.

Every function takes the tensor first, changes it in place and returns it. Random ones accept
``generator=`` (a :func:`minigrad.Generator`); otherwise they draw from the default generator of
the tensor's device, so ``minigrad.manual_seed`` makes them reproducible.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from .._warnings import warn_user
from ..autograd.grad_mode import no_grad
from ..creation import randperm
from ..tensor import Tensor

__all__ = [
    "calculate_gain",
    "constant_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
    # -- branch optimutils
    "dirac_",
    "sparse_",
]

_LINEAR_GAIN = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table).

    linear/conv/sigmoid: 1; tanh: 5/3; relu: √2; leaky_relu: √(2/(1 + slope²)) (slope
    ``param``, default 0.01); selu: 3/4.

    Example:
        >>> nn.init.calculate_gain("relu")
        1.4142135623730951
    """
    if nonlinearity in _LINEAR_GAIN:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shaped (out, in, *kernel), as PyTorch computes them."""
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from U(a, b).

    Example:
        >>> nn.init.uniform_(minigrad.empty(3, 5), -0.1, 0.1)
    """
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from N(mean, std²)."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator=None,
) -> Tensor:
    """Fill with N(mean, std²) samples truncated to [a, b], drawn as PyTorch draws them.

    ``a`` and ``b`` are absolute bounds, as in PyTorch (not multiples of ``std``). Where [a, b]
    holds more than 30% of the normal's mass, whole tensors of normal numbers are drawn and the
    entries outside [a, b] replaced from the next tensor until none is left; otherwise
    candidates are drawn uniformly from [a, b] and accepted by comparing the log of a second
    uniform number with their log density (relative to its peak on [a, b]). Both rounds draw
    full tensors, so the generator advances as PyTorch's.

    Example:
        >>> nn.init.trunc_normal_(minigrad.empty(3, 5), std=0.02, a=-0.04, b=0.04)
    """
    if not a < b:  # (PyTorch's uniform_ refuses a > b: a RuntimeError)
        raise (RuntimeError if a > b else ValueError)(
            f"trunc_normal_: need a < b, got a={a}, b={b}"
        )
    if tensor.is_meta:  # no values to draw (as every init function on the meta device)
        return tensor
    if mean < a - 2 * std or mean > b + 2 * std:
        warn_user(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect."
        )
    mass = _normal_cdf((b - mean) / std) - _normal_cdf((a - mean) / std)
    with no_grad():
        if mass > 0.3:
            return _trunc_normal_by_redraw(tensor, mean, std, a, b, generator)
        return _trunc_normal_by_rejection(tensor, mean, std, a, b, generator)


def _normal_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def _trunc_normal_by_redraw(tensor, mean, std, a, b, generator):
    # the bounds compared in the tensor's dtype, as PyTorch
    low, high = (tensor.new_tensor(bound, device="cpu").item() for bound in (a, b))
    tensor.normal_(mean, std, generator=generator)
    while True:
        outside = (tensor < low) | (tensor > high)
        if not bool(outside.any()):
            return tensor
        redraw = tensor.new_empty(tensor.shape).normal_(mean, std, generator=generator)
        tensor.copy_(redraw.where(outside, tensor))


def _trunc_normal_by_rejection(tensor, mean, std, a, b, generator):
    log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2

    def log_density(values):  # in the tensor's dtype, PyTorch's order of operations
        return values.sub(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)

    def rejected(candidates):
        accept = tensor.new_empty(tensor.shape).uniform_(generator=generator)
        with np.errstate(divide="ignore"):  # log(0) = -inf accepts, silently as PyTorch
            accept = accept.log_()
        return accept > log_density(candidates)

    tensor.uniform_(a, b, generator=generator)
    pending = rejected(tensor)
    result = tensor
    while bool(pending.any()):
        candidates = tensor.new_empty(tensor.shape).uniform_(a, b, generator=generator)
        result = candidates.where(pending, result)
        pending = rejected(candidates).where(pending, pending)
    return tensor.copy_(result)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the value ``val``."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal)."""
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported, got {tensor.ndim}")
    xp = tensor.device.xp
    with backend.on(tensor.device):
        eye = Tensor._make(xp.eye(*tensor.shape, dtype=tensor._data.dtype), tensor.device)
    with no_grad():
        return tensor.copy_(eye)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain·√(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    # computed through the std, in PyTorch's order, so float64 bounds agree to the last bit
    bound = math.sqrt(3.0) * (gain * math.sqrt(2.0 / float(fan_in + fan_out)))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: N(0, std²) with std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    """He uniform: U(-bound, bound) with bound = gain·√(3 / fan), gain = calculate_gain(nonlinearity, a).

    Example:
        >>> w = minigrad.empty(3, 5)
        >>> nn.init.kaiming_uniform_(w, mode="fan_in", nonlinearity="relu")
    """
    if 0 in tensor.shape:
        warn_user("Initializing zero-element tensors is a no-op")
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    # through the std, in PyTorch's order, so float64 bounds agree to the last bit
    bound = math.sqrt(3.0) * (calculate_gain(nonlinearity, a) / math.sqrt(fan))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    """He normal: N(0, std²) with std = gain / √fan."""
    if 0 in tensor.shape:
        warn_user("Initializing zero-element tensors is a no-op")
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator=None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix from the QR decomposition of a normal matrix.

    Tensors with more than 2 dims are treated as (shape[0], rest) matrices.
    """
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0 or tensor.is_meta:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = tensor.new_empty((rows, cols)).normal_(0.0, 1.0, generator=generator)
    if rows < cols:
        flat = flat.t()
    xp = tensor.device.xp
    with backend.on(tensor.device):  # on the tensor's GPU (cuda:1 and up)
        q, r = xp.linalg.qr(flat._data)
        q = q * xp.sign(xp.diagonal(r))  # make the decomposition unique
        if rows < cols:
            q = q.T
        values = Tensor._make(xp.ascontiguousarray(q).reshape(tensor.shape) * gain, tensor.device)
    with no_grad():
        return tensor.copy_(values)


def layer_default_(weight: Tensor, bias: Tensor | None = None, generator=None) -> None:
    """PyTorch's default initialisation of Linear and Conv layers: weight from
    kaiming_uniform_(a=√5), bias from U(±1/√fan_in) (zeros when fan_in is 0)."""
    kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound, generator=generator)


# -- branch optimutils: dirac_, sparse_ ----------------------------------------------------------
def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta, as ``torch.nn.init.dirac_``.

    A convolution with this weight keeps its input channels (as many as fit in each of the
    ``groups`` groups of output channels): ones at the kernel's centre, zeros elsewhere.

    Raises:
        ValueError: ``tensor`` is not 3-, 4- or 5-D, or ``groups`` does not divide dim 0.
    """
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    if tensor.is_meta:
        return tensor
    per_group = sizes[0] // groups
    channels = min(per_group, sizes[1])
    xp = tensor.device.xp
    with backend.on(tensor.device):
        delta = xp.zeros(tensor.shape, dtype=tensor._data.dtype)
        centre = tuple(size // 2 for size in sizes[2:])
        for g in range(groups):
            for d in range(channels):
                delta[(g * per_group + d, d, *centre)] = 1
        delta = Tensor._make(delta, tensor.device)
    with no_grad():
        return tensor.copy_(delta)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """Fill a 2-D tensor from N(0, std²), then zero ``ceil(sparsity · rows)`` random entries of
    each column (Martens, 2010), as ``torch.nn.init.sparse_``.

    ``generator`` draws the normal numbers only: the rows to zero come from the default CPU
    generator (one ``randperm(rows)`` per column), as PyTorch draws them, so that the same
    seed zeroes the same entries.

    Raises:
        ValueError: ``tensor`` is not 2-D.
    """
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    if tensor.is_meta:
        return tensor
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    normal_(tensor, 0.0, std, generator)
    zero = [[False] * cols for _ in range(rows)]
    for col in range(cols):
        for row in randperm(rows).tolist()[:num_zeros]:
            zero[row][col] = True
    xp = tensor.device.xp
    with backend.on(tensor.device):
        mask = Tensor._make(xp.asarray(zero, dtype=bool), tensor.device)
    with no_grad():  # set to +0, as PyTorch's assignment (a product by 0 keeps the sign: -0.)
        return tensor.masked_fill_(mask, 0.0)


# -- deprecated names without the trailing underscore, as torch.nn.init keeps them ---------------


def _deprecated_alias(name: str):
    inplace = globals()[name + "_"]

    def alias(*args, **kwargs):
        warn_user(
            f"`nn.init.{name}` is now deprecated in favor of `nn.init.{name}_`.",
            FutureWarning,
        )
        return inplace(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = name
    alias.__doc__ = f"Deprecated: :func:`{name}_` (warns, then fills the tensor in place)."
    return alias


_DEPRECATED = (
    "uniform normal constant xavier_uniform xavier_normal kaiming_uniform kaiming_normal "
    "orthogonal sparse dirac eye"
).split()
globals().update({_name: _deprecated_alias(_name) for _name in _DEPRECATED})
