"""PyTorch's CPU samplers on top of :class:`~minigrad._torch_random.TorchRandom`.

Each function takes a ``TorchRandom`` and draws the same words, in the same order, that
PyTorch's CPU kernel draws after the same seed, and turns them into numbers the same way.
The algorithms were found by comparing PyTorch's outputs with the raw twister words:

* ``bernoulli_`` with a number ``p``: one double uniform (a 64-bit draw) per element,
  ``u < p``. This is the path PyTorch takes on AMD and other non-Intel CPUs (verified on an
  AMD EPYC with PyTorch 2.13). PyTorch builds with MKL check the CPU vendor and on Intel CPUs
  draw these masks through MKL's own generator instead; minigrad does not reproduce that
  path, so there its masks (and dropout's) differ from PyTorch's, with the same distribution.
* ``bernoulli`` with a tensor of probabilities: one uniform of the probabilities' precision
  per element (float64 probabilities: a double; all others a 24-bit float), ``u < p``.
  Dropout draws ``bernoulli_(1 - p)`` on a tensor of the mask's shape, so it follows the
  scalar rule.
* ``exponential_``: ``-log1p(-u) / lambda``, ``geometric_``: ``ceil(log(u) / log1p(-p))``,
  ``cauchy_``: ``median + sigma * tan(pi * (u - 1/2))``, all from double uniforms; computed in
  double and rounded to the tensor's dtype.
* ``log_normal_``: ``exp(mean + std * z)`` with ``z`` from PyTorch's one-at-a-time double
  Box-Muller (pairs, the second number of a pair cached in the generator).
* ``multinomial``: with replacement, one double uniform per sample (rows outer), looked up
  in the row's normalised cumulative sums; without replacement (and for one sample),
  exponentials ``e`` of the input's dtype and the largest ``p / e`` of each row.
* ``rrelu`` in training: one double uniform per element ``x <= 0`` only, in order.
* ``_standard_gamma``/``_sample_dirichlet``, ``poisson`` and ``binomial``: PyTorch's
  rejection samplers, element after element (each element takes a random number of words
  from the one stream, so this loop is sequential Python: about 1-4 microseconds an element,
  see the functions below), except one concentration of at least about 1.4 for all elements
  (gamma) and one rate (Poisson), which are vectorized with the same numbers
  (:mod:`minigrad._torch_rejection`).
* Tensors made by ``empty_like`` of a transposed tensor are filled in memory order
  (:func:`memory_order`).

Masks, counts, indices and float32 results are PyTorch's bit for bit. Float64 results of
transcendental functions (``log1p``, ``tan``, ``exp``) are the C library's, one element at a
time as PyTorch computes them (:func:`minigrad._libm.libm`: NumPy's own loops run SVML code on
AVX-512 CPUs, whose last bits differ).
"""

from __future__ import annotations

import math

import numpy as np

from ._libm import libm
from ._torch_rejection import (
    gamma_same_alpha,
    gamma_vectorizes,
    poisson_same_large_rate,
    poisson_same_small_rate,
)

_F64 = np.dtype(np.float64)
_HIGH_21 = (1 << 21) - 1  # the bits of a 64-bit draw's high word that a double keeps


def doubles(gen, n: int) -> np.ndarray:
    """``n`` uniform doubles in [0, 1) (one 64-bit draw each)."""
    return gen.unit_floats(int(n), _F64)


def bernoulli_scalar(gen, shape, p: float) -> np.ndarray:
    """A bool mask of ``shape``, True with probability ``p`` (``bernoulli_(p)``).

    ``u < p`` for the double ``u = m / 2**53`` of each 64-bit draw is ``m < ceil(p * 2**53)``
    on the 53-bit integers ``m``, which skips the conversion to floats."""
    p = float(p)
    threshold = 0 if not p > 0 else min(math.ceil(p * 2.0**53), 1 << 53)
    pairs = gen.words32(2 * math.prod(shape)).reshape(-1, 2)
    # compare the high 21 bits first; only where they equal the threshold's do the low 32
    # bits decide (about one element in 2**21)
    high, low = divmod(threshold, 1 << 32)
    bits = pairs[:, 0] & np.uint64(_HIGH_21)
    mask = bits < np.uint64(high)
    tied = np.flatnonzero(bits == np.uint64(high))
    if tied.size:
        mask[tied] = pairs[tied, 1] < np.uint64(low)
    return mask.reshape(shape)


def bernoulli_tensor(gen, probs: np.ndarray) -> np.ndarray:
    """A bool mask, True where a uniform of ``probs``' precision is below ``probs``."""
    precision = _F64 if probs.dtype == _F64 else np.dtype(np.float32)
    u = gen.unit_floats(probs.size, precision).reshape(probs.shape)
    return u < probs.astype(np.float64, copy=False)


def exponential(gen, n: int, lambd: float) -> np.ndarray:
    """``n`` Exponential(lambd) numbers (float64)."""
    return (-1.0 / float(lambd)) * libm("log1p", -doubles(gen, n))


def geometric(gen, n: int, p: float) -> np.ndarray:
    """``n`` Geometric(p) trial counts 1, 2, ... (float64)."""
    with np.errstate(divide="ignore"):
        return np.ceil(libm("log", doubles(gen, n)) / math.log1p(-float(p)))


def cauchy(gen, n: int, median: float, sigma: float) -> np.ndarray:
    """``n`` Cauchy(median, sigma) numbers (float64)."""
    return float(median) + float(sigma) * libm("tan", math.pi * (doubles(gen, n) - 0.5))


def double_normals(gen, n: int) -> np.ndarray:
    """``n`` standard normal doubles drawn one Box-Muller pair at a time, as PyTorch's scalar
    normal sampler (a cached second number is used first; an odd count caches one)."""
    # TorchRandom keeps the cached number in ``_next_normal``; this is the vectorized form
    # of its one-at-a-time draw, so it reads and writes the same cache
    n = int(n)
    out = np.empty(n)
    start = 0
    if n and gen._next_normal is not None:
        out[0], gen._next_normal, start = gen._next_normal, None, 1
    rest = n - start
    pairs = (rest + 1) // 2
    u = doubles(gen, 2 * pairs).reshape(-1, 2)
    radius = np.sqrt(-2.0 * libm("log1p", -u[:, 1]))
    theta = 2.0 * math.pi * u[:, 0]
    values = np.stack([radius * libm("cos", theta), radius * libm("sin", theta)], axis=1)
    values = values.reshape(-1)
    out[start:] = values[:rest]
    if rest % 2:
        gen._next_normal = float(values[-1])
    return out


def log_normal(gen, n: int, mean: float, std: float) -> np.ndarray:
    """``n`` LogNormal(mean, std) numbers (float64)."""
    return libm("exp", double_normals(gen, n) * float(std) + float(mean))


def uniform_doubles(gen, n: int, dtype, low: float, high: float) -> np.ndarray:
    """``n`` U(low, high) numbers from double uniforms, the bounds rounded to ``dtype`` and
    the scaling in double (``rrelu``'s slopes)."""
    dtype = np.dtype(dtype)
    low, high = float(dtype.type(low)), float(dtype.type(high))
    return (doubles(gen, n) * (high - low) + low).astype(dtype)


def multinomial(gen, rows: np.ndarray, num_samples: int, replacement: bool) -> np.ndarray:
    """Category indices (int64, ``(rows, num_samples)``) from the rows of non-negative
    weights ``rows`` (2-D, validated by the caller)."""
    if replacement and num_samples > 1:
        return _multinomial_replacement(gen, rows, num_samples)
    dtype = rows.dtype
    e = exponential(gen, rows.size, 1.0).astype(dtype).reshape(rows.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        keys = rows / e
    if num_samples == 1:
        return np.argmax(keys, axis=1)[:, None].astype(np.int64)
    return np.argsort(-keys, axis=1, kind="stable")[:, :num_samples].astype(np.int64)


def _multinomial_replacement(gen, rows, num_samples):
    work = rows.astype(np.float64)
    cdf = np.cumsum(work / work.sum(axis=1, keepdims=True), axis=1)
    cdf[:, -1] = 1.0
    u = doubles(gen, rows.shape[0] * num_samples).reshape(rows.shape[0], num_samples)
    out = np.empty(u.shape, dtype=np.int64)
    for i in range(rows.shape[0]):  # one row at a time: searchsorted is per sorted array
        out[i] = np.searchsorted(cdf[i], u[i], side="left")
    return np.minimum(out, rows.shape[1] - 1)


def dropout_scale(dtype, p: float):
    """Dropout's factor 1/(1 - p) as PyTorch's ``div_`` of the mask computes it: in the dtype
    for float32 and float64, in float32 (then rounded) for the half-precision floats."""
    dtype = np.dtype(dtype)
    if dtype.itemsize >= 4:
        return dtype.type(1.0) / dtype.type(1.0 - p)
    return dtype.type(np.float32(1.0) / np.float32(1.0 - p))


def memory_order(array) -> tuple | None:
    """The axes of ``array`` from the outermost in memory to the innermost, when they differ
    from the logical order and the array is dense (a permuted contiguous array); else None.

    PyTorch fills a tensor made by ``empty_like`` (dropout's mask, ``bernoulli_``'s output)
    in memory order, so a transposed input gets its numbers in a transposed order."""
    if not isinstance(array, np.ndarray) or array.ndim < 2 or array.flags.c_contiguous:
        return None  # (also a GPU array, drawn from its own stream, or a batched one in vmap)
    strides = array.strides
    order = tuple(sorted(range(array.ndim), key=lambda axis: -abs(strides[axis])))
    if order == tuple(range(array.ndim)):
        return None
    return order if np.transpose(array, order).flags.c_contiguous else None


# -- gamma: Marsaglia and Tsang's rejection sampler, one element after the other -----------

_GAMMA_SQUEEZE = 0.0331
_THIRD = np.float32(1) / np.float32(3)  # PyTorch's 1/3 is a float32 constant in every dtype


def standard_gamma(gen, alphas: np.ndarray) -> np.ndarray:
    """Gamma(alpha, 1) samples of ``alphas`` (float32 or float64), as PyTorch's CPU kernel.

    Marsaglia and Tsang's method, one element after the other: ``alpha < 1`` first draws a
    double uniform ``u`` and takes ``alpha + 1`` with the factor ``(1 - u)^(1/alpha)``; then
    normal numbers ``x`` (PyTorch's one-at-a-time Box-Muller) until ``1 + c·x > 0``, and one
    uniform to accept or reject. ``alpha - 1/3`` (1/3 rounded to float32) and ``1/alpha`` are
    taken in the dtype, the rest in double. Each element draws a random number of words from the one stream, so the
    loop is sequential; its arithmetic is Python's ``math`` (the C library's functions, as
    PyTorch's): float32 results are PyTorch's bit for bit, float64 within an ulp or two.
    """
    dtype = alphas.dtype
    flat = alphas.reshape(-1)
    small = flat < 1
    work = np.where(small, flat + dtype.type(1), flat).astype(dtype)
    d = (work - dtype.type(_THIRD)).astype(np.float64)
    c = 1.0 / np.sqrt(9.0 * d)
    with np.errstate(divide="ignore"):
        inverse = (dtype.type(1) / flat).astype(np.float64)
    if _same_alpha_vectorizes(flat, c):
        values = gamma_same_alpha(gen, flat.size, float(d[0]), float(c[0]))  # vectorized
    else:
        values = _gamma_loop(gen, flat.tolist(), small.tolist(), inverse.tolist(), d.tolist(), c)
    tiny = np.finfo(dtype).tiny
    return np.maximum(np.asarray(values).astype(dtype), tiny).reshape(alphas.shape)


def _same_alpha_vectorizes(flat: np.ndarray, c: np.ndarray) -> bool:
    """One finite ``alpha`` of at least 1 for every element, large enough to vectorize."""
    if not flat.size or not (np.isfinite(flat[0]) and flat[0] >= 1 and (flat == flat[0]).all()):
        return False
    return gamma_vectorizes(float(c[0]))


def _gamma_loop(gen, alphas, small, inverse, d_list, c):
    n = len(alphas)
    state = gen.get_state()
    stream = _DoubleStream(gen, 3 * n + 16)
    out = [0.0] * n
    c_list = c.tolist()
    for i in range(n):
        if alphas[i] == 0:
            continue
        scale = (1.0 - stream.uniform()) ** inverse[i] if small[i] else 1.0
        d, ci = d_list[i], c_list[i]
        while True:
            x = stream.normal()
            y = 1.0 + ci * x
            if y <= 0:
                continue
            v = y * y * y
            u = 1.0 - stream.uniform()
            xsq = x * x
            if u < 1.0 - _GAMMA_SQUEEZE * xsq * xsq:
                break
            if math.log(u) < 0.5 * xsq + d * (1.0 - v + math.log(v)):
                break
        out[i] = scale * d * v
    stream.finish(state)
    return out


class _DoubleStream:
    """Double uniforms read ahead in blocks; :meth:`finish` leaves the generator exactly
    after the ones used (and its Box-Muller cache as PyTorch's would be)."""

    def __init__(self, gen, expected: int):
        self.gen, self.used, self.block = gen, 0, max(int(expected), 16)
        self.cache, gen._next_normal = gen._next_normal, None
        self.values = doubles(gen, self.block).tolist()

    def uniform(self) -> float:
        if self.used >= len(self.values):
            self.values.extend(doubles(self.gen, self.block).tolist())
        value = self.values[self.used]
        self.used += 1
        return value

    def normal(self) -> float:
        if self.cache is not None:
            value, self.cache = self.cache, None
            return value
        u1, u2 = self.uniform(), self.uniform()
        radius = math.sqrt(-2.0 * math.log(1.0 - u2))
        theta = 2.0 * math.pi * u1
        self.cache = radius * math.sin(theta)
        return radius * math.cos(theta)

    def finish(self, state) -> None:
        self.gen.set_state(state)
        self.gen._next_normal = None
        doubles(self.gen, self.used)
        self.gen._next_normal = self.cache


def dirichlet(gen, alphas: np.ndarray) -> tuple:
    """``(gammas, samples)``: the Gamma(alpha, 1) draws (float64, the concentrations taken in
    double) and their normalisation along the last axis, rounded to ``alphas``' dtype and
    kept above its smallest normal number, as PyTorch's ``_sample_dirichlet``."""
    gammas = standard_gamma(gen, alphas.astype(np.float64))
    samples = (gammas / gammas.sum(axis=-1, keepdims=True)).astype(alphas.dtype)
    return gammas, np.maximum(samples, np.finfo(alphas.dtype).tiny)


# -- Poisson and binomial: rejection samplers, one element after the other ------------------


def poisson(gen, rates: np.ndarray) -> np.ndarray:
    """Poisson counts (float64) of ``rates``, as PyTorch's CPU ``poisson``: rates below 10
    multiply double uniforms until the product falls to ``exp(-rate)`` or below; larger
    rates use Hörmann's transformed rejection with squeeze (PTRS, 1993), two uniforms a try.
    """
    flat = rates.astype(np.float64).reshape(-1).tolist()
    if flat and 0 < flat[0] < 10 and (rates == flat[0]).all():  # one rate: vectorized
        return poisson_same_small_rate(gen, len(flat), flat[0]).reshape(rates.shape)
    if flat and 10 <= flat[0] < math.inf and (rates == flat[0]).all():
        return poisson_same_large_rate(gen, len(flat), flat[0]).reshape(rates.shape)
    state = gen.get_state()
    stream = _DoubleStream(gen, 4 * len(flat) + 16)
    out = [_poisson_one(rate, stream.uniform) for rate in flat]
    stream.finish(state)
    return np.array(out, dtype=np.float64).reshape(rates.shape)


def _poisson_one(rate: float, uniform) -> float:
    if rate == 0:
        return 0.0
    if rate < 10:
        floor, count, product = math.exp(-rate), 0, 1.0
        while True:
            product *= uniform()
            if product <= floor:
                return float(count)
            count += 1
    root, log_rate = math.sqrt(rate), math.log(rate)
    b = 0.931 + 2.53 * root
    a = -0.059 + 0.02483 * b
    log_inv_alpha = math.log(1.1239 + 1.1328 / (b - 3.4))
    v_r = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = uniform() - 0.5
        v = uniform()
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + rate + 0.43)
        if us >= 0.07 and v <= v_r:
            return float(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        bound = -rate + k * log_rate - math.lgamma(k + 1)
        if math.log(v) + log_inv_alpha - math.log(a / (us * us) + b) <= bound:
            return float(k)


def binomial(gen, counts: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Binomial counts (float64), as PyTorch's CPU ``binomial``: with ``q = min(p, 1 - p)``,
    ``n·q < 10`` sums geometric gaps (inversion), larger ones use Hörmann's BTRS (1993); a
    ``p > 1/2`` draw counts the failures."""
    n_list = counts.astype(np.float64).reshape(-1).tolist()
    p_list = probs.astype(np.float64).reshape(-1).tolist()
    state = gen.get_state()
    stream = _DoubleStream(gen, 4 * len(n_list) + 16)
    out = [_binomial_one(n, p, stream.uniform) for n, p in zip(n_list, p_list)]
    stream.finish(state)
    return np.array(out, dtype=np.float64).reshape(counts.shape)


def _binomial_one(n: float, p: float, uniform) -> float:
    if n <= 0 or p <= 0:
        return 0.0
    if p >= 1:
        return n
    q = min(p, 1.0 - p)
    drawn = _btrs(n, q, uniform) if n * q >= 10 else _binomial_inversion(n, q, uniform)
    return float(drawn) if p <= 0.5 else n - drawn


def _binomial_inversion(n, p, uniform):
    log_q, total, successes = math.log1p(-p), 0.0, 0
    while True:
        total += math.ceil(math.log(uniform()) / log_q)
        if total > n:
            return successes
        successes += 1


def _btrs(n, p, uniform):
    spread = math.sqrt(n * p * (1 - p))
    b = 1.15 + 2.53 * spread
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    v_r = 0.92 - 4.2 / b
    r = p / (1 - p)
    alpha = (2.83 + 5.1 / b) * spread
    m = math.floor((n + 1) * p)
    while True:
        u = uniform() - 0.5
        v = uniform()
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + c)
        if k < 0 or k > n:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        log_v = math.log(v * alpha / (a / (us * us) + b))
        bound = (
            (m + 0.5) * math.log((m + 1) / (r * (n - m + 1)))
            + (n + 1) * math.log((n - m + 1) / (n - k + 1))
            + (k + 0.5) * math.log(r * (n - k + 1) / (k + 1))
            + _stirling_tail(m)
            + _stirling_tail(n - m)
            - _stirling_tail(k)
            - _stirling_tail(n - k)
        )
        if log_v <= bound:
            return k


_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _stirling_tail(k: float) -> float:
    """log(k!) less Stirling's approximation of it: exact below 10, else its series."""
    if k <= 9:
        return math.lgamma(k + 1) - ((k + 0.5) * math.log(k + 1) - (k + 1) + _HALF_LOG_2PI)
    square = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / square) / square) / (k + 1)
