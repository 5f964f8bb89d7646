"""The fused CUDA kernels, as CuPy ``ElementwiseKernel``s and one ``RawModule`` of row kernels.

Nothing here compiles at import: kernel objects are built on first use from the ``cupy``
module the backend hands over (:class:`CudaKit`), and CuPy compiles each on its first launch.
Each kernel's NumPy twin, with the same formula, is in :mod:`minigrad._fused.twins`.

Elementwise kernels take the folded scalars of :class:`~minigrad._fused.FusedKit`. Row
kernels run one block of ``BLOCK`` threads per row of a C-contiguous (rows, n) array, reduce
with warp shuffles, and accumulate in the arrays' dtype ``T`` (float or double).
"""

from __future__ import annotations

import math

import numpy as np

from . import FusedKit

_ADAM_IN = "T g, T sign, T l2, T decay, T one_b1, T b2, T one_b2, T eps, T step, T bc2"
_ADAM = """T grad = sign * g;
        if (l2 != (T)0) grad += l2 * p;
        p = p * decay;
        m = m + one_b1 * (grad - m);
        v = b2 * v + one_b2 * grad * grad;
        {vhat}
        p = p - step * m / (sqrt({denom}) / bc2 + eps);"""

# name: (in_params, out_params, operation) of each ElementwiseKernel
ELEMENTWISE = {
    "mg_sgd": (
        "T g, T sign, T l2, T lr",
        "T p",
        "T grad = sign * g; if (l2 != (T)0) grad += l2 * p; p = p - lr * grad;",
    ),
    "mg_sgd_momentum": (
        "T g, T sign, T l2, T lr, T momentum, T keep, bool nesterov, bool first",
        "T p, T buf",
        """T grad = sign * g;
        if (l2 != (T)0) grad += l2 * p;
        buf = first ? grad : momentum * buf + keep * grad;
        grad = nesterov ? grad + momentum * buf : buf;
        p = p - lr * grad;""",
    ),
    "mg_adam": (_ADAM_IN, "T p, T m, T v", _ADAM.format(vhat="", denom="v")),
    "mg_adam_amsgrad": (
        _ADAM_IN,
        "T p, T m, T v, T vmax",
        # NaN propagates, as np.maximum
        _ADAM.format(vhat="vmax = (v > vmax || v != v) ? v : vmax;", denom="vmax"),
    ),
    "mg_gelu": ("T x", "T y", "y = x * ((T)0.5 * ((T)1 + erf(x * (T)0.7071067811865476)));"),
    "mg_gelu_tanh": (
        "T x",
        "T y",
        "T inner = (T)0.7978845608028654 * (x + (T)0.044715 * x * x * x);"
        "y = (T)0.5 * x * ((T)1 + tanh(inner));",
    ),
    "mg_gelu_backward": (
        "T gy, T x",
        "T gx",
        """T cdf = (T)0.5 * ((T)1 + erf(x * (T)0.7071067811865476));
        gx = gy * (cdf + x * ((T)0.3989422804014327 * exp((T)-0.5 * x * x)));""",
    ),
    "mg_gelu_tanh_backward": (
        "T gy, T x",
        "T gx",
        """T th = tanh((T)0.7978845608028654 * (x + (T)0.044715 * x * x * x));
        T dinner = (T)0.7978845608028654 * ((T)1 + (T)0.134145 * x * x);
        gx = gy * ((T)0.5 * ((T)1 + th) + (T)0.5 * x * ((T)1 - th * th) * dinner);""",
    ),
    "mg_cross_entropy_backward": (
        "T x, raw T mx, raw T ls, raw int64 target, raw T weight, raw T wsum, raw T scale, int64 c, "
        "int64 ignore_index, T eps, bool has_weight, int64 scale_stride",
        "T gx",
        """long long r = i / c, j = i % c;
        long long t = target[r];
        T valid = t != ignore_index ? (T)1 : (T)0;
        long long tc = t < 0 ? 0 : (t >= c ? c - 1 : t);
        T w_t = valid * (has_weight ? weight[tc] : (T)1);
        T w_j = has_weight ? weight[j] : (T)1;
        T q_sum = valid * (eps / (T)c * (has_weight ? wsum[0] : (T)c)) + ((T)1 - eps) * w_t;
        T q = valid * (eps / (T)c) * w_j + (j == tc ? ((T)1 - eps) * w_t : (T)0);
        gx = (exp((x - mx[r]) - ls[r]) * q_sum - q) * scale[r * scale_stride];""",
    ),
}

BLOCK = 256  # threads per row in the row kernels (a multiple of 32, at most 1024)

# The row kernels; ``T`` is defined before this source (``typedef float T;``).
ROW_SOURCE = r"""
#define BLOCK 256
#define NEG_INF ((T)__longlong_as_double(0xfff0000000000000ULL))

__device__ __forceinline__ T max_nan(T a, T b) { return (a > b || a != a) ? a : b; }

struct Sum {
  __device__ T operator()(T a, T b) const { return a + b; }
};
struct Max {
  __device__ T operator()(T a, T b) const { return max_nan(a, b); }
};

template <class Op>
__device__ __forceinline__ T warp_reduce(T v, Op op) {
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, o));
  return v;
}

// op-reduction of v over the block, returned to every thread; sh holds 32 values.
template <class Op>
__device__ T block_reduce(T v, T* sh, T identity, Op op) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_reduce(v, op);
  if (lane == 0) sh[warp] = v;
  __syncthreads();
  v = threadIdx.x < (BLOCK >> 5) ? sh[threadIdx.x] : identity;
  if (warp == 0) v = warp_reduce(v, op);
  if (threadIdx.x == 0) sh[0] = v;
  __syncthreads();
  v = sh[0];
  __syncthreads();
  return v;
}

__device__ T block_sum(T v, T* sh) { return block_reduce(v, sh, (T)0, Sum()); }
__device__ T block_max(T v, T* sh) { return block_reduce(v, sh, NEG_INF, Max()); }

extern "C" __global__ void softmax_forward(const T* x, T* y, long long n, int log_) {
  __shared__ T sh[32];
  const T* xr = x + (long long)blockIdx.x * n;
  T* yr = y + (long long)blockIdx.x * n;
  T m = NEG_INF;
  for (long long j = threadIdx.x; j < n; j += BLOCK) m = max_nan(m, xr[j]);
  m = block_max(m, sh);
  T s = 0;
  for (long long j = threadIdx.x; j < n; j += BLOCK) s += exp(xr[j] - m);
  s = block_sum(s, sh);
  if (log_) {
    T ls = log(s);
    for (long long j = threadIdx.x; j < n; j += BLOCK) yr[j] = xr[j] - m - ls;
  } else {
    T inv = (T)1 / s;
    for (long long j = threadIdx.x; j < n; j += BLOCK) yr[j] = exp(xr[j] - m) * inv;
  }
}

extern "C" __global__ void softmax_backward(const T* gy, const T* y, T* gx, long long n,
                                            int log_) {
  __shared__ T sh[32];
  long long row = (long long)blockIdx.x * n;
  T s = 0;
  for (long long j = threadIdx.x; j < n; j += BLOCK)
    s += log_ ? gy[row + j] : gy[row + j] * y[row + j];
  s = block_sum(s, sh);
  for (long long j = threadIdx.x; j < n; j += BLOCK) {
    long long k = row + j;
    gx[k] = log_ ? gy[k] - exp(y[k]) * s : y[k] * (gy[k] - s);
  }
}

extern "C" __global__ void layer_norm_forward(const T* x, const T* w, const T* b, T* y,
                                              T* mean, T* rstd, long long n, T eps,
                                              int has_w, int has_b) {
  __shared__ T sh[32];
  long long row = (long long)blockIdx.x * n;
  T s = 0;
  for (long long j = threadIdx.x; j < n; j += BLOCK) s += x[row + j];
  T mu = block_sum(s, sh) / (T)n;
  s = 0;
  for (long long j = threadIdx.x; j < n; j += BLOCK) {
    T d = x[row + j] - mu;
    s += d * d;
  }
  T r = (T)1 / sqrt(block_sum(s, sh) / (T)n + eps);
  for (long long j = threadIdx.x; j < n; j += BLOCK) {
    T v = (x[row + j] - mu) * r;
    if (has_w) v = v * w[j];
    if (has_b) v = v + b[j];
    y[row + j] = v;
  }
  if (threadIdx.x == 0) {
    mean[blockIdx.x] = mu;
    rstd[blockIdx.x] = r;
  }
}

extern "C" __global__ void layer_norm_backward_x(const T* gy, const T* x, const T* w,
                                                 const T* mean, const T* rstd, T* gx,
                                                 long long n, int has_w) {
  __shared__ T sh[32];
  long long row = (long long)blockIdx.x * n;
  T mu = mean[blockIdx.x], r = rstd[blockIdx.x];
  T sg = 0, sgx = 0;
  for (long long j = threadIdx.x; j < n; j += BLOCK) {
    T g = has_w ? gy[row + j] * w[j] : gy[row + j];
    sg += g;
    sgx += g * ((x[row + j] - mu) * r);
  }
  T mean_g = block_sum(sg, sh) / (T)n;
  T mean_gx = block_sum(sgx, sh) / (T)n;
  for (long long j = threadIdx.x; j < n; j += BLOCK) {
    T g = has_w ? gy[row + j] * w[j] : gy[row + j];
    T xhat = (x[row + j] - mu) * r;
    gx[row + j] = (g - mean_g - xhat * mean_gx) * r;
  }
}

// Partial column sums of gy·x̂ and gy over chunks of rows: block (column tile, row chunk).
extern "C" __global__ void layer_norm_backward_wb(const T* gy, const T* x, const T* mean,
                                                  const T* rstd, T* pw, T* pb, long long rows,
                                                  long long n, long long chunk) {
  long long col = (long long)blockIdx.x * BLOCK + threadIdx.x;
  if (col >= n) return;
  long long r0 = (long long)blockIdx.y * chunk;
  long long r1 = r0 + chunk < rows ? r0 + chunk : rows;
  T sw = 0, sb = 0;
  for (long long r = r0; r < r1; ++r) {
    T g = gy[r * n + col];
    sw += g * ((x[r * n + col] - mean[r]) * rstd[r]);
    sb += g;
  }
  pw[blockIdx.y * n + col] = sw;
  pb[blockIdx.y * n + col] = sb;
}

extern "C" __global__ void cross_entropy_forward(const T* x, const long long* target,
                                                 const T* weight, T* loss, T* mx, T* lsum,
                                                 T* wt,
                                                 long long c, long long ignore_index, T eps,
                                                 int has_weight) {
  __shared__ T sh[32];
  const T* xr = x + (long long)blockIdx.x * c;
  long long t = target[blockIdx.x];
  bool valid = t != ignore_index;
  long long tc = t < 0 ? 0 : (t >= c ? c - 1 : t);
  T m = NEG_INF;
  for (long long j = threadIdx.x; j < c; j += BLOCK) m = max_nan(m, xr[j]);
  m = block_max(m, sh);
  T s = 0;
  for (long long j = threadIdx.x; j < c; j += BLOCK) s += exp(xr[j] - m);
  T ls = log(block_sum(s, sh));
  T smooth = 0;
  if (eps != (T)0) {  // Σ_j w_j·(lse - x_j), with x shifted by the max
    T sx = 0, sw = 0;
    for (long long j = threadIdx.x; j < c; j += BLOCK) {
      T wj = has_weight ? weight[j] : (T)1;
      sx += wj * (xr[j] - m);
      sw += wj;
    }
    sx = block_sum(sx, sh);
    sw = block_sum(sw, sh);
    smooth = ls * sw - sx;
  }
  if (threadIdx.x == 0) {
    T w_t = valid ? (has_weight ? weight[tc] : (T)1) : (T)0;
    T l = (ls - (xr[tc] - m)) * w_t;
    if (eps != (T)0) l = ((T)1 - eps) * l + (eps / (T)c) * (smooth * (valid ? (T)1 : (T)0));
    loss[blockIdx.x] = l;
    mx[blockIdx.x] = m;
    lsum[blockIdx.x] = ls;
    wt[blockIdx.x] = w_t;
  }
}
"""

# name: C types of its parameters, in order (checked against the source and the call sites)
ROW_KERNELS = {
    name: tuple(params.split(", "))
    for name, params in {
        "softmax_forward": "T*, T*, long long, int",
        "softmax_backward": "T*, T*, T*, long long, int",
        "layer_norm_forward": "T*, T*, T*, T*, T*, T*, long long, T, int, int",
        "layer_norm_backward_x": "T*, T*, T*, T*, T*, T*, long long, int",
        "layer_norm_backward_wb": "T*, T*, T*, T*, T*, T*, long long, long long, long long",
        "cross_entropy_forward": "T*, long long*, T*, T*, T*, T*, T*, long long, long long, T, int",
    }.items()
}

_CTYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_CHUNK_ROWS = 64  # rows per block in the weight/bias gradient's first stage


def row_source(dtype) -> str:
    """The row kernels' CUDA source for float32 or float64 arrays."""
    return f"typedef {_CTYPES[np.dtype(dtype)]} T;\n" + ROW_SOURCE


class CudaKit(FusedKit):
    """The fused operations as CUDA kernels, built with ``cupy`` on first use."""

    def __init__(self, cupy):
        self.cp = cupy
        self._elementwise: dict = {}
        self._modules: dict = {}

    def kernel(self, name):
        """The ElementwiseKernel ``name`` of :data:`ELEMENTWISE` (constructed once, lazily)."""
        k = self._elementwise.get(name)
        if k is None:
            in_params, out_params, operation = ELEMENTWISE[name]
            k = self._elementwise[name] = self.cp.ElementwiseKernel(
                in_params, out_params, operation, name
            )
        return k

    def row_kernel(self, name, dtype):
        """The row kernel ``name`` for ``dtype`` (its module compiled on first launch)."""
        dtype = np.dtype(dtype)
        module = self._modules.get(dtype)
        if module is None:
            module = self._modules[dtype] = self.cp.RawModule(code=row_source(dtype))
        return module.get_function(name)

    def _launch(self, name, rows, args, grid=None):
        fn = self.row_kernel(name, args[0].dtype)
        fn(grid or (rows,), (BLOCK,), args)

    def _contiguous(self, *arrays):
        return [None if a is None else self.cp.ascontiguousarray(a) for a in arrays]

    # -- elementwise ------------------------------------------------------------------------------
    def _sgd(self, p, g, buf, sign, l2, lr, momentum, keep, nesterov, first):
        if buf is None:
            self.kernel("mg_sgd")(g, sign, l2, lr, p)
        else:
            self.kernel("mg_sgd_momentum")(g, sign, l2, lr, momentum, keep, nesterov, first, p, buf)

    def _adam(self, p, g, m, v, vmax, sign, l2, decay, one_b1, b2, one_b2, eps, step, bc2):
        scalars = (sign, l2, decay, one_b1, b2, one_b2, eps, step, bc2)
        if vmax is None:
            self.kernel("mg_adam")(g, *scalars, p, m, v)
        else:
            self.kernel("mg_adam_amsgrad")(g, *scalars, p, m, v, vmax)

    def gelu(self, x, tanh):
        return self.kernel("mg_gelu_tanh" if tanh else "mg_gelu")(x)

    def gelu_backward(self, gy, x, tanh):
        return self.kernel("mg_gelu_tanh_backward" if tanh else "mg_gelu_backward")(gy, x)

    # -- row kernels ------------------------------------------------------------------------------
    def softmax(self, x, log):
        (x,) = self._contiguous(x)
        y = self.cp.empty_like(x)
        self._launch("softmax_forward", x.shape[0], (x, y, np.int64(x.shape[1]), np.int32(log)))
        return y

    def softmax_backward(self, gy, y, log):
        gy, y = self._contiguous(gy, y)
        gx = self.cp.empty_like(y)
        n = np.int64(y.shape[1])
        self._launch("softmax_backward", y.shape[0], (gy, y, gx, n, np.int32(log)))
        return gx

    def layer_norm(self, x, w, b, eps):
        x, w, b = self._contiguous(x, w, b)
        rows, n = x.shape
        y = self.cp.empty_like(x)
        mean, rstd = self.cp.empty(rows, x.dtype), self.cp.empty(rows, x.dtype)
        args = (
            x, x if w is None else w, x if b is None else b, y, mean, rstd, np.int64(n),
            x.dtype.type(eps), np.int32(w is not None), np.int32(b is not None),
        )  # fmt: skip
        self._launch("layer_norm_forward", rows, args)
        return y, mean, rstd

    def layer_norm_backward(self, gy, x, w, mean, rstd, need_x, need_wb):
        gy, x, w = self._contiguous(gy, x, w)
        rows, n = x.shape
        gx = gw = gb = None
        if need_x:
            gx = self.cp.empty_like(x)
            args = (
                gy,
                x,
                x if w is None else w,
                mean,
                rstd,
                gx,
                np.int64(n),
                np.int32(w is not None),
            )
            self._launch("layer_norm_backward_x", rows, args)
        if need_wb:
            chunks = math.ceil(rows / _CHUNK_ROWS)
            pw, pb = self.cp.empty((chunks, n), x.dtype), self.cp.empty((chunks, n), x.dtype)
            args = (gy, x, mean, rstd, pw, pb, np.int64(rows), np.int64(n), np.int64(_CHUNK_ROWS))
            self._launch("layer_norm_backward_wb", rows, args, grid=(math.ceil(n / BLOCK), chunks))
            gw, gb = (None if w is None else pw.sum(axis=0)), pb.sum(axis=0)
        return gx, gw, gb

    def cross_entropy(self, x, target, weight, ignore_index, smoothing):
        x, target, weight = self._contiguous(x, target, weight)
        rows, c = x.shape
        loss, mx, ls, wt = (self.cp.empty(rows, x.dtype) for _ in range(4))
        args = (
            x, target, x if weight is None else weight, loss, mx, ls, wt, np.int64(c),
            np.int64(ignore_index), x.dtype.type(smoothing), np.int32(weight is not None),
        )  # fmt: skip
        self._launch("cross_entropy_forward", rows, args)
        return loss, mx, ls, wt

    def cross_entropy_backward(self, x, mx, ls, target, weight, ignore_index, smoothing, scale):
        c = x.shape[1]
        wsum = mx if weight is None else weight.sum().reshape(1)
        scale = scale.reshape(-1)
        return self.kernel("mg_cross_entropy_backward")(
            x, mx, ls, target, mx if weight is None else weight, wsum, scale, c, ignore_index,
            x.dtype.type(smoothing), weight is not None, 0 if scale.size == 1 else 1,
        )  # fmt: skip
