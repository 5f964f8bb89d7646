"""More activations, composed from differentiable primitives: CELU, SELU, the shrinks,
hardsigmoid/hardswish, threshold, PReLU, RReLU, and the in-place ``F.<name>_`` forms.

Each formula is PyTorch's, elementwise and exact, so the gradients come from the primitives
(``where`` sends no gradient to the branch it did not pick)."""

from __future__ import annotations

from ... import backend, dtypes, ops
from ...autograd import graph
from ...autograd.graph import named_as
from ...ops.activation import hardsigmoid as _hardsigmoid
from ...ops.base import (
    autocast_op,
    check_number_arg,
    coefficient,
    constant,
    kernel_dtypes,
    refuse_dtype,
)
from ...ops.elementwise import linked_where
from ._utils import maybe_inplace
from .activation import _hardtanh, elu, leaky_relu, relu

# SELU's constants (Klambauer et al., 2017), as PyTorch writes them
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@kernel_dtypes("elu_cpu")
def celu(input, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, else alpha·(exp(x/alpha) - 1).

    Example:
        >>> F.celu(minigrad.tensor([-1.0, 2.0]), alpha=2.0)
        tensor([-0.7869,  2.0000])
    """
    if alpha == 0:
        raise RuntimeError("celu: ZeroDivisionError: alpha cannot be 0 for CELU")
    # expm1 of the non-positive part only: the unpicked branch stays finite for large x
    return maybe_inplace(
        lambda x: ops.where(x > 0, x, ops.expm1(x.clamp(max=0) / alpha) * alpha),
        input,
        inplace,
        ("CeluBackward0", "CeluBackward1"),
    )


@kernel_dtypes("elu_cpu")
def selu(input, inplace: bool = False):
    """scale·elu(x, alpha) with the self-normalizing constants ``SELU_SCALE``, ``SELU_ALPHA``."""
    names = ("EluBackward0", "EluBackward1")  # (PyTorch: an elu with selu's scales)
    return maybe_inplace(lambda x: ops.elu(x, SELU_ALPHA) * SELU_SCALE, input, inplace, names)


@kernel_dtypes("hardshrink_cpu")
def hardshrink(input, lambd: float = 0.5):
    """x where |x| > lambd, else 0."""
    inside = (input >= -lambd) & (input <= lambd)  # NaN is outside: it passes, as PyTorch
    return named_as(linked_where(inside, 0.0, input), "HardshrinkBackward0")


@kernel_dtypes("softshrink_check")
def softshrink(input, lambd: float = 0.5):
    """x - lambd where x > lambd, x + lambd where x < -lambd, else 0 (= x - clamp(x, ±lambd))."""
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found {lambd}")
    inside = (input >= -lambd) & (input <= lambd)  # NaN is outside: it passes, as PyTorch
    zero = (input * 0.0).detach()  # PyTorch's x·0 inside: -0.0 for negative x
    return named_as(
        linked_where(inside, zero, input - input.clamp(-lambd, lambd)), "SoftshrinkBackward0"
    )


def hardsigmoid(input, inplace: bool = False):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between (gradient 1/6 strictly
    between, 0 at ±3, as PyTorch); its gradient is not differentiable again, as PyTorch's.
    A quantized input runs PyTorch's quantized kernel (output on the fixed grid of [0, 1])."""
    if getattr(input, "is_quantized", False):
        from ...ao.nn.quantized.functional import hardsigmoid as quantized_hardsigmoid

        return quantized_hardsigmoid(input, inplace)
    if isinstance(input, graph.Tensor):  # (as kernel_dtypes, after the quantized route)
        refuse_dtype(input.dtype, "hardsigmoid_cpu", "hardsigmoid")
    return maybe_inplace(_hardsigmoid, input, inplace, ("HardsigmoidBackward0",) * 2)


@kernel_dtypes("hardswish_cpu")
def hardswish(input, inplace: bool = False):
    """x·relu6(x + 3) / 6, with PyTorch's gradient at the kinks: 0 at -3, 1 at 3."""

    def fn(x):
        middle = (x > -3.0) & (x < 3.0)  # NaN falls to the identity branch, as in PyTorch
        xm = ops.where(middle, x, 0.0)  # the unpicked branch must not turn NaN into NaN grads
        return ops.where(x <= -3.0, x * 0.0, ops.where(middle, xm * (xm + 3.0) / 6.0, x))

    return maybe_inplace(fn, input, inplace, ("HardswishBackward0", "HardswishBackward0"))


def tanhshrink(input):
    """x - tanh(x)."""
    return input - input.tanh()


@kernel_dtypes("threshold_cpu", bools_only=True)
def threshold(input, threshold: float, value: float, inplace: bool = False):
    """x where x > threshold, else ``value``."""
    names = ("ThresholdBackward0", "ThresholdBackward1")
    check_number_arg(threshold, "threshold", "threshold", "Number", 1)
    check_number_arg(value, "threshold", "value", "Number", 2)
    threshold = coefficient(threshold, input, op="threshold")  # integers: truncated, as PyTorch
    value = coefficient(value, input, op="threshold")
    return maybe_inplace(lambda x: linked_where(x <= threshold, value, x), input, inplace, names)


_threshold = threshold  # for threshold_, whose argument shadows the name


@autocast_op("prelu")
@kernel_dtypes("prelu_cpu")
def prelu(input, weight):
    """x where x > 0, else weight·x, with one learned slope per channel (dim 1) or one in all.

    Args:
        input: (N, C, *) when ``weight`` has C > 1 entries; any shape when it has one.
        weight: a 0-d or 1-D tensor of 1 or C slopes.
    """
    if weight.ndim > 1:
        raise RuntimeError(
            f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}"
        )
    if weight.dtype is not input.dtype:
        names = dtypes.scalar_type_name(input.dtype), dtypes.scalar_type_name(weight.dtype)
        raise RuntimeError("prelu: Type promoting not supported. Got {} and {}".format(*names))
    count = weight.numel()
    if count != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if channels != count:
            raise RuntimeError(
                "prelu: Mismatch of parameter numbers and input channel size. Found parameter "
                f"numbers = {count} and channel size = {channels}."
            )
        weight = weight.reshape((count,) + (1,) * (input.ndim - 2))
    elif weight.ndim:
        weight = weight.reshape(())
    return named_as(linked_where(input > 0, input, weight * input), "PreluKernelBackward0")


def _check_rrelu_bounds(lower: float, upper: float) -> None:
    if lower > upper:
        raise RuntimeError(
            f"rrelu: Lower bound should be less than or equal to the upper bound, got "
            f"lower={lower} and upper={upper}"
        )


@kernel_dtypes("leaky_relu_cpu")
def rrelu(
    input,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
):
    """Randomized leaky ReLU: in training each x <= 0 is multiplied by a fresh slope drawn
    uniformly from [lower, upper) (the input device's generator); in evaluation the slope is
    (lower + upper) / 2, i.e. ``leaky_relu``."""
    check_number_arg(lower, "rrelu", "lower", "Number", 1)
    check_number_arg(upper, "rrelu", "upper", "Number", 2)
    _check_rrelu_bounds(lower, upper)
    names = ("RreluWithNoiseBackward0", "RreluWithNoiseBackward1")
    if not training:  # (PyTorch's node is rrelu's in evaluation too)
        return named_as(leaky_relu(input, (lower + upper) / 2, inplace), names[inplace])
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"rrelu: expected a floating point input, got {input.dtype}")
    np_dtype, dev = input._data.dtype, input.device
    negative = input.detach() <= 0

    def make(shape):
        # as PyTorch: one slope drawn for each x <= 0 only, in order; 1 elsewhere
        gen = backend.default_generator(dev)
        with backend.on(dev):  # the slopes are drawn on the input's GPU
            if shape != tuple(input.shape):  # vmap: a slope for every element of each sample
                return constant(gen.uniform_doubles(shape, np_dtype, lower, upper), dev)
            count = int(negative._data.sum())
            slopes = dev.xp.ones(shape, dtype=np_dtype)
            slopes[negative._data] = gen.uniform_doubles((count,), np_dtype, lower, upper)
            return constant(slopes, dev)

    slopes = backend.per_sample_draw(make, tuple(input.shape))
    # (linked_where: the input stays in a recorded backward's graph, as PyTorch's)
    return maybe_inplace(lambda x: linked_where(x <= 0, x * slopes, x), input, inplace, names)


# -- the in-place forms, as torch.nn.functional has them ----------------------------------------


def relu_(input):
    """``relu`` written into ``input``."""
    return relu(input, inplace=True)


def elu_(input, alpha: float = 1.0):
    """``elu`` written into ``input``."""
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope: float = 0.01):
    """``leaky_relu`` written into ``input``."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val: float = -1.0, max_val: float = 1.0):
    """``hardtanh`` written into ``input`` (with no ``min_val <= max_val`` check, as PyTorch's)."""
    return _hardtanh(input, min_val, max_val, inplace=True)


def selu_(input):
    """``selu`` written into ``input``."""
    return selu(input, inplace=True)


def celu_(input, alpha: float = 1.0):
    """``celu`` written into ``input``."""
    return celu(input, alpha, inplace=True)


def threshold_(input, threshold: float, value: float):
    """``threshold`` written into ``input``."""
    return _threshold(input, threshold, value, inplace=True)


def rrelu_(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False):
    """``rrelu`` written into ``input``."""
    return rrelu(input, lower, upper, training, inplace=True)


def gumbel_softmax(logits, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1):
    """Samples from the Gumbel-softmax (concrete) distribution over the classes along ``dim``.

    ``softmax((logits + g) / tau)`` with ``g = -log(E)``, ``E ~ Exponential(1)`` (standard Gumbel
    noise), as PyTorch draws it. With ``hard=True`` the result is the one-hot vector of its
    argmax in the forward pass, with the gradient of the soft sample (straight-through:
    ``y_hard - y_soft.detach() + y_soft``). ``eps`` is unused, as in PyTorch.

    Example:
        >>> y = F.gumbel_softmax(minigrad.randn(2, 5), tau=0.5, hard=True)
        >>> y.sum(-1).tolist()
        [1.0, 1.0]
    """
    gumbels = -logits.new_empty(logits.shape).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = logits.new_zeros(logits.shape).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
