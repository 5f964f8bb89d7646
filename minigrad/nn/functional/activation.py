"""Activation functions (softmax and log-softmax are fused ops in ``minigrad.ops.nn``)."""

from __future__ import annotations

from ... import ops
from ...autograd.graph import named_as
from ...ops.base import check_dtype_arg, coefficient, kernel_dtypes, normalize_dim
from ...ops.complex import real_only
from ...ops.elementwise import linked_where
from ...ops.nn import log_softmax, softmax  # noqa: F401 - F.log_softmax / F.softmax live here too
from ._utils import maybe_inplace


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    check_dtype_arg(dtype, "softmin")
    if dtype is not None:
        input = input.to(dtype)
    return softmax(-input, dim)


def relu(input, inplace: bool = False):
    """max(x, 0) elementwise (relu'(0) = 0, as PyTorch).

    Example:
        >>> F.relu(minigrad.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    if not inplace:  # (maybe_inplace's first case, without its call)
        return ops.relu(input)
    return maybe_inplace(ops.relu, input, inplace, (None, "ReluBackward0"))  # (ReLUOp's name)


def relu6(input, inplace: bool = False):
    """min(max(x, 0), 6) elementwise."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """x clamped to [min_val, max_val]; the gradient is 1 strictly inside and 0 at the bounds
    and beyond, as PyTorch's (``clamp``'s is 1 at the bounds)."""
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val cannot be greater than max_val (got min_val={min_val}, "
            f"max_val={max_val})"
        )
    return _hardtanh(input, min_val, max_val, inplace)


def _hardtanh(input, min_val: float, max_val: float, inplace: bool):
    """:func:`hardtanh` without its ``min_val <= max_val`` check, as PyTorch's ``hardtanh_``
    (its kernel clamps to ``max_val`` then)."""
    names = ("HardtanhBackward0", "HardtanhBackward0")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):  # PyTorch's integer rules
        if input.dtype.name == "bool":
            raise RuntimeError("hardtanh: Bool inputs not supported for hardtanh")
        # (the limits in the input's type first: -0.5 truncates to 0)
        if input.dtype.name == "uint8" and (int(min_val) < 0 or int(max_val) < 0):
            raise RuntimeError(
                "hardtanh: cannot do hardtanh on an unsigned type with negative limits"
            )
        min_val, max_val = coefficient(int(min_val), input), coefficient(int(max_val), input)
    return maybe_inplace(lambda x: _open_clamp(x, min_val, max_val), input, inplace, names)


def _open_clamp(x, low: float, high: float):
    """``clamp(x, low, high)`` whose gradient is 0 at ``low`` and ``high`` (a kink belongs to
    the flat side, as in PyTorch's hardtanh, relu6 and hardsigmoid)."""
    outside = (x <= low) | (x >= high)  # NaN is inside: it passes through with gradient 1
    return linked_where(outside, ops.clamp(x, low, high).detach(), x)  # (PyTorch's zero link)


@kernel_dtypes("leaky_relu_cpu")
def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """x where x > 0, else negative_slope·x."""
    names = ("LeakyReluBackward0", "LeakyReluBackward1")
    return maybe_inplace(lambda x: ops.leaky_relu(x, negative_slope), input, inplace, names)


@kernel_dtypes("elu_cpu")
def elu(input, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, else alpha·(exp(x) - 1)."""
    names = ("EluBackward0", "EluBackward1")
    return maybe_inplace(lambda x: ops.elu(x, alpha), input, inplace, names)


@kernel_dtypes("GeluKernelImpl")
def gelu(input, approximate: str = "none"):
    """x·Φ(x) (``approximate='none'``) or its tanh approximation (``'tanh'``)."""
    return ops.gelu(input, approximate)


@kernel_dtypes("silu_cpu")
def silu(input, inplace: bool = False):
    """x·sigmoid(x) (also called swish)."""
    return maybe_inplace(ops.silu, input, inplace, ("SiluBackward0", "SiluBackward0"))


@kernel_dtypes("mish_cpu")
def mish(input, inplace: bool = False):
    """x·tanh(softplus(x))."""
    names = ("MishBackward0", "MishBackward0")
    return maybe_inplace(lambda x: x * ops.softplus(x).tanh(), input, inplace, names)


@kernel_dtypes("softplus_cpu")
def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta·x)) / beta, and x itself where beta·x > threshold."""
    return ops.softplus(input, beta, threshold)


def sigmoid(input):
    """1 / (1 + exp(-x)), stable for large |x|."""
    return ops.sigmoid(input)


def tanh(input):
    return ops.tanh(input)


@kernel_dtypes("log_sigmoid_cpu")
def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), finite for large |x|."""
    return named_as(-ops.softplus(-input), "LogSigmoidBackward0")


def softsign(input):
    """x / (1 + |x|)."""
    return input / (input.abs() + 1.0)


@real_only
@kernel_dtypes("glu_cpu")
def glu(input, dim: int = -1):
    """Gated linear unit: a·sigmoid(b), where a and b are the halves of ``input`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[normalize_dim(dim, input.ndim, "glu")]
    if size % 2:
        raise RuntimeError(
            f"glu: halving dimension must be even, but dimension {dim} is size {size}"
        )
    a, b = input.chunk(2, dim)
    return named_as(a * b.sigmoid(), "GluBackward0")
