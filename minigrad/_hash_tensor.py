"""``torch.hash_tensor``: an order-free hash of a tensor's elements, the xor of their 64-bit
patterns (floats widened to float64, integers and bools to int64), as a uint64 tensor."""

from __future__ import annotations

from . import backend, dtypes
from .autograd import graph
from .ops.base import kept_shape, normalize_dims


def hash_tensor(input, dim=None, *, keepdim: bool = False, mode: int = 0):
    """The xor of the 64-bit patterns of ``input``'s elements over ``dim`` (all dims when
    None), a uint64 tensor; not differentiable.

    Example:
        >>> minigrad.hash_tensor(minigrad.tensor([3, -1], dtype=minigrad.int8))
        tensor(18446744073709551612, dtype=minigrad.uint64)
    """
    if mode != 0:
        raise RuntimeError(f"Unknown hash_tensor mode: {mode}")
    if input.dtype.is_complex:
        raise NotImplementedError(f'"xor_sum" not implemented for {input.dtype} (hash_tensor)')
    dims = normalize_dims(dim, input.ndim, "hash_tensor")
    if input.numel() == 0:
        if dim is None:
            raise RuntimeError(
                "hash_tensor: Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        for d in dims:
            if input.shape[d] == 0:
                raise IndexError(f"hash_tensor: Expected reduction dim {d} to have non-zero size.")
    xp = input.device.xp
    data = input._data
    wide = "float64" if input.dtype.is_floating_point else "int64"
    bits = data.astype(wide).view("uint64")  # (bfloat16/float8 widen exactly, as ml_dtypes)
    if hasattr(xp.bitwise_xor, "reduce"):
        out = xp.bitwise_xor.reduce(bits, axis=dims) if dims else bits.copy()
    else:  # CuPy's ufuncs have no reduce: xor on the host (hash_tensor is no training step)
        host = input.device.backend.to_host(bits)
        out = host.__array_namespace__().bitwise_xor.reduce(host, axis=dims) if dims else host
        out = backend.as_array(out, dtypes.uint64, input.device)
    if keepdim:
        out = out.reshape(kept_shape(tuple(input.shape), dims))
    return graph.Tensor._make(xp.asarray(out), input.device)
