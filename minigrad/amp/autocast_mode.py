"""Autocast: run chosen ops in float16/bfloat16 and others in float32, as ``torch.autocast``.

The policy is PyTorch's, per device type. On CUDA (and every other non-CPU device, such as the
``fakegpu`` test stand-in): matmul, linear, convolution, einsum and attention run in the low
precision dtype; exp/log/pow, sums, softmax/log_softmax, norms and losses run in float32. On
the CPU: PyTorch's AutocastCPU kernels, the same low-precision ops plus ``prelu``, ``vecdot``
and the padded LSTM layer, and in float32 ``prod``, the losses, decompositions, FFTs, 3-D
pooling, reflect/replicate padding and the rest of that list (PyTorch's CPU list leaves softmax
and norms alone). Every other op runs in the dtype of its inputs, with the usual type promotion
(``cat``/``stack``/``add`` at the widest input dtype; ``index_copy`` promoted by the policy).

How it is hooked: while any thread has an autocast region open, :mod:`minigrad.ops.base` calls
:func:`_interpose` before each primitive op, which looks the op's class up in the policy table;
entry points that check dtypes first (``F.linear``, convolution, attention, losses) call
``autocast_inputs(name, ...)``; and functions PyTorch has as one aten op but minigrad composes
(``addmm``, ``linalg.inv``, ``cdist``, the recurrent layers, ...) are decorated with
``autocast_op(name)``: cast once at the entry, nothing cast inside (:func:`_call`), as PyTorch
casts at the listed op and not inside its kernel. With no region open the cost is one global
lookup per op. State is thread-local, as in PyTorch. Differences from PyTorch on purpose: on
CUDA, ``mean`` and ``var`` of float16 tensors return float32, because they are composed from
``sum``, which autocast runs in float32; ``binary_cross_entropy`` runs in float32 on CUDA where
PyTorch refuses.
"""

from __future__ import annotations

import functools
import threading

from .. import backend, dtypes
from .._warnings import warn_user
from ..autograd import graph
from ..func import _dispatch
from ..ops.elementwise import Cast

LOWER, FP32, PROMOTE = "lower", "fp32", "promote"

_LOWER_OPS = {
    "MatMul": LOWER,
    "Linear": LOWER,
    "Convolution": LOWER,
    "Einsum": LOWER,
    # (ScaledDotProductAttention is cast at its entry point, scaled_dot_product_attention, as
    # PyTorch's dispatcher does: the math kernel's float32 computation under it stays float32)
    "AttentionWeights": LOWER,
    "linear": LOWER,
    "conv": LOWER,
    "conv_transpose": LOWER,
    "scaled_dot_product_attention": LOWER,
    "addmm": LOWER,
    "baddbmm": LOWER,
    "addbmm": LOWER,
    "cat": PROMOTE,  # (and stack, made of cat) widest input dtype; see _check_promote
    "index_copy": PROMOTE,
}
_LOSSES = (
    "CrossEntropy",
    "BinaryCrossEntropy",
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "kl_div",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "poisson_nll_loss",
    "cosine_embedding_loss",
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "cdist",
)
# PyTorch's CPU list only (its AutocastCPU kernels): decompositions, FFTs and 3-D pooling in
# float32; the rest of linear algebra, and ``torch.dot``/``mv``, run in their inputs' dtype.
_CPU_FP32 = (
    "Prod",
    "ctc_loss",
    "trace",
    "polar",
    "view_as_complex",
    "quantile",
    "nanquantile",
    "stft",
    "fake_quantize_per_tensor_affine",
    "grid_sample",
    "avg_pool3d",
    "max_pool3d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool3d",
    "fractional_max_pool2d",
    "fractional_max_pool3d",
    "max_unpool2d",
    "max_unpool3d",
    "reflection_pad1d",
    "reflection_pad2d",
    "replication_pad1d",
    "replication_pad2d",
    "replication_pad3d",
    "inverse",
    "pinverse",
    "cholesky",
    "cholesky_inverse",
    "cholesky_solve",
    "qr",
    "svd",
    "geqrf",
    "orgqr",
    "ormqr",
    "lu",
    "lu_solve",
    "triangular_solve",
    *(
        f"linalg_{name}"
        for name in (
            "cholesky cholesky_ex cond eig eigh eigvals eigvalsh householder_product inv inv_ex "
            "lstsq matrix_rank qr solve svd svdvals tensorinv tensorsolve"
        ).split()
    ),
    *(f"fft_{k}{n}" for k in ("", "i", "r", "ir") for n in ("fft", "fft2", "fftn")),
    "fft_hfft",
    "fft_ihfft",
)
#: device type -> {op class name or entry-point name -> "lower" | "fp32" | "promote"}
POLICY = {
    "cpu": {
        **_LOWER_OPS,
        "prelu": LOWER,
        "linalg_vecdot": LOWER,
        "conv_tbc": LOWER,
        "lstm": LOWER,  # PyTorch's oneDNN LSTM layer (no projections)
        **{name: FP32 for name in _LOSSES},
        **{name: FP32 for name in _CPU_FP32},
    },
    "cuda": {
        **_LOWER_OPS,
        **{
            name: LOWER
            for name in ("lstm_cell", "gru_cell", "lstm", "lstm_packed", "gru", "gru_packed")
        },
        **{name: FP32 for name in _LOSSES},
        **{
            name: FP32
            for name in (
                "Pow",
                "Exp",
                "Expm1",
                "Log",
                "Log1p",
                "Rsqrt",
                "Tan",
                "Softplus",
                "Sum",
                "Prod",
                "Cumsum",
                "Softmax",
                "LogSoftmax",
                "LogSumExp",
                "Norm2",
                "LayerNorm",
                "GroupNorm",
            )
        },
    },
}


class _State(threading.local):
    def __init__(self):
        self.enabled = {}  # device type -> low-precision minigrad dtype, for enabled types only
        self.depth = 0  # open autocast regions (enabled or not) in this thread
        self.cache = {}  # (id(param), dtype) -> (param, its cast): parameters cast once per region
        self.dtypes = {}  # device type -> low-precision dtype set for it (enabled or not)
        self.inside_op = 0  # > 0 inside a function autocast treats as one op: no casts there


_state = _State()
_active_lock = threading.Lock()
_active = 0  # enabled regions open in all threads: the interposer is installed while > 0


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """True inside an enabled autocast region for ``device_type`` (this thread)."""
    return device_type in _state.enabled


def is_any_autocast_enabled() -> bool:
    """True inside an enabled autocast region for any device type (this thread): PyTorch's
    ``torch._C._is_any_autocast_enabled``."""
    return bool(_state.enabled)


def get_autocast_dtype(device_type: str = "cuda"):
    """The low-precision dtype autocast uses for ``device_type`` (its default when off)."""
    found = _state.enabled.get(device_type)
    if found is None:
        found = _state.dtypes.get(device_type)
    return found if found is not None else _default_dtype(device_type)


def _default_dtype(device_type: str):
    """PyTorch's defaults: bfloat16 on the CPU, float16 on CUDA."""
    return dtypes.bfloat16 if device_type == "cpu" else dtypes.float16


def _policy_for(device_type: str) -> dict:
    return POLICY["cpu" if device_type == "cpu" else "cuda"]


def _cast(t, target, cache: dict | None):
    """``t`` in dtype ``target`` (a differentiable cast), reusing a parameter's cast once made."""
    np_dtype = target.numpy
    if t._data.dtype == np_dtype:
        return t
    if (
        cache is not None
        and t._requires_grad
        and t.grad_fn is None
        and dtypes.is_floating(t._data.dtype)
    ):
        key = (id(t), np_dtype)
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = (t, Cast(np_dtype)(t))
        return hit[1]
    return Cast(np_dtype)(t)


def _cast_value(name: str, value, enabled: dict):
    """One argument of a function treated as an op, cast as the policy asks: a tensor, or the
    tensors in a (nested) list or tuple, such as a recurrent layer's weights; ``None`` when
    nothing changes."""
    if isinstance(value, graph.Tensor):
        cast = _cast_args(name, (value,), enabled)
        return None if cast is None else cast[0]
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        cast = [_cast_value(name, v, enabled) for v in value]
        if all(c is None for c in cast):
            return None
        return type(value)(v if c is None else c for v, c in zip(value, cast))
    return None


def _call(name: str, fn, args, kwargs):
    """Run ``fn`` as the one op ``name`` (ops.base.autocast_op): its arguments cast by the
    policy, the ops inside it left alone."""
    state = _state
    enabled = state.enabled
    if not enabled or state.inside_op:
        return fn(*args, **kwargs)
    args = tuple(v if (c := _cast_value(name, v, enabled)) is None else c for v in args)
    kwargs = {
        k: v if (c := _cast_value(name, v, enabled)) is None else c for k, v in kwargs.items()
    }
    args, kwargs = _promoted(name, args, kwargs, enabled)
    state.inside_op += 1
    try:
        return fn(*args, **kwargs)
    finally:
        state.inside_op -= 1


def _promoted(name: str, args, kwargs, enabled: dict):
    """For a function the policy promotes (``index_copy``): its floating tensor arguments cast
    to the widest of their dtypes, as PyTorch's autocast does; as given otherwise."""
    floating = [
        v
        for v in (*args, *kwargs.values())
        if isinstance(v, graph.Tensor) and v.dtype.is_floating_point and v.device.type in enabled
    ]
    if not floating or _policy_for(floating[0].device.type).get(name) != PROMOTE:
        return args, kwargs
    widest = functools.reduce(dtypes.promote_types, (v.dtype for v in floating))

    def cast(v):
        return _cast(v, widest, None) if any(v is f for f in floating) else v

    return tuple(cast(v) for v in args), {k: cast(v) for k, v in kwargs.items()}


def _cast_args(name: str, args, enabled: dict):
    """The arguments cast as the policy for ``name`` asks; ``None`` when nothing changes."""
    tensor_cls = graph.Tensor
    changed = False
    out = []
    for a in args:
        if isinstance(a, tensor_cls) and a.device.type in enabled:
            device_type = a.device.type
            kind = _policy_for(device_type).get(name)
            np_dtype = a._data.dtype
            if kind == PROMOTE:
                _check_promote(name, a, enabled[device_type])
                kind = None
            # eligible: floating, not float64 (PyTorch leaves double alone)
            if kind is not None and dtypes.is_floating(np_dtype) and np_dtype.itemsize != 8:
                target = enabled[device_type] if kind == LOWER else dtypes.float32
                if np_dtype != target.numpy:
                    a = _cast(a, target, _state.cache if _state_cache_enabled() else None)
                    changed = True
        out.append(a)
    return tuple(out) if changed else None


def _state_cache_enabled() -> bool:
    return getattr(_state, "cache_enabled", True)


def _check_promote(name: str, t, fast) -> None:
    """PyTorch's autocast promotes ``cat``/``stack`` inputs among float32, float64 and the
    region's low-precision dtype only; the other low-precision dtype (float16 inputs in a
    bfloat16 region, or bfloat16 in a float16 one) is an error there, and so here."""
    d = t.dtype
    if d.is_floating_point and d is not fast and d.itemsize == 2:
        raise RuntimeError(
            f"{name}: a {d.name} input inside an autocast region of {fast.name}: autocast "
            f"promotes only among float32, float64 and {fast.name} (as PyTorch); cast the "
            f"input with .to({fast.name}) or .float() first"
        )


def _interpose(op, args):
    """Called before every primitive op while some thread has autocast on."""
    enabled = _state.enabled
    if enabled and not _state.inside_op:
        cast = _cast_args(_dispatch.op_name(type(op)), args, enabled)
        if cast is not None:
            return False, cast
    return False, args


def _entry(name: str, tensors):
    enabled = _state.enabled
    if not enabled or _state.inside_op:
        return tensors
    cast = _cast_args(name, tensors, enabled)
    return tensors if cast is None else cast


def _install() -> None:
    _dispatch.set_autocast(_interpose, _entry, _call)


class autocast:  # noqa: N801 - PyTorch's name
    """Run ops in lower precision where that is safe: a context manager and a decorator.

    Args:
        device_type: ``"cuda"``, ``"cpu"`` (or another device type, e.g. ``"fakegpu"``, which
            follows the CUDA policy); only tensors on devices of this type are cast.
        dtype: the low-precision dtype (default float16 on CUDA, bfloat16 on the CPU).
        enabled: False makes the region a no-op (and switches autocast off inside it). A
            device type with no device here (``"cuda"`` without a GPU), or a ``dtype`` other
            than float16/bfloat16 off CUDA, warns and disables the region, as PyTorch does.
        cache_enabled: cast each parameter (a leaf that requires grad) once per region.

    Example:
        >>> with minigrad.autocast("cpu", dtype=minigrad.float16):
        ...     y = model(x)        # linear layers compute in float16
        ...     loss = F.cross_entropy(y, target)  # in float32
        >>> loss.backward()         # outside the region, as PyTorch recommends
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(
                f"autocast: expected device_type of type str, got {type(device_type).__name__}"
            )
        self.device = device_type.split(":")[0]
        self.fast_dtype = dtypes.to_dtype(dtype) if dtype is not None else None
        self._enabled = bool(enabled) and _usable(self.device) and _supported(self)
        self._cache_enabled = True if cache_enabled is None else bool(cache_enabled)

    def __enter__(self):
        global _active
        state = _state
        self._prev = state.enabled.copy()
        self._prev_cache = _state_cache_enabled()
        self._prev_dtypes = state.dtypes
        fast = self.fast_dtype if self.fast_dtype is not None else get_autocast_dtype(self.device)
        state.dtypes = {**state.dtypes, self.device: fast}
        if self._enabled:
            state.enabled = {**state.enabled, self.device: fast}
            with _active_lock:
                _active += 1
                if _active == 1:
                    _install()
        else:
            state.enabled = {k: v for k, v in state.enabled.items() if k != self.device}
        state.cache_enabled = self._cache_enabled
        state.depth += 1
        return self

    def __exit__(self, *exc):
        global _active
        state = _state
        state.depth -= 1
        state.enabled = self._prev
        state.cache_enabled = self._prev_cache
        state.dtypes = self._prev_dtypes
        if state.depth == 0:
            state.cache.clear()  # casts of parameters live as long as the outermost region
        if self._enabled:
            with _active_lock:
                _active -= 1
                if _active == 0:
                    _dispatch.set_autocast(None, None, None)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return fn(*args, **kwargs)

        return wrapper


def _usable(device_type: str) -> bool:
    """False, with PyTorch's warning, for a known device type that has no device here."""
    if device_type == "cpu":
        return True
    try:
        available = backend.get_backend(device_type).is_available()
    except (RuntimeError, NotImplementedError):
        return True  # not a device type minigrad has: accepted as before, it casts nothing
    if not available:
        warn_user(
            "CUDA is not available or torch_xla is imported. Disabling autocast."  # PyTorch's
            if device_type == "cuda"
            else f"User provided device_type of '{device_type}', but {device_type} is not "
            f"available. Disabling autocast."
        )
    return available


def _supported(region: autocast) -> bool:
    """False, with PyTorch's warning, for a low-precision dtype other than float16/bfloat16 off
    CUDA (``dtype=torch.float32`` in boilerplate that picks the dtype from a config): the region
    runs without autocast, as PyTorch's does. CUDA regions take the dtype as given."""
    if region.fast_dtype is None or region.device == "cuda":
        return True
    if region.fast_dtype.name in ("bfloat16", "float16"):
        return True
    name = region.device.upper()
    warn_user(
        f"In {name} autocast, but the target dtype is not supported. Disabling autocast.\n"
        f"{name} Autocast only supports dtypes of {dtypes.bfloat16}, {dtypes.float16} currently."
    )
    return False


def custom_fwd(fwd=None, *, device_type: str = "cuda", cast_inputs=None):
    """Decorator for a custom ``Function.forward``: with ``cast_inputs`` set, run forward in that
    dtype with autocast off inside (as ``torch.amp.custom_fwd``)."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def wrapper(*args, **kwargs):
        if cast_inputs is None or not is_autocast_enabled(device_type):
            return fwd(*args, **kwargs)
        target = dtypes.to_dtype(cast_inputs)
        tensor_cls = graph.Tensor

        def cast(v):
            if isinstance(v, tensor_cls) and v.is_floating_point():
                return v.to(target)
            return v

        with autocast(device_type, enabled=False):
            return fwd(*[cast(a) for a in args], **{k: cast(v) for k, v in kwargs.items()})

    return wrapper


def custom_bwd(bwd=None, *, device_type: str = "cuda"):
    """Decorator for a custom ``Function.backward``, the pair of :func:`custom_fwd`."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd
