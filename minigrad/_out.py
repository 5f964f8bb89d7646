"""The ``out=`` keyword of PyTorch's functions: ``torch.mul(a, b, out=c)`` writes into ``c``.

minigrad's functions compute a new tensor; :func:`install` wraps the top-level ones that take
``out=`` in PyTorch so that the result is then copied into ``out`` (cast to its dtype, which
must be one the result can be cast to; resized, with PyTorch's warning, when its shape differs
and it is not empty), and ``out`` is returned. As in PyTorch, ``out=`` does not record
gradients: it raises when an argument requires grad while grad mode is on.
"""

from __future__ import annotations

import functools

from . import dtypes
from ._warnings import warn_user
from .autograd import grad_mode
from .autograd.graph import version_counter
from .tensor import Tensor

# PyTorch's functions with an ``out=`` argument that minigrad has at the top level
NAMES = (
    "abs acos acosh add addbmm addcdiv addcmul addmm addmv addr all amax amin angle any arange "
    "argmax argmin asin chain_matmul greater greater_equal less less_equal nonzero not_equal "
    "asinh atan atan2 atanh baddbmm bernoulli bitwise_and bitwise_left_shift bitwise_not bitwise_or "
    "bitwise_right_shift bitwise_xor bmm bucketize cat ceil cholesky cholesky_inverse "
    "cholesky_solve clamp column_stack conj_physical copysign cos cosh cross cummax cummin cumprod "
    "cumsum deg2rad diag diff div dot dstack empty eq exp eye float_power floor floor_divide fmax "
    "fmin fmod frexp full gather gcd ge gt heaviside histc histogram hstack hypot index_select "
    "inner isneginf isposinf kron kthvalue lcm ldexp le lerp lgamma linspace log log10 log1p log2 "
    "logaddexp logaddexp2 logcumsumexp logical_and logical_not logical_or logical_xor logspace "
    "logsumexp lt masked_select matmul max maximum mean min minimum mm mode msort mul multinomial "
    "mv nan_to_num nanmean nanquantile narrow_copy ne neg nextafter norm normal ones outer pow qr "
    "quantile rad2deg rand randint randn randperm reciprocal remainder renorm round rsqrt "
    "searchsorted sgn sign signbit sin sinh sort sqrt square stack std std_mean sub svd "
    "take_along_dim tan tanh topk tril triu trunc var var_mean vdot vstack where zeros"
).split()

# ``torch.linalg``'s functions with an ``out=`` argument (gpytorch passes ``out=None``)
LINALG_NAMES = (
    "cholesky cholesky_ex cond cross det eig eigh eigvals eigvalsh householder_product inv inv_ex "
    "ldl_factor ldl_factor_ex ldl_solve lu lu_factor lu_factor_ex lu_solve matmul matrix_norm "
    "matrix_power matrix_rank multi_dot norm pinv qr slogdet solve solve_ex solve_triangular svd "
    "svdvals tensorinv tensorsolve vecdot vector_norm"
).split()

# functions whose ``out=`` computes in out's dtype when no dtype is given, as PyTorch's do
# (``cumsum(x, 0, out=long_tensor)`` casts x first, as ``dtype=`` would)
IN_OUT_DTYPE = ("cumsum", "cumprod")

# functions whose bool result PyTorch writes only into a bool ``out``
BOOL_OUT = ("all", "any", "isneginf", "isposinf", "signbit")


def with_out(fn):
    """``fn`` taking PyTorch's ``out=`` keyword (see the module docstring); a function's own
    ``check_out(out, **kwargs)`` attribute, when it has one, checks ``out`` first."""

    @functools.wraps(fn)
    def call(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        in_out_dtype = getattr(fn, "draws_in_out_dtype", False) or fn.__name__ in IN_OUT_DTYPE
        if in_out_dtype and kwargs.get("dtype") is None:
            kwargs["dtype"] = getattr(out, "dtype", None)  # random factories: out's numbers
        check = getattr(fn, "check_out", None)
        if check is not None:
            check(out, **kwargs)
        result = fn(*args, **kwargs)
        if isinstance(result, Tensor):
            return _write(out, result, fn.__name__)
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(
                f"{fn.__name__}(): argument 'out' must be a tuple of {len(result)} Tensors"
            )
        written = [_write(o, r, fn.__name__) for o, r in zip(out, result)]
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)

    return call


def _write(out, result, name: str):
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if grad_mode.is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            f"differentiation, but one of the arguments requires grad."
        )
    if name in BOOL_OUT and result.dtype is dtypes.bool and out.dtype is not dtypes.bool:
        raise RuntimeError(
            f"{name} only supports bool tensor for result, got: "
            f"{dtypes.scalar_type_name(out.dtype)} (it does not support non-boolean outputs)"
        )
    if dtypes.category(result.dtype) > dtypes.category(out.dtype):
        raise RuntimeError(
            f"{name}(): result type {dtypes.scalar_type_name(result.dtype)} can't be cast to "
            f"the desired output type {dtypes.scalar_type_name(out.dtype)}"
        )
    if out.device is not result.device:
        raise RuntimeError(
            f"{name}(): expected out on {result.device}, the device of the result, but got "
            f"{out.device}"
        )
    if tuple(out.shape) != tuple(result.shape):
        if out.numel():
            warn_user(
                f"An output with one or more elements was resized since it had shape "
                f"{list(out.shape)}, which does not match the required output shape "
                f"{list(result.shape)}. This behavior is deprecated, and in a future PyTorch "
                f"release outputs will not be resized unless they have zero elements.",
                UserWarning,
            )
        out._data = result._data.astype(out._data.dtype, copy=True)  # new storage, new shape
        version_counter(out).value += 1
        return out
    with grad_mode.no_grad():
        out.copy_(result)
    return out


def install(namespace: dict, names=NAMES) -> None:
    """Replace each function of ``names`` (:data:`NAMES`, or :data:`LINALG_NAMES` for
    ``linalg``) in ``namespace`` (and every alias bound to the same function, such as
    ``multiply`` for ``mul``) by its ``out=``-taking wrapper."""
    wrapped = {}
    for name in names:
        fn = namespace[name]
        wrapped[id(fn)] = with_out(fn)
    for name, value in list(namespace.items()):
        if not name.startswith("_") and id(value) in wrapped:
            namespace[name] = wrapped[id(value)]
