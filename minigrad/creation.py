"""Factory functions: tensors from data, filled tensors, ranges, and random tensors."""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _dtype_limits, _memory_format, _range_factories, backend, dtypes
from ._inplace import check_random_bounds
from ._warnings import warn_user, warn_user_once
from .autograd import grad_mode
from .ops._size import as_int, factory_size
from .ops.base import check_dtype_arg
from .storage import _StorageBase
from .tensor import Tensor


def _device(device) -> backend.Device:
    return backend.device(device) if device is not None else backend.get_default_device()


# ``minigrad.Generator(device="cpu")``: a random generator to pass as ``generator=`` (seed it
# with ``.manual_seed(n)``); the class itself, so isinstance(g, minigrad.Generator) holds for
# the default generators too, as in PyTorch
Generator = backend.Generator


def _finish(array, dev, requires_grad) -> Tensor:
    dev.backend.check_dtype(array.dtype)  # bfloat16 made on a GPU (CuPy has none)
    return Tensor._make(array, dev).requires_grad_(requires_grad)


def shape_constant(host, dtype, device) -> Tensor:
    """A tensor holding a copy of ``host``, a NumPy array that ops compute from shapes and
    arguments alone (index maps, weights): a constant of a ``minigrad.compile`` trace."""
    dev = _device(device)
    array = backend.shape_constant(host, dtypes.to_dtype(dtype), dev)
    if (
        type(array) is np.ndarray
        and isinstance(host, np.ndarray)
        and np.may_share_memory(array, host)
    ):
        array = array.copy()  # the cached host arrays stay read-only and unchanged
    return _finish(array, dev, False)


_COPY_CONSTRUCT_WARNING = (
    "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
    "or sourceTensor.detach().clone().requires_grad_(True), rather than "
    "torch.tensor(sourceTensor)."
)


def tensor(data, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers, NumPy arrays, tensors).

    Python floats give float32 (the default dtype), ints int64 and bools bool, as in PyTorch.
    A tensor ``data`` is copied with PyTorch's warning that ``detach().clone()`` says it
    better.

    Example:
        >>> minigrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    """
    check_dtype_arg(dtype, "tensor")
    if isinstance(data, Tensor):
        warn_user(_COPY_CONSTRUCT_WARNING)
        data = data.detach()
        out = data.to(
            _device(device) if device is not None else data.device, dtype or data.dtype, copy=True
        )
        return out.requires_grad_(requires_grad)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _tensors_as_scalars(data)
    if hasattr(data, "_storage_array"):  # a TypedStorage: its elements, in its dtype
        data = data._storage_array()
    _refuse_negative_strides(data)
    dev = _device(device)
    dtype = dtypes.to_dtype(dtype) if dtype is not None else None
    with backend.allocating("tensor", dev):
        array = backend.as_array(data, dtype, dev)
        if array is data or getattr(array, "base", None) is data:
            array = array.copy()
    return _finish(array, dev, requires_grad)


def _refuse_negative_strides(data) -> None:
    """PyTorch's error for a NumPy array with a negative stride (``a[::-1]``, ``np.flip``, an
    image's ``[:, :, ::-1]``) given to ``tensor``, ``as_tensor`` or ``from_numpy``."""
    if isinstance(data, np.ndarray) and any(st < 0 for st in data.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative "
            "strides are not currently supported. (You can probably work around this by making "
            "a copy of your array  with array.copy().) "
        )


def _tensors_as_scalars(data, op: str = "tensor"):
    """Nested lists with every tensor replaced by its one value, as a NumPy scalar of the
    tensor's dtype: PyTorch reads a tensor inside a sequence as a scalar (``[t1, t2]`` of
    shape-(1,) tensors gives shape (2,)), its dtype taking part in the inference as a NumPy
    scalar's does, and refuses tensors of more than one element."""
    if isinstance(data, Tensor):
        if data.numel() != 1:
            raise ValueError(
                "only one element tensors can be converted to Python scalars (a tensor of "
                f"shape {list(data.shape)} inside the sequence given to {op}(); use "
                "torch.stack or torch.cat to join tensors)"
            )
        return backend.to_device(data._data, data.device, backend.CPU).reshape(-1)[0]
    if isinstance(data, (list, tuple)):
        return [_tensors_as_scalars(x, op) for x in data]
    return data


def _flat(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like :func:`tensor`, but shares memory with a NumPy array or tensor when it can."""
    check_dtype_arg(dtype, "as_tensor")
    if isinstance(data, Tensor):
        return data.to(device or data.device, dtype or data.dtype)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _tensors_as_scalars(data, "as_tensor")  # (one-element tensors only, as PyTorch)
    _refuse_negative_strides(data)
    dev = _device(device)
    out = Tensor._make(backend.as_array(data, dtypes.to_dtype(dtype) if dtype else None, dev), dev)
    if isinstance(data, np.ndarray):
        _warn_if_read_only(out)
    return out


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None) -> Tensor:
    """``obj`` as a tensor, sharing memory when it can (``copy=None``), always copying
    (``copy=True``) or refusing to copy (``copy=False``: a ValueError when a copy is needed),
    as ``torch.asarray``.

    A tensor ``obj`` keeps its graph (a conversion or copy is recorded on it) unless
    ``requires_grad=False`` is given, which detaches the result; ``requires_grad=None`` follows
    ``obj``, as PyTorch 2.13 does.
    """
    if isinstance(obj, Tensor):
        out = obj.to(device or obj.device, dtype or obj.dtype)
        out = out.clone() if copy and out is obj else out
        if copy is False and out._data is not obj._data:
            raise ValueError("asarray: copy=False, but the data needs a copy (dtype or device)")
        if requires_grad is False:
            return out.detach()
        return out.requires_grad_() if requires_grad and not out.requires_grad else out
    if isinstance(obj, _StorageBase):
        shared = _from_storage(obj, dtype)
        out = shared.to(device) if device is not None else shared
        if copy and out is shared:
            out = out.clone()
        if copy is False and out is not shared:
            raise ValueError("asarray: copy=False, but the data needs a copy (device)")
    elif copy:
        out = tensor(obj, dtype=dtype, device=device)
    else:
        out = as_tensor(obj, dtype=dtype, device=device)
        if copy is False and isinstance(obj, np.ndarray) and out._data is not obj:
            if not np.shares_memory(out._data, obj):
                raise ValueError("asarray: copy=False, but the data needs a copy (dtype or device)")
    return out.requires_grad_(requires_grad) if requires_grad else out


def _from_storage(storage, dtype) -> Tensor:
    """The bytes of ``storage`` as a 1-D tensor of ``dtype`` sharing its memory (``uint8`` for
    an untyped storage without one), as ``torch.asarray(storage, dtype=...)``."""
    dt = dtypes.to_dtype(dtype if dtype is not None else getattr(storage, "dtype", "uint8"))
    flat = storage._array.reshape(-1).view(np.uint8)
    if flat.size % dt.itemsize:
        raise ValueError(
            f"asarray: the storage's {flat.size} bytes are not a whole number of {dt} "
            f"elements ({dt.itemsize} bytes each)"
        )
    return Tensor._make(flat.view(dt.numpy), storage.device)


def from_numpy(array) -> Tensor:
    """A CPU tensor sharing memory with the NumPy ``array`` (writes show in both), as PyTorch.

    Example:
        >>> a = np.zeros(2); minigrad.from_numpy(a).add_(1); a
        array([1., 1.])
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    dtypes.from_numpy(array.dtype)  # refuses element types minigrad has no name for
    _refuse_negative_strides(array)
    return _warn_if_read_only(Tensor._make(array, backend.CPU))


def _warn_if_read_only(out: Tensor) -> Tensor:
    """PyTorch's once-per-program warning when a tensor shares a read-only NumPy array (pandas'
    copy-on-write ``df.to_numpy()``, a broadcast view). PyTorch lets writes through (undefined
    behavior); minigrad refuses them, so the advice names that."""
    if not getattr(out._data.flags, "writeable", True):
        warn_user_once(
            "read-only array",
            "The given NumPy array is not writable, and PyTorch does not support non-writable "
            "tensors. This means writing to this tensor will result in undefined behavior "
            "(minigrad raises on in-place writes to it). You may want to copy the array to "
            "protect its data or make it writable before converting it to a tensor. This type of "
            "warning will be suppressed for the rest of this program.",
        )
    return out


def _filled(size, op, fill_value, dtype, device, requires_grad) -> Tensor:
    shape = factory_size(size, op)
    dev = _device(device)
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if fill_value is None:  # ``empty``: see backend.uninitialized_value
        fill_value = backend.uninitialized_value(dtype.numpy)
    with backend.on(dev), backend.allocating(op, dev):  # as an op's: PyTorch's OutOfMemoryError
        if dtype.itemsize == 1 and dtype.is_floating_point:  # float8: PyTorch's rounding
            array = _dtype_limits.astype(np.full(shape, fill_value, np.float32), dtype.numpy)
        elif type(fill_value) is int and fill_value == 0:  # (zeros, empty: calloc'd memory)
            array = dev.xp.zeros(shape, dtype=dtype.numpy)
        else:
            array = dev.xp.full(shape, fill_value, dtype=dtype.numpy)
    return _finish(array, dev, requires_grad)


@_memory_format.takes_layout
def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (dtype from the value if not given)."""
    if dtype is None:
        dtype = dtypes.result_type(fill_value)
    dtype = dtypes.to_dtype(dtype)
    fill_value = dtypes.checked_scalar(fill_value, dtype, "full", half_saturates=True)
    return _filled((size,), "full", fill_value, dtype, device, requires_grad)


def _size_args(sizes: tuple, size, op: str) -> tuple:
    """The shape given positionally (``zeros(2, 3)``, ``zeros((2, 3))``) or as ``size=``."""
    if size is None:
        return sizes
    if sizes:
        raise TypeError(f"{op}() got multiple values for argument 'size'")
    return (size,)


@_memory_format.takes_layout
def zeros(*sizes, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Zeros of shape ``size`` (``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``);
    sizes must be ints.

    Example:
        >>> minigrad.zeros(2, 3).shape   # (2, 3); zeros(2.5) raises TypeError, as PyTorch
    """
    return _filled(_size_args(sizes, size, "zeros"), "zeros", 0, dtype, device, requires_grad)


@_memory_format.takes_layout
def ones(*sizes, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Ones of shape ``size``; sizes must be ints, as in :func:`zeros`."""
    return _filled(_size_args(sizes, size, "ones"), "ones", 1, dtype, device, requires_grad)


@_memory_format.takes_layout
def empty(
    *sizes, size=None, dtype=None, device=None, requires_grad=False, memory_format=None
) -> Tensor:
    """Uninitialised in PyTorch; zeros here (a defined value costs almost nothing), or, as in
    PyTorch, NaN (the largest integer, True) under ``use_deterministic_algorithms(True)``;
    laid out in ``memory_format`` (``channels_last``, ...) when given."""
    out = _filled(_size_args(sizes, size, "empty"), "empty", None, dtype, device, requires_grad)
    perm = _memory_format.permutation(memory_format, out.ndim, "empty")
    if perm is not None:
        out._data = _memory_format.lay_out(out.device.xp, out._data, perm)
    return out


def empty_permuted(
    size,
    physical_layout,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    pin_memory=False,
) -> Tensor:
    """A dense tensor of ``size`` (as :func:`empty`: zeros, or NaN when deterministic) whose dims lie in
    memory in the order ``physical_layout`` (outermost first): ``(0, 2, 3, 1)`` is NHWC.

    Example:
        >>> minigrad.empty_permuted((2, 3, 5, 7), (0, 2, 3, 1)).stride()
        (105, 1, 21, 3)
    """
    shape, order = factory_size((size,), "empty_permuted"), tuple(physical_layout)
    if sorted(order) != list(range(len(shape))):
        raise RuntimeError(
            f"empty_permuted: physical_layout {list(order)} must be a permutation of the "
            f"{len(shape)} dims of size {list(shape)}"
        )
    _memory_format.check_strided(layout, "empty_permuted")
    physical = empty(tuple(shape[d] for d in order), dtype=dtype, device=device)
    out = physical.permute(*(order.index(d) for d in range(len(order)))).detach()
    return out.requires_grad_(requires_grad)


def _like(input, dtype, device):
    return dict(dtype=dtype or input.dtype, device=device or input.device)


@_memory_format.like_factory
def zeros_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return zeros(input.shape, **_like(input, dtype, device), requires_grad=requires_grad)


@_memory_format.like_factory
def ones_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return ones(input.shape, **_like(input, dtype, device), requires_grad=requires_grad)


@_memory_format.like_factory
def empty_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return empty(input.shape, **_like(input, dtype, device), requires_grad=requires_grad)


@_memory_format.like_factory
def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full(input.shape, fill_value, **_like(input, dtype, device), requires_grad=requires_grad)


def number_args(op: str, **values) -> None:
    """PyTorch's parser TypeError for a Tensor of more than one element where a parameter
    (``values``, in PyTorch's order from position 1) is a number; a one-element Tensor is
    taken as its number, as PyTorch's ``__index__``."""
    for position, (name, value) in enumerate(values.items(), 1):
        if isinstance(value, Tensor) and value.numel() != 1:
            raise TypeError(
                f"{op}(): argument '{name}' (position {position}) must be a number, not Tensor"
            )


@_memory_format.takes_layout
def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless a bound is a float.

    Integer bounds with an integer dtype are computed in integers, so int64 ranges are exact
    beyond 2**53 (``arange(2**53, 2**53 + 4)``), as in PyTorch; float bounds with an integer
    dtype are truncated first, as PyTorch does. Float values on the CPU are PyTorch's bit for
    bit (its AVX2 kernel's blocks and fused multiply-adds: :mod:`minigrad._range_factories`).
    """
    if end is None:
        start, end = 0, start
    number_args("arange", start=start, end=end, step=step)
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"upper bound and lower bound inconsistent with step sign (arange: start={start}, "
            f"end={end}, step={step})"
        )
    if dtype is None:
        dtype = dtypes.result_type(start, end, step)
    dtype = dtypes.to_dtype(dtype)
    _dtype_limits.check_factory("arange", dtype)
    dev = _device(device)
    _no_bool_kernel("arange", dtype, dev)
    integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    with backend.on(dev), backend.allocating("arange", dev):
        if integral and not dtype.is_floating_point:
            start, end, step = int(start), int(end), int(step)
            count = max(0, -((start - end) // step))  # ceil((end - start) / step), exactly
            last = start + (count - 1) * step if count else start
            lo, hi = dtypes.integer_limits(dtypes.int64)
            if not (lo <= start <= hi and lo <= last <= hi):
                raise RuntimeError(f"arange: values from {start} to {last} overflow int64")
            # int64 arithmetic wraps modulo 2**64, so i·step + start is exact wherever the
            # value itself fits in int64 (checked above for the first and last values)
            array = dev.xp.arange(count, dtype="int64") * step + dev.xp.int64(start)
            array = array.astype(dtype.numpy, copy=False)
        elif not (dtype.is_floating_point or dtype.is_complex):  # bounds truncated first
            first, step, count = _range_factories.arange_integer_count(
                start, end, step, dtype.numpy
            )
            array = dev.xp.arange(count, dtype="int64") * step + dev.xp.int64(first)
            array = array.astype(dtype.numpy, copy=False)
        else:
            count = max(0, math.ceil((end - start) / step))
            if dev.type == "cpu" and not dtype.is_complex:
                host = _range_factories.arange_float(float(start), float(step), count, dtype.numpy)
                array = backend.shape_constant(host, dtype, dev)  # a compile trace's constant
            else:
                array = dev.xp.arange(count, dtype="float64") * step + start
                array = array.astype(dtype.numpy)
    return _finish(array, dev, requires_grad)


@_memory_format.takes_layout
def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    dev = _device(device)
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    _dtype_limits.check_factory("linspace", dtype)
    _check_bounds(start, end, "linspace")
    steps = _steps(steps, "linspace")
    if steps > 1:  # one step is a fill, which takes bool
        _no_bool_kernel("linspace", dtype, dev)
    if _exact_on_cpu(start, end, steps, dtype, dev):
        with backend.allocating("linspace", dev):
            host = _range_factories.linspace_values(start, end, steps, dtype.numpy)
            array = backend.shape_constant(host, dtype, dev)  # a compile trace's constant
        return _finish(array, dev, requires_grad)
    with backend.on(dev), backend.allocating("linspace", dev):
        array = dev.xp.linspace(start, end, steps).astype(dtype.numpy)
    return _finish(array, dev, requires_grad)


def _no_bool_kernel(op: str, dtype, dev) -> None:
    """PyTorch's range kernels have no bool version: its error, naming the kernel."""
    if dtype == dtypes.bool:
        kernel = f"{op}_{'cuda' if dev.type == 'cuda' else 'cpu'}"
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _exact_on_cpu(start, end, steps: int, dtype, dev) -> bool:
    """Whether linspace/logspace repeat PyTorch's CPU kernel (:mod:`._range_factories`): real
    bounds, a real or integer dtype, on the CPU, at least one step."""
    real = isinstance(start, numbers.Real) and isinstance(end, numbers.Real)
    return real and dev.type == "cpu" and not dtype.is_complex and steps > 0


@_memory_format.takes_layout
def logspace(
    start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False
) -> Tensor:
    dev = _device(device)
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    _dtype_limits.check_factory("logspace", dtype)
    _check_bounds(start, end, "logspace")
    steps = _steps(steps, "logspace")
    if steps > 1:
        _no_bool_kernel("logspace", dtype, dev)
    if _exact_on_cpu(start, end, steps, dtype, dev):
        with backend.allocating("logspace", dev):
            host = _range_factories.logspace_values(start, end, steps, float(base), dtype.numpy)
            array = backend.shape_constant(host, dtype, dev)  # a compile trace's constant
        return _finish(array, dev, requires_grad)
    with backend.on(dev), backend.allocating("logspace", dev):
        array = dev.xp.logspace(start, end, steps, base=base).astype(dtype.numpy)
    return _finish(array, dev, requires_grad)


def _check_bounds(start, end, op: str) -> None:
    """PyTorch's refusal of tensor bounds that are not 0-d (NumPy would make a grid of ranges)."""
    shapes = [("start", start), ("end", end)]
    if any(isinstance(v, Tensor) and v.ndim for _, v in shapes):
        got = " and ".join(
            f"{name} with {v.ndim} dimension(s)" for name, v in shapes if isinstance(v, Tensor)
        )
        raise RuntimeError(
            f"{op} only supports 0-dimensional start and end tensors, but got {got}."
        )


def _steps(steps, op) -> int:
    steps = as_int(steps, op, "steps")
    if steps < 0:
        raise RuntimeError(f"{op}: number of steps must be non-negative")
    return steps


@_memory_format.takes_layout
def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    n = factory_size((as_int(n, "eye", "n"),), "eye")[0]
    m = n if m is None else factory_size((as_int(m, "eye", "m"),), "eye")[0]
    dev = _device(device)
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    _dtype_limits.check_factory("eye", dtype)
    with backend.on(dev), backend.allocating("eye", dev):
        array = dev.xp.eye(n, m, dtype=dtype.numpy)
    return _finish(array, dev, requires_grad)


_FLOAT_KERNELS = {"rand": "check_uniform_bounds", "randn": "normal_kernel_cpu"}
_FLOAT_KERNELS["normal"] = _FLOAT_KERNELS["randn"]


def _random(size, dtype, device, generator, draw, op) -> Tensor:
    shape = factory_size(size, op)
    dev = _device(device)
    dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if op in _FLOAT_KERNELS and not (dtype.is_floating_point or dtype.is_complex):
        name = dtypes.scalar_type_name(dtype)  # PyTorch's kernels draw floats only
        raise NotImplementedError(f"\"{_FLOAT_KERNELS[op]}\" not implemented for '{name}'")
    _dtype_limits.check_factory(op, dtype)
    gen = backend.generator_or_default(generator, dev, op)
    dev.backend.check_dtype(dtype.numpy)

    def make(full_shape):
        with backend.on(dev), backend.allocating(op, dev):
            return Tensor._make(draw(gen, full_shape, dtype.numpy), dev)

    return backend.per_sample_draw(make, shape), dtype


@_memory_format.takes_layout
def rand(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples from [0, 1)."""
    size = _size_args(sizes, size, "rand")
    t, _ = _random(size, dtype, device, generator, lambda g, s, d: g.uniform(s, d), "rand")
    return t.requires_grad_(requires_grad)


@_memory_format.takes_layout
def randn(
    *sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False
) -> Tensor:
    """Standard normal samples."""
    size = _size_args(sizes, size, "randn")
    t, _ = _random(size, dtype, device, generator, lambda g, s, d: g.normal(s, d), "randn")
    return t.requires_grad_(requires_grad)


@_memory_format.takes_layout
def randint(
    low=0, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False
) -> Tensor:
    """Integers from ``low`` (inclusive) to ``high`` (exclusive); int64 by default. As in
    PyTorch, ``randint(high, size)`` (two arguments, the second a sequence) means ``low=0``.

    Example:
        >>> minigrad.randint(10, (2, 3))      # values in [0, 10)
        >>> minigrad.randint(5, 10, (4,))     # values in [5, 10)
    """
    if requires_grad:
        raise RuntimeError("randint: only Tensors of floating point dtype can require gradients")
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    dtype = dtype or dtypes.int64
    low, high = as_int(low, "randint", "low"), as_int(high, "randint", "high")
    check_random_bounds(dtypes.to_dtype(dtype).numpy, low, high, "randint")
    t, _ = _random(
        (size,), dtype, device, generator, lambda g, s, d: g.integers(low, high, s, d), "randint"
    )
    return t


@_memory_format.takes_layout
def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of 0..n-1."""
    if requires_grad and not dtypes.to_dtype(dtype or dtypes.int64).is_floating_point:
        raise RuntimeError("randperm: only Tensors of floating point dtype can require gradients")
    dev = _device(device)
    gen = backend.generator_or_default(generator, dev, "randperm")
    dtype = dtypes.to_dtype(dtype or dtypes.int64)
    _dtype_limits.check_factory("randperm", dtype)
    with backend.on(dev), backend.allocating("randperm", dev):
        array = gen.permutation(factory_size((as_int(n, "randperm", "n"),), "randperm")[0])
        array = array.astype(dtype.numpy)
    return _finish(array, dev, requires_grad)


@_memory_format.like_factory
def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return rand(
        input.shape, generator=generator, **_like(input, dtype, device), requires_grad=requires_grad
    )


@_memory_format.like_factory
def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return randn(
        input.shape, generator=generator, **_like(input, dtype, device), requires_grad=requires_grad
    )


@_memory_format.like_factory
def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None) -> Tensor:
    """Integers in [low, high) (``randint_like(x, high)`` and ``randint_like(x, high=h)`` count
    from 0), of ``input``'s shape, dtype and device, drawn from ``generator`` if given."""
    if high is None:
        low, high = 0, low
    return randint(
        low, high, tuple(input.shape), generator=generator, **_like(input, dtype, device)
    )


@_memory_format.takes_layout
def normal(
    mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False
) -> Tensor:
    """Normal samples with ``mean`` and ``std`` (tensors broadcast together, or numbers with
    ``size``), as ``torch.normal``'s overloads, drawing what PyTorch draws: ``randn`` of the
    broadcast shape times ``std`` plus ``mean`` for a tensor ``std``, ``normal_(0, std)`` plus
    ``mean`` for a tensor ``mean`` and a number ``std``, and ``normal_(mean, std)`` of ``size``
    for two numbers. Not differentiable (as PyTorch's sampler); only the numbers' overload
    takes ``requires_grad`` (a new leaf, as d2l's ``torch.normal(0, 0.01, size=...,
    requires_grad=True)`` makes its weights)."""
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal(): with numbers for mean and std, size is required")
        _check_std(std)
        return _normal_draw(size, dtype, device, generator, mean, std).requires_grad_(requires_grad)
    if size is not None:
        raise TypeError(  # PyTorch's argument parser: no overload takes a tensor and a size
            "normal() received an invalid combination of arguments: size is only taken with "
            "numbers for mean and std"
        )
    if requires_grad or dtype is not None:
        raise TypeError(
            "normal() received an invalid combination of arguments: dtype and requires_grad "
            "are only taken with numbers for mean and std and a size"
        )
    if not isinstance(std, Tensor):
        _check_std(std)
    elif std.numel() and bool((std < 0).any()):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    ref = tensors[0]
    with grad_mode.no_grad():
        kind = dtypes.result_type(*tensors)
        if not kind.is_floating_point and not kind.is_complex:
            raise RuntimeError(f"normal: expected a floating-point mean and std, got {kind}")
        if isinstance(std, Tensor):
            shape = (mean * 0 + std * 0).shape if len(tensors) == 2 else std.shape
            draw = randn(shape, generator=generator, dtype=kind, device=ref.device)
            return draw * std + mean
        return _normal_draw(mean.shape, kind, ref.device, generator, 0.0, std) + mean


def _normal_draw(size, dtype, device, generator, mean, std) -> Tensor:
    """``empty(size).normal_(mean, std)`` (numbers for mean and std), drawn per sample under
    ``vmap(randomness="different")``."""
    t, _ = _random(
        (size,) if isinstance(size, int) else size,
        dtype,
        device,
        generator,
        lambda g, s, d: g.normal(s, d, mean, std),
        "normal",
    )
    return t


def _check_std(std) -> None:
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {float(std):g}")


def bernoulli(input, p=None, *, generator=None) -> Tensor:
    """1 with probability ``input`` (or ``p``) elementwise, else 0; same dtype as input."""
    with grad_mode.no_grad():
        if backend.random_hook is None:  # PyTorch's draws (vmap: one uniform per sample below)
            out = empty_like(input.detach())
            return out.bernoulli_(input.detach() if p is None else p, generator=generator)
        backend.check_draw_from(input)
        probs = input if p is None else full_like(input, p)
        draw = rand(input.shape, generator=generator, dtype=input.dtype, device=input.device)
        return (draw < probs).to(input.dtype)


def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:
    """Draw category indices from rows of (unnormalised) probabilities ``input`` (1-D or 2-D)."""
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got {input.ndim}")
    if not input.dtype.is_floating_point:  # PyTorch's checks, in its order
        name = dtypes.scalar_type_name(input.dtype)
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: {name}"
        )
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (got {num_samples})")
    rows = input.detach().reshape(-1, input.shape[-1])
    n_cat = rows.shape[1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError(
            f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement"
            f" (n_sample {num_samples}, prob_dist.size(-1) {n_cat})"
        )
    backend.check_draw_from(input)
    totals = rows.sum(-1, keepdim=True)
    _check_distributions(rows, totals)
    with grad_mode.no_grad():
        gen = backend.generator_or_default(generator, input.device, "multinomial")
        drawn = (
            None if backend.random_hook else gen.multinomial(rows._data, num_samples, replacement)
        )
        if drawn is not None:  # the CPU outside vmap: PyTorch's draws
            return Tensor._make(drawn, input.device).reshape(*input.shape[:-1], num_samples)
        probs = (rows / totals).double()
        if replacement:
            cdf = probs.cumsum(-1)
            u = rand(
                rows.shape[0],
                num_samples,
                generator=generator,
                dtype=dtypes.float64,
                device=input.device,
            )
            idx = (u.unsqueeze(-1) >= cdf.unsqueeze(1)).sum(-1).clamp(max=n_cat - 1)
        else:  # Gumbel top-k: sampling without replacement in proportion to the weights
            u = rand(rows.shape, generator=generator, dtype=dtypes.float64, device=input.device)
            log_p = probs.clamp(min=1e-300).log().masked_fill(probs == 0, -math.inf)
            keys = log_p - (-(u.clamp(min=1e-300)).log()).log()
            idx = _topk_indices(keys, num_samples)
    return idx.reshape(*input.shape[:-1], num_samples)


def _check_distributions(rows, totals) -> None:
    """RuntimeError for a row with inf, nan or a negative entry, or that sums to <= 0. The CPU
    raises at once; a GPU records the check on the device and raises at the next host
    synchronisation, as PyTorch's CUDA kernel asserts on the device (no round trip per draw)."""
    invalid = ((rows < 0) | ~rows.isfinite()).any(-1)
    empty = (totals <= 0).reshape(-1)
    checks = [
        (invalid, "multinomial: probability tensor contains either `inf`, `nan` or element < 0"),
        (empty, "multinomial: invalid multinomial distribution (sum of probabilities <= 0)"),
    ]
    dev = rows.device
    if dev.type == "cpu":
        for bad, message in checks:
            if bool(bad.any()):
                raise RuntimeError(message)
        return
    row_numbers = arange(rows.shape[0], device=dev)._data
    for bad, message in checks:
        dev.backend.check_indices(
            bad._data, row_numbers, message + " (row {})", dev.index, error=RuntimeError
        )


def _topk_indices(values, k):
    xp = values.device.xp
    with backend.on(values.device):
        order = xp.argsort(-values._data, axis=-1, kind="stable")[..., :k]
        return Tensor._make(order.astype("int64"), values.device)


# ``out=`` (minigrad._out) draws in ``out``'s dtype when no dtype is given, as PyTorch does
for _draw in (rand, randn, randint, randperm, normal):
    _draw.draws_in_out_dtype = True
