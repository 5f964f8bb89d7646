"""Vectorized forms of PyTorch's CPU rejection samplers, for inputs that allow them.

PyTorch's gamma sampler (Marsaglia and Tsang) runs element after element: each element makes
tries until one is accepted, and each try takes a normal number (PyTorch's one-at-a-time
Box-Muller: a pair of uniforms gives a cosine and a cached sine) and one uniform to accept.
When every element has the same concentration ``alpha >= 1``, a try does not depend on which
element it serves, so all tries can be computed at once: the ``k``-th accepted try is the
``k``-th element. The stream positions of the tries are fixed (alternately a new pair and
the cached sine) except after a try with ``1 + c·x <= 0``, which takes no accepting uniform;
the tries are cut there and resumed after it. Every operation is the scalar loop's, in the
same order, in IEEE double (``log`` is the C library's: :func:`minigrad._c_log.c_log`), so
the numbers and the generator state afterwards are the scalar loop's bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from ._c_log import c_log

_SQUEEZE = 0.0331  # Marsaglia and Tsang's squeeze constant (as in _torch_samplers)


def gamma_vectorizes(c: float) -> bool:
    """Whether :func:`gamma_same_alpha` is faster than the scalar loop for this ``c``: batches
    are cut at tries with ``1 + c·x <= 0``, which for ``alpha`` near 1 come often enough
    that the batches' fixed cost outweighs the scalar loop (from about ``alpha`` 1.4 on)."""
    return _cut_gap(c) >= 1000


def _cut_gap(c: float) -> float:
    """The mean number of tries between two with ``1 + c·x <= 0`` (``x`` below ``-1/c``)."""
    return 1.0 / max(0.5 * math.erfc(1.0 / (c * math.sqrt(2.0))), 1e-300)


def gamma_same_alpha(gen, n: int, d: float, c: float) -> np.ndarray:
    """``n`` Gamma(alpha, 1) draws (float64) for one ``alpha >= 1`` with ``d = alpha - 1/3``
    and ``c = 1 / sqrt(9 d)`` as the scalar sampler takes them."""
    state, cache = gen.get_state(), gen._next_normal
    gen._next_normal = None
    uniforms, used, parts, remaining = np.empty(0), 0, [], n
    gap = _cut_gap(c)
    while remaining:
        tries = int(min(remaining + remaining // 8 + 16, max(256.0, gap)))
        need = used + 2 * tries + 2  # tries alternate 3 and 1 uniforms
        if need > uniforms.size:
            more = gen.unit_floats(need - uniforms.size + n // 4, np.float64)
            uniforms = np.concatenate([uniforms, more])
        values, step, cache = _tries(uniforms[used:], cache, tries, d, c, remaining)
        parts.append(values)
        used += step
        remaining -= values.size
    gen.set_state(state)  # then the generator is left right after the uniforms used
    gen._next_normal = None
    gen.unit_floats(used, np.float64)
    gen._next_normal = cache
    return np.concatenate(parts) if parts else np.empty(0)


def _tries(uniforms, cache, tries: int, d: float, c: float, wanted: int):
    """Up to ``wanted`` accepted values of ``tries`` tries on ``uniforms``, the uniforms
    used, and the cached normal number afterwards (None when there is none)."""
    pair = np.arange(tries) % 2 == (0 if cache is None else 1)  # tries that draw a new pair
    end = np.cumsum(np.where(pair, 3, 1))  # a pair and an accepting uniform, or the latter
    start = end - np.where(pair, 3, 1)
    x, sines = _normals(uniforms, start[pair], pair, cache)
    y = 1.0 + c * x
    cut = np.flatnonzero(y <= 0)
    cut = int(cut[0]) if cut.size else tries
    y, x = y[:cut], x[:cut]
    v = y * y * y
    u = 1.0 - uniforms[end[:cut] - 1]
    xsq = x * x
    accepted = u < 1.0 - _SQUEEZE * xsq * xsq
    rest = np.flatnonzero(~accepted)
    if rest.size:
        vr = v[rest]
        bound = 0.5 * xsq[rest] + d * (1.0 - vr + c_log(vr))
        accepted[rest] = c_log(u[rest]) < bound
    chosen = np.flatnonzero(accepted)[:wanted]
    if chosen.size == wanted:  # done: the generator stops after the last accepted try
        last = int(chosen[-1])
        return d * v[chosen], int(end[last]), _cache_after(last, pair, sines)
    if cut < tries:  # a try with y <= 0 takes its normal number only
        used = int(start[cut]) + (2 if pair[cut] else 0)
        return d * v[chosen], used, _cache_after(cut, pair, sines)
    return d * v[chosen], int(end[-1]), _cache_after(tries - 1, pair, sines)


def _normals(uniforms, pair_starts, pair, cache):
    """The normal number of each try (a new pair's cosine, or the sine cached before it)
    and, per try, the sine a pair leaves cached (NaN for the other tries)."""
    u1, u2 = uniforms[pair_starts], uniforms[pair_starts + 1]
    radius = np.sqrt(-2.0 * c_log(1.0 - u2))
    theta = 2.0 * math.pi * u1
    x = np.empty(pair.size)
    sines = np.full(pair.size, np.nan)
    x[pair] = radius * np.cos(theta)
    sines[pair] = radius * np.sin(theta)
    cached = np.flatnonzero(~pair)
    x[cached] = sines[cached - 1] if cache is None else np.append(cache, sines[cached[1:] - 1])
    return x, sines


def _cache_after(k: int, pair, sines):
    return float(sines[k]) if pair[k] else None


# -- Poisson with one rate below 10: products of uniforms -------------------------------------
def poisson_same_small_rate(gen, n: int, rate: float) -> np.ndarray:
    """``n`` Poisson counts (float64) for one rate in (0, 10), as PyTorch's multiplication
    method: an element multiplies uniforms until the product is ``exp(-rate)`` or less and
    counts them less one. The stream splits into such segments one after the other; the
    length of the segment that would start at each position is computed for all positions
    at once (running products, the same multiplications in the same order), then the chain
    of segments is followed from the first position."""
    floor = math.exp(-rate)
    first = int(rate + 3 * math.sqrt(rate)) + 3  # factors most segments need at most
    state, cache = gen.get_state(), gen._next_normal
    gen._next_normal = None
    uniforms = gen.unit_floats(int(n * (rate + 1) * 1.1) + 64, np.float64)
    counts, start = [], 0
    while True:
        lengths = _segment_lengths(uniforms[start:], floor, first).tolist() + [0]
        at, append = 0, counts.append
        for _ in range(n - len(counts)):
            step = lengths[at]
            if not step:  # the segment runs past the uniforms drawn: draw more
                break
            append(step - 1)
            at += step
        start += at
        if len(counts) == n:
            break
        more = (n - len(counts)) * (rate + 1) * 1.1 + 64
        uniforms = np.concatenate([uniforms, gen.unit_floats(int(more), np.float64)])
    gen.set_state(state)  # then the generator is left right after the uniforms used
    gen._next_normal = None
    gen.unit_floats(start, np.float64)
    gen._next_normal = cache
    return np.array(counts, dtype=np.float64)


def _segment_lengths(uniforms: np.ndarray, floor: float, first: int) -> np.ndarray:
    """For each position, how many uniforms from it on take their running product to
    ``floor`` or below (0 where the uniforms run out first). The first ``first`` factors
    are multiplied in for all positions at once (shifted slices: no gathers); as a running
    product only falls, the length is one more than the count of products still above."""
    size = uniforms.size
    product = uniforms.copy()
    above = (product > floor).astype(np.int64)
    for taken in range(2, min(first, size) + 1):
        width = size - taken + 1
        product[:width] *= uniforms[taken - 1 :]
        above[:width] += product[:width] > floor
    lengths = above + 1
    active = np.flatnonzero(product > floor)  # longer than ``first``, or past the end
    lengths[active] = 0
    product, taken = product[active], first
    while active.size:
        inside = active + taken < size
        active, product = active[inside], product[inside] * uniforms[active[inside] + taken]
        taken += 1
        done = product <= floor
        lengths[active[done]] = taken
        active, product = active[~done], product[~done]
    return lengths


# -- Poisson with one rate of 10 or more: Hörmann's PTRS, two uniforms a try -----------------
_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def poisson_same_large_rate(gen, n: int, rate: float) -> np.ndarray:
    """``n`` Poisson counts (float64) for one rate of at least 10, as PyTorch's PTRS: every
    try takes two uniforms, so with one rate the ``k``-th accepted try is the ``k``-th
    element and all tries are computed at once (the scalar loop's operations, in order)."""
    state, cache = gen.get_state(), gen._next_normal
    gen._next_normal = None
    uniforms = np.empty(0)
    parts, used, remaining = [], 0, n
    while remaining:
        tries = remaining + remaining // 4 + 32
        more = 2 * (used + tries) - uniforms.size
        if more > 0:
            uniforms = np.concatenate([uniforms, gen.unit_floats(more, np.float64)])
        pairs = uniforms[2 * used : 2 * (used + tries)].reshape(-1, 2)
        counts, accepted = _ptrs_tries(pairs[:, 0], pairs[:, 1], rate)
        chosen = np.flatnonzero(accepted)[:remaining]
        parts.append(counts[chosen])
        remaining -= chosen.size
        used += int(chosen[-1]) + 1 if not remaining else tries
    gen.set_state(state)  # then the generator is left right after the uniforms used
    gen._next_normal = None
    gen.unit_floats(2 * used, np.float64)
    gen._next_normal = cache
    return np.concatenate(parts) if parts else np.empty(0)


def _ptrs_tries(first: np.ndarray, second: np.ndarray, rate: float) -> tuple:
    """The count of each PTRS try from its two uniforms, and whether it is accepted."""
    root, log_rate = math.sqrt(rate), math.log(rate)
    b = 0.931 + 2.53 * root
    a = -0.059 + 0.02483 * b
    log_inv_alpha = math.log(1.1239 + 1.1328 / (b - 3.4))
    v_r = 0.9277 - 3.6224 / (b - 2)
    u, v = first - 0.5, second
    us = 0.5 - np.abs(u)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.floor((2 * a / us + b) * u + rate + 0.43)
    accepted = (us >= 0.07) & (v <= v_r)
    rest = np.flatnonzero(~accepted & ~((k < 0) | ((us < 0.013) & (v > us))))
    if rest.size:
        kr, usr = k[rest], us[rest]
        bound = -rate + kr * log_rate - _lgamma(kr + 1).astype(np.float64)
        lhs = c_log(v[rest]) + log_inv_alpha - c_log(a / (usr * usr) + b)
        accepted[rest] = lhs <= bound
    return k, accepted
