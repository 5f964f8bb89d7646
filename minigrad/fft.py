"""``minigrad.fft``: discrete Fourier transforms with PyTorch's names, arguments and results.

Every transform is differentiable, to any order (``create_graph``), with PyTorch's gradients
for complex numbers. Real inputs of the complex transforms become complex (float32 ->
complex64, float64 -> complex128, integers -> the default complex dtype); float16 and
bfloat16 are refused, as PyTorch's CPU transforms refuse them.

``n`` / ``s`` crop or zero-pad the input along the transformed dims before transforming;
``norm`` is ``"backward"`` (the default: no scale forward, 1/n on the inverse), ``"forward"``
(1/n forward) or ``"ortho"`` (1/√n both ways).
"""

from __future__ import annotations

import numpy as np

from . import dtypes
from .creation import tensor as _tensor
from .ops.base import autocast_op, normalize_dim
from .ops.complex import conj_physical as conj
from .ops.joining import pad
from .ops.spectral import FFT, IRFFT, NORMS, RFFT

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


# -- argument checks and preparation ------------------------------------------------------------


def _norm(norm) -> str:
    norm = "backward" if norm is None else norm
    if norm not in NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _one_dim(input, n, dim, op: str) -> tuple:
    """``((dim,), (n,) or None)`` for the 1-D transforms."""
    _refuse_half(input, op)
    if input.ndim == 0:
        raise IndexError(f"{op}: Dimension specified as {dim} but tensor has no dimensions")
    return (normalize_dim(dim, input.ndim, op),), None if n is None else (n,)


def _many_dims(input, s, dim, op: str, default_dims=None) -> tuple:
    """``(dims, sizes or None)`` for the n-D transforms, as PyTorch reads ``s`` and ``dim``:
    without ``dim``, the last ``len(s)`` dims, or all dims (``default_dims`` for the 2-D ones)."""
    if s is not None:
        s = (s,) if isinstance(s, int) else tuple(s)
    if dim is None:
        if s is not None:
            if len(s) > input.ndim:
                raise RuntimeError(
                    f"{op}: Got shape with {len(s)} values but input tensor only has "
                    f"{input.ndim} dimensions."
                )
            dim = tuple(range(input.ndim - len(s), input.ndim))
        else:
            dim = default_dims if default_dims is not None else tuple(range(input.ndim))
    dim = (dim,) if isinstance(dim, int) else tuple(dim)
    if s is not None and len(s) != len(dim):
        raise RuntimeError(f"{op}: When given, dim and shape arguments must have the same length")
    if input.ndim == 0 and dim:
        raise IndexError(f"{op}: Dimension specified as {dim[0]} but tensor has no dimensions")
    dims = tuple(normalize_dim(d, input.ndim, op) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{op}: FFT dims must be unique")
    return dims, s


def _sizes(input, dims, sizes, op: str) -> tuple:
    """The transform length along each dim: the given one (-1 keeps the input's), checked."""
    out = []
    for i, d in enumerate(dims):
        n = input.shape[d] if sizes is None or sizes[i] == -1 else sizes[i]
        if n < 1:
            raise RuntimeError(f"{op}: Invalid number of data points ({n}) specified")
        out.append(n)
    return tuple(out)


def _resized(x, dims, sizes):
    """``x`` cropped or zero-padded at the end of each of ``dims`` to ``sizes``."""
    widths = [0] * (2 * x.ndim)
    for d, n in zip(dims, sizes):
        widths[2 * (x.ndim - 1 - d) + 1] = n - x.shape[d]  # (pad: last dim first)
    return pad(x, widths) if any(widths) else x


def _refuse_half(x, op: str):
    """Refuse the real floating dtypes other than float32 and float64 (float16, bfloat16),
    before a 1-D transform reads its dim: PyTorch's order (a 0-d float16 input gets
    "Unsupported dtype Half", not the missing dim; the n-D transforms read their dims first)."""
    if x.dtype.is_floating_point and x.dtype not in (dtypes.float32, dtypes.float64):
        raise RuntimeError(
            f"{op}: Unsupported dtype {x.dtype} (PyTorch's CPU FFT takes float32 and float64)"
        )


def _real_input(x, op: str):
    """``x`` as a floating tensor for a real-input transform; complex and half refused."""
    if x.is_complex():
        raise RuntimeError(f"{op} expects a real input tensor, but got {x.dtype}")
    if not x.dtype.is_floating_point:
        x = x.to(dtypes.get_default_dtype())
    _refuse_half(x, op)
    return x


def _complex_input(x, op: str):
    """``x`` as a complex tensor for a complex-input transform."""
    if x.is_complex():
        return x
    return x.to(dtypes.to_complex(_real_input(x, op).dtype))


# -- complex-to-complex --------------------------------------------------------------------------


def _c2c(input, dims, sizes, norm, inverse: bool, op: str):
    x = _complex_input(input, op)
    x = _resized(x, dims, _sizes(x, dims, sizes, op))
    return FFT(dims, _norm(norm), inverse)(x)


@autocast_op("fft_fft")
def fft(input, n=None, dim=-1, norm=None):
    """The 1-D discrete Fourier transform along ``dim`` (of length ``n``)."""
    return _c2c(input, *_one_dim(input, n, dim, "fft"), norm, False, "fft")


@autocast_op("fft_ifft")
def ifft(input, n=None, dim=-1, norm=None):
    """The 1-D inverse discrete Fourier transform along ``dim``."""
    return _c2c(input, *_one_dim(input, n, dim, "ifft"), norm, True, "ifft")


@autocast_op("fft_fft2")
def fft2(input, s=None, dim=(-2, -1), norm=None):
    """The 2-D discrete Fourier transform over ``dim`` (the last two by default)."""
    return fftn(input, s, dim, norm)


@autocast_op("fft_ifft2")
def ifft2(input, s=None, dim=(-2, -1), norm=None):
    """The 2-D inverse discrete Fourier transform."""
    return ifftn(input, s, dim, norm)


@autocast_op("fft_fftn")
def fftn(input, s=None, dim=None, norm=None):
    """The N-D discrete Fourier transform over ``dim`` (all dims by default)."""
    return _c2c(input, *_many_dims(input, s, dim, "fftn"), norm, False, "fftn")


@autocast_op("fft_ifftn")
def ifftn(input, s=None, dim=None, norm=None):
    """The N-D inverse discrete Fourier transform."""
    return _c2c(input, *_many_dims(input, s, dim, "ifftn"), norm, True, "ifftn")


# -- real-to-complex and complex-to-real ---------------------------------------------------------


def _at_least_one(dims, op: str):
    """The one-sided transforms need a last dim to halve (``rfftn`` of a 0-d tensor)."""
    if not dims:
        raise RuntimeError(f"{op} must transform at least one axis")


def _r2c(input, dims, sizes, norm, op: str):
    _at_least_one(dims, op)
    x = _real_input(input, op)
    x = _resized(x, dims, _sizes(x, dims, sizes, op))
    return RFFT(dims, _norm(norm), dtypes.to_complex(x.dtype).numpy)(x)


def _c2r(input, dims, sizes, norm, op: str):
    """The real signal with the one-sided spectrum ``input``: along the last dim, ``n`` points
    (default ``2·(m - 1)`` for ``m`` given frequencies) from its first ``n//2 + 1`` bins."""
    _at_least_one(dims, op)
    x = _complex_input(input, op)
    last = dims[-1]
    if sizes is not None and sizes[-1] != -1:
        n = sizes[-1]
    else:
        n = 2 * (x.shape[last] - 1)
    if n < 1:
        raise RuntimeError(f"{op}: Invalid number of data points ({n}) specified")
    leading = _sizes(x, dims[:-1], None if sizes is None else sizes[:-1], op)
    x = _resized(x, dims, leading + (n // 2 + 1,))
    return IRFFT(dims, _norm(norm), n, dtypes.to_real(dtypes.from_numpy(x._data.dtype)).numpy)(x)


@autocast_op("fft_rfft")
def rfft(input, n=None, dim=-1, norm=None):
    """The 1-D Fourier transform of a real signal: the ``n//2 + 1`` non-negative frequencies."""
    return _r2c(input, *_one_dim(input, n, dim, "rfft"), norm, "rfft")


@autocast_op("fft_irfft")
def irfft(input, n=None, dim=-1, norm=None):
    """The inverse of :func:`rfft`: a real signal of ``n`` points (default ``2·(m - 1)``)."""
    return _c2r(input, *_one_dim(input, n, dim, "irfft"), norm, "irfft")


@autocast_op("fft_rfft2")
def rfft2(input, s=None, dim=(-2, -1), norm=None):
    """The 2-D Fourier transform of a real signal (one-sided along the last dim)."""
    return rfftn(input, s, dim, norm)


@autocast_op("fft_irfft2")
def irfft2(input, s=None, dim=(-2, -1), norm=None):
    """The inverse of :func:`rfft2`."""
    return irfftn(input, s, dim, norm)


@autocast_op("fft_rfftn")
def rfftn(input, s=None, dim=None, norm=None):
    """The N-D Fourier transform of a real signal (one-sided along the last of ``dim``)."""
    return _r2c(input, *_many_dims(input, s, dim, "rfftn"), norm, "rfftn")


@autocast_op("fft_irfftn")
def irfftn(input, s=None, dim=None, norm=None):
    """The inverse of :func:`rfftn`."""
    return _c2r(input, *_many_dims(input, s, dim, "irfftn"), norm, "irfftn")


# -- Hermitian signals: the transforms of the real ones, read the other way ----------------------


@autocast_op("fft_hfft")
def hfft(input, n=None, dim=-1, norm=None):
    """The Fourier transform (real) of a Hermitian signal given by its one-sided half."""
    dims, sizes = _one_dim(input, n, dim, "hfft")
    return _c2r(conj(_complex_input(input, "hfft")), dims, sizes, _DUAL[_norm(norm)], "hfft")


@autocast_op("fft_ihfft")
def ihfft(input, n=None, dim=-1, norm=None):
    """The inverse of :func:`hfft`: the one-sided half of a real signal's inverse transform."""
    return conj(_r2c(input, *_one_dim(input, n, dim, "ihfft"), _DUAL[_norm(norm)], "ihfft"))


def hfft2(input, s=None, dim=(-2, -1), norm=None):
    """The 2-D :func:`hfftn`."""
    return hfftn(input, s, dim, norm)


def ihfft2(input, s=None, dim=(-2, -1), norm=None):
    """The 2-D :func:`ihfftn`."""
    return ihfftn(input, s, dim, norm)


def hfftn(input, s=None, dim=None, norm=None):
    """The N-D Fourier transform (real) of a Hermitian signal, one-sided along the last dim."""
    dims, sizes = _many_dims(input, s, dim, "hfftn")
    _at_least_one(dims, "hfftn")
    x = conj(_complex_input(input, "hfftn"))
    return _c2r(x, dims, sizes, _DUAL[_norm(norm)], "hfftn")


def ihfftn(input, s=None, dim=None, norm=None):
    """The inverse of :func:`hfftn`."""
    dims, sizes = _many_dims(input, s, dim, "ihfftn")
    return conj(_r2c(input, dims, sizes, _DUAL[_norm(norm)], "ihfftn"))


# -- frequencies and shifts ----------------------------------------------------------------------


def fftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False, layout=None, out=None):
    """The sample frequencies of an ``n``-point transform with sample spacing ``d``:
    ``[0, 1, ..., -(n//2), ..., -1] / (d·n)``."""
    return _frequencies(np.fft.fftfreq(n, d), dtype, device, requires_grad, out)


def rfftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False, layout=None, out=None):
    """The non-negative sample frequencies of :func:`rfft`: ``[0, 1, ..., n//2] / (d·n)``."""
    return _frequencies(np.fft.rfftfreq(n, d), dtype, device, requires_grad, out)


def _frequencies(values, dtype, device, requires_grad, out):
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)
    result = _tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)
    if out is not None:
        out.resize_(result.shape).copy_(result)
        return out
    return result


def fftshift(input, dim=None):
    """``input`` rolled so that the zero frequency is in the middle of each of ``dim``."""
    return _shift(input, dim, lambda n: n // 2)


def ifftshift(input, dim=None):
    """The inverse of :func:`fftshift`."""
    return _shift(input, dim, lambda n: -(n // 2))


def _shift(input, dim, amount):
    dims = range(input.ndim) if dim is None else (dim,) if isinstance(dim, int) else dim
    dims = tuple(normalize_dim(d, input.ndim, "fftshift") for d in dims)
    if not dims:  # (PyTorch's roll with no dims)
        raise RuntimeError("`shifts` required")
    return input.roll(tuple(amount(input.shape[d]) for d in dims), dims)


__all__ = [
    "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2",
    "rfftn", "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq",
    "rfftfreq", "fftshift", "ifftshift",
]  # fmt: skip
