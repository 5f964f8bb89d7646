"""Sliding windows over images: their geometry, strided views of them, and the adjoint that
sums windows back into an image. Convolution, unfold and pooling are built on these.

A window op describes where its windows lie with a :class:`Geometry` and reads them through a
strided view of the (padded) input, so nothing loops over pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

from ... import dtypes

# The integer dtypes PyTorch's CPU convolution and pooling kernels take where they take
# integers at all (none of them takes bool or the 16-64 bit unsigned types)
INTEGERS = (dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64, dtypes.uint8)


@dataclass(frozen=True)
class Geometry:
    """Where the windows of a 2-D sliding-window op lie over an (N, C, H, W) input.

    The input sits at offset ``pad`` (top, left) inside a padded frame of ``padded`` size;
    window (h, w) covers frame rows ``h·stride + i·dilation`` for ``i < kernel``. Rows of the
    input past the last window are never read (their gradient is zero).
    """

    size: tuple  # (H, W) of the input
    kernel: tuple
    stride: tuple
    dilation: tuple
    pad: tuple  # (top, left)
    out: tuple  # (Ho, Wo)

    @property
    def padded(self) -> tuple:
        """The (rows, cols) of the padded frame that the windows span."""
        return tuple(
            (o - 1) * s + d * (k - 1) + 1
            for o, s, d, k in zip(self.out, self.stride, self.dilation, self.kernel)
        )

    @property
    def disjoint(self) -> bool:
        """True if no input position lies in two windows (nor twice in one)."""
        return all(
            k == 1 or (d == 1 and s >= k)
            for k, s, d in zip(self.kernel, self.stride, self.dilation)
        )


def make_geometry(size, kernel, stride, dilation, pad_before, pad_after, ceil_mode=False):
    """The :class:`Geometry` of windows over an input of ``size`` (H, W); sizes are 2-tuples.

    The output size is ``floor((n + pads - d·(k-1) - 1) / s) + 1`` per dim, or its ceiling with
    ``ceil_mode`` (as PyTorch's pooling: a last window must start inside the input or its left
    padding).
    """
    out = []
    for n, k, s, d, lo, hi in zip(size, kernel, stride, dilation, pad_before, pad_after):
        span = n + lo + hi - d * (k - 1) - 1
        if span < 0 and not ceil_mode:
            out.append(0)
            continue
        o = -(-span // s) + 1 if ceil_mode else span // s + 1  # ceil also for span < 0
        if ceil_mode and (o - 1) * s >= n + lo:
            o -= 1
        out.append(o)
    return Geometry(
        tuple(size), tuple(kernel), tuple(stride), tuple(dilation), tuple(pad_before), tuple(out)
    )


def padded_frame(xp, x, geom: Geometry, value=0):
    """``x`` (N, C, H, W) placed in a frame of ``geom.padded`` size filled with ``value``.

    Returns ``x`` itself when the windows need no padding (they may skip its last rows).
    """
    (hp, wp), (pt, pl) = geom.padded, geom.pad
    n, c, h, w = x.shape
    if pt == 0 and pl == 0 and hp <= h and wp <= w:
        return x
    frame = xp.full((n, c, hp, wp), value, dtype=x.dtype)
    rows, cols = max(0, min(h, hp - pt)), max(0, min(w, wp - pl))
    frame[:, :, pt : pt + rows, pl : pl + cols] = x[:, :, :rows, :cols]
    return frame


def window_view(xp, frame, geom: Geometry, order: str):
    """A strided view of every window of ``frame``, without copying.

    ``order`` spells the axes of the view with the letters n, c (batch, channel), i, j (offset
    inside the window) and h, w (window position): ``"cijnhw"`` for im2col, ``"nchwij"`` for
    pooling.
    """
    sn, sc, sh, sw = frame.strides
    (kh, kw), (dh, dw), (st_h, st_w), (ho, wo) = geom.kernel, geom.dilation, geom.stride, geom.out
    axes = {
        "n": (frame.shape[0], sn),
        "c": (frame.shape[1], sc),
        "i": (kh, dh * sh),
        "j": (kw, dw * sw),
        "h": (ho, st_h * sh),
        "w": (wo, st_w * sw),
    }
    shape = tuple(axes[a][0] for a in order)
    strides = tuple(axes[a][1] for a in order)
    return xp.lib.stride_tricks.as_strided(frame, shape=shape, strides=strides)


def offset_view(frame, geom: Geometry, i: int, j: int):
    """The (N, C, Ho, Wo) view of ``frame`` holding element (i, j) of every window."""
    (dh, dw), (sh, sw), (ho, wo) = geom.dilation, geom.stride, geom.out
    rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
    return frame[:, :, rows, j * dw : j * dw + sw * (wo - 1) + 1 : sw]


def add_windows(xp, part, geom: Geometry, shape: tuple, dtype, views: bool = False):
    """The adjoint of reading windows: an array of ``shape`` (N, C, H, W) where each position
    sums ``part(i, j)[n, c, h, w]`` over the windows (h, w) and offsets (i, j) that cover it.

    ``part(i, j)`` gives the (N, C, Ho, Wo) values for offset (i, j) of every window. The sum
    runs by stride phase: the output positions whose padded coordinates leave remainder
    (r_h, r_w) by the stride are reached only by the offsets of that remainder, each as a
    dense shifted block of the phase's sub-grid. A phase of several offsets along a strided
    row is summed in a dense buffer and written once (strided adds into the output would
    touch every cache line of it once per offset); every other phase is added in place. The
    offsets are added in (i, j) order onto zeros, so the sums round as one pass over the
    offsets would. ``views``: the parts are views (cheap to slice), so a large output is
    summed in blocks of planes that stay in a core's cache while every offset adds into them.
    """
    n, c, h, w = shape
    out = xp.zeros(shape, dtype=dtype)
    rows = _phases(h, geom.kernel[0], geom.stride[0], geom.dilation[0], geom.pad[0], geom.out[0])
    cols = _phases(w, geom.kernel[1], geom.stride[1], geom.dilation[1], geom.pad[1], geom.out[1])
    phases = [
        (
            y0,
            x0,
            (count_h, count_w),
            [(i, si, di, j, sj, dj) for i, si, di in th for j, sj, dj in tw],
        )
        for y0, count_h, th in rows
        for x0, count_w, tw in cols
    ]
    if not views or out.nbytes <= 4 * BLOCK_BYTES or all(len(t) < 2 for *_, t in phases):
        _add_phases(xp, part, geom, out, phases)
        return out
    for lead in _blocks(n, c, h * w * out.itemsize):
        _add_phases(xp, lambda i, j, lead=lead: part(i, j)[lead], geom, out[lead], phases)
    return out


# Bytes of output that add_windows sums at once when its parts are views: a block of planes
# stays in a core's cache while all the offsets add into it.
BLOCK_BYTES = 256 * 2**10


def _blocks(n: int, c: int, plane: int) -> list:
    """Index tuples over (N, C) that cut an (N, C, H, W) array into blocks of whole planes of
    about :data:`BLOCK_BYTES`."""
    per = max(1, BLOCK_BYTES // max(1, plane))
    if per >= c:
        step = per // c
        return [(slice(a, a + step),) for a in range(0, n, step)]
    return [(a, slice(b, b + per)) for a in range(n) for b in range(0, c, per)]


def _add_phases(xp, part, geom: Geometry, out, phases) -> None:
    """Sum the offsets of each stride phase into ``out`` (see :func:`add_windows`)."""
    (sh, sw), disjoint = geom.stride, geom.disjoint
    for y0, x0, count, taps in phases:
        if not taps:
            continue
        view = out[..., y0::sh, x0::sw]
        buffered = len(taps) > 1 and sw > 1
        acc = xp.zeros(out.shape[:-2] + count, dtype=out.dtype) if buffered else view
        for i, src_i, dst_i, j, src_j, dst_j in taps:
            values = part(i, j)[..., src_i, src_j]
            if disjoint:  # each position lies in one window at most
                acc[..., dst_i, dst_j] = values
            else:
                acc[..., dst_i, dst_j] += values
        if buffered:
            view[...] = acc


def _phases(size: int, k: int, s: int, d: int, pad: int, windows: int) -> list:
    """The stride phases of one axis of :func:`add_windows`: for each first output index y0
    (of the positions y0, y0 + s, ... below ``size``), its count and the offsets i that reach
    it, with the slice of windows each reads and the slice of the phase's sub-grid it adds to.
    Window h, offset i covers padded position h·s + i·d = s·(h + i·d // s) + i·d % s."""
    phases = []
    for y0 in range(min(s, size)):
        count = len(range(y0, size, s))
        q0, r = divmod(y0 + pad, s)
        taps = []
        for i in range(k):
            shift = i * d // s
            lo, hi = max(0, q0 - shift), min(windows, q0 + count - shift)
            if i * d % s == r and lo < hi:
                taps.append((i, slice(lo, hi), slice(lo + shift - q0, hi + shift - q0)))
        phases.append((y0, count, taps))
    return phases


def im2col(xp, x, geom: Geometry, order: str = "cijnhw"):
    """Every window of ``x`` (N, C, H, W) copied into one contiguous array, axes in ``order``."""
    return xp.ascontiguousarray(window_view(xp, padded_frame(xp, x, geom), geom, order))


def refuse_dtype(x, kernel: str, integers=(), complex_ok: bool = False) -> None:
    """Raise what PyTorch raises for an integer, bool or complex ``x`` its CPU ``kernel`` has
    no implementation for (``"slow_conv2d_cpu" not implemented for 'Bool'``, its exact words);
    ``integers``: the integer dtypes the kernel does compute; ``complex_ok``: it computes
    complex numbers too (convolutions do, pooling does not). Floats always pass."""
    d = x.dtype
    if d.is_floating_point or (complex_ok and d.is_complex) or d in integers:
        return
    if getattr(x, "is_quantized", False):  # (pooled by minigrad._quantized)
        return
    raise NotImplementedError(f"\"{kernel}\" not implemented for '{dtypes.scalar_type_name(d)}'")


def adaptive_rank(input, output_size) -> None:
    """PyTorch's ValueError for adaptive pooling of an input with no more dims than a sequence
    ``output_size`` has entries ("Input dimension should be at least 3"), which its Python
    wrappers raise before the kernel sees the input (its rank, its dtype)."""
    from ..modules.utils import _list_with_default

    if hasattr(input, "shape") and isinstance(output_size, (tuple, list)):
        _list_with_default(output_size, tuple(input.shape))


def adaptive_sizes(output_size, n: int, op: str):
    """An adaptive pool's ``output_size`` as ``n`` entries (an int repeated); PyTorch's
    RuntimeError for a sequence of another length (where its kernel would read past it)."""
    if not isinstance(output_size, (tuple, list)):
        return (output_size,) * n
    if len(output_size) != n:
        raise RuntimeError(f"{op}: output_size must be {n}, got {list(output_size)}")
    return output_size


def empty_output(sizes, op: str) -> bool:
    """Whether an adaptive pool's ``sizes`` make an empty output (a size of 0, which PyTorch
    allows); a negative size raises PyTorch's RuntimeError."""
    if any(s < 0 for s in sizes):
        raise RuntimeError(
            f"{op}: elements of output_size must be greater than or equal to 0 but received "
            f"{list(sizes)}"
        )
    return 0 in sizes


def empty_pooled(x, first: int, sizes):
    """The empty result of an adaptive pool of ``x`` (its dims from ``first`` pooled to
    ``sizes``, one of them 0), in ``x``'s graph."""
    return x.reshape(-1)[:0].reshape(*x.shape[:first], *sizes)


def window_args_first(op: str, n: int, **values) -> None:
    """Refuse a window argument of a wrong type (a Tensor for ``kernel_size``) before the
    input's rank is checked, as PyTorch's argument parser does (its TypeError); ints, tuples
    and lists pass untouched (parsed later, with the input's rank known)."""
    for name, value in values.items():
        if value is not None and type(value) not in (int, tuple, list):
            pair(value, name, op, n)


def pair(value, name: str, op: str, n: int = 2) -> tuple:
    """An int or a sequence of ``n`` ints as an ``n``-tuple of ints (PyTorch's ``_pair``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * n
    if isinstance(value, str):  # (PyTorch's parser words: a string is a sequence of str)
        raise TypeError(
            f"{op}(): argument '{name}' must be tuple of ints, but found element of type str "
            "at pos 0"
        )
    try:
        values = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(
            f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}"
        ) from None
    if len(values) == 1:
        values *= n
    if len(values) != n:  # (PyTorch's kernels: a RuntimeError)
        raise RuntimeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return values
