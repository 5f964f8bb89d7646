"""Memory formats (``torch.contiguous_format``, ``channels_last``, ``channels_last_3d``,
``preserve_format``): the order in which a tensor's elements lie in memory; and the layout
``strided``, the only storage minigrad has. Values never
depend on it; ``stride()``, ``is_contiguous(memory_format=...)`` and the speed of some kernels
do."""

from __future__ import annotations

import functools

import numpy as np

from . import _public_name

# name -> every layout and memory format made (for checkpoints, which save them by name)
_NAMED: dict[str, object] = {}


def named(name: str):
    """The layout or memory format called ``name`` (``"strided"``, ``"channels_last"``)."""
    if name not in _NAMED:
        raise ValueError(f"unknown layout or memory format {name!r}")
    return _NAMED[name]


class memory_format:  # noqa: N801 - PyTorch spells it in lower case
    """One of the memory formats; compare with ``is`` or ``==``."""

    def __init__(self, name: str):
        self.name = name
        _NAMED[name] = self

    def __repr__(self) -> str:
        return f"{_public_name.shown()}.{self.name}"

    def __reduce__(self):
        return self.name  # the module attribute of that name: pickles as the same object


class layout:  # noqa: N801 - PyTorch spells it in lower case
    """How a tensor's elements are stored: ``minigrad.strided`` (dense, with strides), the
    sparse layouts (``sparse_coo``, ``sparse_csr``, ``sparse_csc``, ``sparse_bsr``,
    ``sparse_bsc``: :mod:`minigrad.sparse`) and ``jagged`` (:mod:`minigrad.nested`)."""

    def __init__(self, name: str):
        self.name = name
        _NAMED[name] = self

    def __repr__(self) -> str:
        return f"{_public_name.shown()}.{self.name}"

    def __reduce__(self):
        return self.name


strided = layout("strided")
jagged = layout("jagged")  # nested tensors of one ragged dim (minigrad.nested)

contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

# dims from the fastest-varying to the slowest, for the channels-last formats
_ORDER = {channels_last: (1, 3, 2, 0), channels_last_3d: (1, 4, 3, 2, 0)}


def permutation(fmt, ndim: int, op: str):
    """The axes order that lays an array out in ``fmt`` (None for row-major)."""
    if fmt is None or fmt is contiguous_format:
        return None
    if fmt not in _ORDER:
        raise RuntimeError(f"{op}: unsupported memory format {fmt!r}")
    rank = len(_ORDER[fmt])
    if ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {fmt.name} format")
    return (0, *range(2, rank), 1)


def is_in_format(array, fmt) -> bool:
    """PyTorch's test: strides in ``fmt``'s order, ignoring dims of size 1."""
    if fmt is None or fmt is contiguous_format:
        return bool(array.flags.c_contiguous)
    if fmt is preserve_format:
        raise RuntimeError("is_contiguous: preserve memory format is unsupported")
    order = _ORDER.get(fmt)
    if order is None or array.ndim != len(order):
        return False
    expected = 1
    for d in order:
        if array.shape[d] != 1:
            if array.strides[d] // array.itemsize != expected:
                return False
            expected *= array.shape[d]
    return True


def suggest(array):
    """The format a ``preserve_format`` copy keeps, PyTorch's ``suggest_memory_format``:
    channels-last where the strides read so (:func:`_strides_like`), else row-major."""
    if not hasattr(array, "flags"):  # a sparse or nested record: no strided layout to keep
        return contiguous_format
    for fmt, order in _ORDER.items():
        if array.ndim == len(order) and _strides_like(array, order):
            return fmt
    return contiguous_format


def _strides_like(array, order) -> bool:
    """PyTorch's ``is_channels_last_strides_2d``/``_3d``: strides non-decreasing along
    ``order`` (fastest dim first; a dim of size 1 does not multiply), ambiguous cases (a zero
    channel stride, N111-like tensors whose batch stride equals the channel stride) row-major."""
    shape, item = array.shape, array.itemsize
    strides = [s // item for s in array.strides]
    if strides[1] == 0:
        return False
    low = 0
    for d in order:
        if shape[d] == 0 or strides[d] < low:
            return False
        if d == 0 and low == strides[1]:
            return False
        low = strides[d] * (shape[d] if shape[d] > 1 else 1)
    return True


def format_strides(shape, fmt) -> tuple:
    """The strides, in elements, PyTorch gives a fresh tensor of ``shape`` in ``fmt`` (each dim
    the product of the sizes of the dims faster than it, size-1 dims included)."""
    order = _ORDER.get(fmt, tuple(range(len(shape) - 1, -1, -1)))
    strides, step = [0] * len(shape), 1
    for d in order:
        strides[d] = step
        step *= max(shape[d], 1)
    return tuple(strides)


def relayout_needed(source, out, fmt) -> bool:
    """Whether ``source.to(..., memory_format=fmt)``, whose dtype/device conversion gave
    ``out``, copies into ``fmt``: PyTorch returns ``source`` itself where its
    ``suggest_memory_format`` reads ``fmt`` (even a transposed tensor for row-major), and a
    conversion's fresh result already in ``fmt``'s strides needs no second copy."""
    if out is source:
        return suggest(source._data) is not fmt
    array = _strided_array(out)
    return array is None or not has_format_strides(array, fmt)


def has_format_strides(array, fmt) -> bool:
    """Whether ``array`` has exactly the strides of a fresh tensor in ``fmt``."""
    got = tuple(s // array.itemsize for s in array.strides)
    return got == format_strides(array.shape, fmt)


def lay_out(xp, array, perm):
    """A copy of ``array`` (never ``array`` itself) whose memory follows ``perm`` (row-major if
    None); same values."""
    if perm is None:
        return xp.array(array, copy=True, order="C")
    extra = array.ndim - len(perm)  # leading batch dims (vmap): each sample laid out as asked
    if extra > 0:
        perm = (*range(extra), *(p + extra for p in perm))
    inverse = tuple(np.argsort(perm))
    # always a copy: ``ascontiguousarray`` would hand back an array already laid out so, and
    # a clone of a channels-last tensor would share its memory
    return xp.array(array.transpose(perm), copy=True, order="C").transpose(inverse)


# minigrad.nested installs the *_like of nested tensors here (the factory on their values).
nested_like = None
# minigrad.sparse's ``*_like`` of sparse compressed inputs (a result of their layout):
# ``sparse_like(make, input, args, kwargs, layout)`` returns it, or None for other inputs.
sparse_like = None


def check_strided(layout, op: str) -> None:
    """Refuse a ``layout=`` other than ``strided`` (None is strided) where ``op`` makes a dense
    tensor: the sparse layouts have their own constructors in :mod:`minigrad.sparse`."""
    if layout is not None and layout is not strided:
        raise NotImplementedError(
            f"{op}: layout {layout!r} is not implemented; minigrad has only minigrad.strided"
        )


def takes_layout(make):
    """A factory (``zeros``, ``arange``, ``rand``, ...) that also takes PyTorch's ``layout``
    keyword, as code that copies another tensor's (``layout=x.layout``) passes it."""

    @functools.wraps(make)
    def factory(*args, layout=None, **kwargs):
        if layout is not None:
            check_strided(layout, make.__name__)
        return make(*args, **kwargs)

    return factory


def like_factory(make):
    """A ``*_like`` factory (``zeros_like``, ...) taking PyTorch's ``layout`` (only ``strided``
    exists here) and ``memory_format`` (default ``preserve_format``: the result is laid out as
    ``input`` is, channels-last or transposed, as PyTorch's ``empty_like``; values never depend
    on it)."""

    @functools.wraps(make)
    def factory(input, *args, layout=None, memory_format=None, **kwargs):
        if getattr(type(input._data), "is_nested_record", False):  # values packed as input's
            return nested_like(make, input, *args, **kwargs)
        if sparse_like is not None:
            out = sparse_like(make, input, args, kwargs, layout)
            if out is not None:
                return out
        check_strided(layout, make.__name__)
        out = make(input, *args, **kwargs)
        fmt = memory_format
        if fmt is None or fmt is preserve_format:  # input's dense layout (empty_like's rule)
            from ._result_layout import dense_like

            data = dense_like(out.device.xp, out._data, input._data)
            if data is not out._data:  # (a fresh tensor; vmap's batched ones are left as made)
                out._data = data
            return out
        perm = permutation(fmt, out.ndim, make.__name__)
        strided = _strided_array(out) is not None  # (vmap's batched records: no strides)
        done = has_format_strides(out._data, fmt) if strided else is_in_format(out._data, fmt)
        if not done:  # a fresh tensor: its array may be replaced
            out._data = lay_out(out.device.xp, out._data, perm)
        return out

    return factory


def output_layout(*, weighted: bool = False, volumes: bool = True):
    """For a function of an image batch (convolution, pooling, resampling): its results laid
    out as PyTorch's CPU kernel writes them, channels-last when the input is (or, ``weighted``,
    a convolution's weight, its first argument after the input), row-major otherwise.
    ``volumes=False``: the kernel writes 5-D results row-major even from ``channels_last_3d``
    inputs (PyTorch's conv3d and 3-D pools other than max_pool3d). Values do not change;
    ``stride()``, ``is_contiguous(memory_format=...)`` and ``view`` do. Each tensor of a tuple
    of results (values and indices) is laid out so."""

    def decorate(fn):
        @functools.wraps(fn)
        def run(input, *args, **kwargs):
            out = fn(input, *args, **kwargs)
            fmt = _suggested(input)
            if fmt is contiguous_format and weighted:
                fmt = _suggested(args[0] if args else kwargs.get("weight"))
            if fmt is channels_last_3d and not volumes:
                fmt = contiguous_format
            for t in out if isinstance(out, tuple) else (out,):
                _relay(t, fmt)
            return out

        return run

    return decorate


def keep_layout(input, out):
    """``out``, a fresh result of a function of ``input``, laid out as PyTorch's kernels that
    allocate with the input's suggested format write it: channels-last when ``input`` is,
    row-major otherwise (``F.pad``, ``group_norm``). Values do not change."""
    _relay(out, _suggested(input))
    return out


def follow_layout(out, like):
    """``out``, a fresh result of ``like``'s shape, laid out with its dims in the order of
    ``like``'s strides (largest first), as a kernel that allocates its result in its input's
    stride order writes it (PyTorch's CPU flash attention). Values do not change."""
    array, model = _strided_array(out), _strided_array(like)
    if array is None or model is None or model.flags.c_contiguous or array.shape != model.shape:
        return out
    if 0 in model.strides:  # broadcast dims: no order to follow
        return out
    order = tuple(sorted(range(model.ndim), key=lambda d: -model.strides[d]))
    out._data = lay_out(out.device.xp, array, order)
    return out


def _strided_array(tensor):
    """``tensor``'s NumPy or CuPy array, or None for records without strides (vmap's batched
    arrays, sparse and nested records), whose layout is not this decorator's to change."""
    array = getattr(tensor, "_data", None)
    if isinstance(array, np.ndarray) or type(array).__name__ == "ndarray":  # CuPy's
        return array
    return None


def _suggested(tensor):
    array = _strided_array(tensor)
    return contiguous_format if array is None else suggest(array)


def _relay(tensor, fmt) -> None:
    """Lay the fresh result ``tensor`` out in ``fmt`` (row-major where it lacks the rank of
    ``fmt``) unless it already is."""
    array = _strided_array(tensor)
    if array is None:
        return
    if fmt in _ORDER and array.ndim != len(_ORDER[fmt]):
        fmt = contiguous_format
    if not is_in_format(array, fmt):
        perm = permutation(fmt, array.ndim, "output_layout")
        tensor._data = lay_out(tensor.device.xp, array, perm)
