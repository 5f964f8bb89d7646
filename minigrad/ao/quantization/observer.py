"""Observers: modules that watch the values flowing through a point of a model (a layer's
output, a weight) and choose quantization parameters for them, as ``torch.ao.quantization
.observer``. ``calculate_qparams`` follows PyTorch's formulas in float32, so scales and zero
points are PyTorch's to the bit.
"""

from __future__ import annotations

import functools
import math

from ... import _quantized, dtypes
from ..._warnings import warn_user
from ...autograd.grad_mode import no_grad
from ...creation import ones_like, tensor, zeros, zeros_like
from ...nn.modules.module import Module
from ...ops import maximum, minimum, where
from ...ops.statistics import aminmax

_EPS = 1.1920928955078125e-07  # float32's machine epsilon, PyTorch's default eps
_PER_TENSOR = (_quantized.per_tensor_affine, _quantized.per_tensor_symmetric)
_SYMMETRIC = (_quantized.per_tensor_symmetric, _quantized.per_channel_symmetric)


class _PartialWrapper:
    """A constructor with arguments bound (``MinMaxObserver.with_args(...)``); calling it makes
    a new module. Repeated ``with_args`` adds to the bound arguments."""

    def __init__(self, p: functools.partial):
        self.p = p

    def __call__(self, *args, **kwargs):
        return self.p(*args, **kwargs)

    def __repr__(self) -> str:
        return repr(self.p)

    def with_args(self, **kwargs) -> _PartialWrapper:
        return _with_args(self, **kwargs)


def _with_args(cls_or_self, **kwargs) -> _PartialWrapper:
    """``cls_or_self`` with ``kwargs`` bound: a factory of identically configured instances.

    Example:
        >>> factory = MinMaxObserver.with_args(quant_min=0, quant_max=127)
        >>> a, b = factory(), factory()  # two observers, same settings
    """
    return _PartialWrapper(functools.partial(cls_or_self, **kwargs))


def calculate_qmin_qmax(quant_min, quant_max, has_customized_qrange, dtype, reduce_range):
    """The integer range of an observer: the given one (halved with ``reduce_range``) or the
    full range of ``dtype`` (quint8 0..255, qint8 -128..127, qint32; 7 bits with
    ``reduce_range``), as PyTorch."""
    if has_customized_qrange:
        length = quant_max - quant_min + 1
        limit = 2**32 if dtype is dtypes.qint32 else 256
        if not 0 < length <= limit:
            raise AssertionError(
                "quantization range should be positive and not exceed the maximum bit range "
                f"(={limit})."
            )
        return (quant_min // 2, quant_max // 2) if reduce_range else (quant_min, quant_max)
    if dtype is dtypes.qint8:
        return (-64, 63) if reduce_range else (-128, 127)
    if dtype is dtypes.quint8:
        return (0, 127) if reduce_range else (0, 255)
    if dtype is dtypes.qint32:
        return -(2**31), 2**31 - 1
    if dtype is dtypes.quint4x2:
        return 0, 15
    raise NotImplementedError(f"observers of minigrad take quint8, qint8 or qint32, got {dtype}")


class ObserverBase(Module):
    """The base of observers: a ``dtype`` and ``is_dynamic``; subclasses implement ``forward``
    (record statistics, return the input unchanged) and ``calculate_qparams``."""

    with_args = classmethod(_with_args)

    def __init__(self, dtype, is_dynamic: bool = False):
        super().__init__()
        self.dtype, self.is_dynamic = dtype, is_dynamic


class UniformQuantizationObserverBase(ObserverBase):
    """Observers that map ``[min_val, max_val]`` onto ``[quant_min, quant_max]`` uniformly."""

    def __init__(
        self, dtype=dtypes.quint8, qscheme=_quantized.per_tensor_affine, reduce_range=False,
        quant_min=None, quant_max=None, factory_kwargs=None, eps=_EPS, is_dynamic=False,
        **kwargs,
    ):  # fmt: skip
        super().__init__(dtype=dtype, is_dynamic=is_dynamic)
        self.qscheme, self.reduce_range = qscheme, reduce_range
        if reduce_range:  # (PyTorch's words; the x86 default qconfigs set it)
            warn_user(
                "Please use quant_min and quant_max to specify the range for observers. "
                "reduce_range will be deprecated in a future release of PyTorch."
            )
        self.register_buffer("eps", tensor([eps]))
        if qscheme not in _quantized.SCHEMES:
            raise AssertionError(f"observers take the schemes {_quantized.SCHEMES}, got {qscheme}")
        if dtype not in dtypes.QUANTIZED:
            raise AssertionError(
                f"observers of minigrad take quint8, qint8 or qint32 data, got {dtype}"
            )
        self.has_customized_qrange = quant_min is not None and quant_max is not None
        if self.has_customized_qrange:
            if not quant_min <= 0 <= quant_max:
                raise AssertionError("Used-specified quantization range must include 0.")
            if quant_min >= quant_max:
                raise AssertionError(
                    "qmin must be strictly less than qmax for user-specified quantization range."
                )
        self.quant_min, self.quant_max = calculate_qmin_qmax(
            quant_min, quant_max, self.has_customized_qrange, dtype, reduce_range
        )

    def _calculate_qparams(self, min_val, max_val):
        """``(scale, zero_point)`` tensors for the range ``[min_val, max_val]`` (one value, or
        one per channel); ``([1.0], [0])`` when nothing was observed."""
        device = min_val.device
        if not _min_max_valid(min_val, max_val):
            return tensor([1.0], device=device), tensor([0], device=device)
        qmin, qmax = self.quant_min, self.quant_max
        min_neg, max_pos = (
            minimum(min_val, zeros_like(min_val)),
            maximum(max_val, zeros_like(max_val)),
        )
        zero_point = zeros(min_neg.shape, dtype=dtypes.int64, device=device)
        if self.qscheme in _SYMMETRIC:
            max_pos = maximum(-min_neg, max_pos)
            scale = maximum(max_pos / (float(qmax - qmin) / 2), self.eps)
            if self.dtype is dtypes.quint8:
                middle = (qmin + qmax) // 2 if self.has_customized_qrange else 128
                zero_point = zero_point + middle
        elif self.qscheme is _quantized.per_channel_affine_float_qparams:
            scale = (max_val - min_val) / float(qmax - qmin)
            scale = where(scale > self.eps, scale, ones_like(scale))
            zero_point = -1 * min_val / scale
        else:
            scale = maximum((max_pos - min_neg) / float(qmax - qmin), self.eps)
            zero_point = qmin - (min_neg / scale).round().to(dtypes.int32)
            zero_point = zero_point.clamp(qmin, qmax)
        if scale.ndim == 0:
            scale = scale.reshape(1)
        if zero_point.ndim == 0:
            zero_point = zero_point.reshape(1)
        return scale, zero_point

    def reset_min_max_vals(self):
        raise NotImplementedError("Cannot reset min/max values in this observer.")


def _min_max_valid(min_val, max_val) -> bool:
    if min_val.numel() == 0 or max_val.numel() == 0:
        warn_user("must run observer before calling calculate_qparams. Returning default values.")
        return False
    if min_val.ndim == 0 and math.isinf(min_val.item()) and math.isinf(max_val.item()):
        warn_user("must run observer before calling calculate_qparams. Returning default values.")
        return False
    if not bool((min_val <= max_val).all()):
        raise AssertionError(f"min {min_val} should be less than max {max_val}")
    return True


class _MinMaxTracking(UniformQuantizationObserverBase):
    """What the min/max observers share: ``min_val``/``max_val`` widened by each batch's range
    (one pair per tensor, or per channel), and the qparams computed from them."""

    def _update(self, low, high):
        self.min_val, self.max_val = minimum(low, self.min_val), maximum(high, self.max_val)

    def calculate_qparams(self):
        """``(scale, zero_point)``: one-element tensors, or one per channel."""
        return self._calculate_qparams(self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class MinMaxObserver(_MinMaxTracking):
    """Tracks the running minimum and maximum of what it sees; qparams from that range.

    Example:
        >>> obs = MinMaxObserver(dtype=qint8, qscheme=per_tensor_symmetric)
        >>> _ = obs(x); scale, zero_point = obs.calculate_qparams()
    """

    def __init__(
        self, dtype=dtypes.quint8, qscheme=_quantized.per_tensor_affine, reduce_range=False,
        quant_min=None, quant_max=None, factory_kwargs=None, eps=_EPS, is_dynamic=False,
        **kwargs,
    ):  # fmt: skip
        if qscheme not in _PER_TENSOR:
            raise NotImplementedError(
                "MinMaxObserver's qscheme only support minigrad.per_tensor_symmetric and "
                "minigrad.per_tensor_affine."
            )
        super().__init__(
            dtype, qscheme, reduce_range, quant_min, quant_max, factory_kwargs, eps, is_dynamic,
            **kwargs,
        )  # fmt: skip
        self.register_buffer("min_val", tensor(float("inf")))
        self.register_buffer("max_val", tensor(float("-inf")))
        if qscheme is _quantized.per_tensor_symmetric and reduce_range and dtype is dtypes.quint8:
            raise NotImplementedError("Cannot reduce range for symmetric quantization for quint8")

    def forward(self, x_orig):
        if x_orig.numel() == 0:
            return x_orig
        with no_grad():
            low, high = aminmax(x_orig.detach().to(self.min_val.dtype))
            self._update(low, high)
        return x_orig

    def reset_min_max_vals(self):
        """Forget what was observed."""
        self.min_val, self.max_val = tensor(float("inf")), tensor(float("-inf"))


class MovingAverageMinMaxObserver(MinMaxObserver):
    """Min and max as exponential moving averages: ``m ← m + c·(current - m)``."""

    def __init__(
        self, averaging_constant=0.01, dtype=dtypes.quint8, qscheme=_quantized.per_tensor_affine,
        reduce_range=False, quant_min=None, quant_max=None, eps=_EPS, is_dynamic=False, **kwargs,
    ):  # fmt: skip
        if qscheme not in _PER_TENSOR:
            raise NotImplementedError(
                "MovingAverageMinMaxObserver's qscheme only support minigrad."
                "per_tensor_symmetric and minigrad.per_tensor_affine."
            )
        self.averaging_constant = averaging_constant
        super().__init__(
            dtype=dtype, qscheme=qscheme, reduce_range=reduce_range, quant_min=quant_min,
            quant_max=quant_max, eps=eps, is_dynamic=is_dynamic, **kwargs,
        )  # fmt: skip

    def _update(self, low, high):
        if math.isinf(self.min_val.item()) and math.isinf(self.max_val.item()):
            self.min_val, self.max_val = low, high
            return
        c = self.averaging_constant
        self.min_val = self.min_val + c * (low - self.min_val)
        self.max_val = self.max_val + c * (high - self.max_val)


class PerChannelMinMaxObserver(_MinMaxTracking):
    """Running min and max of each index of dim ``ch_axis``: per-channel qparams."""

    def __init__(
        self, ch_axis=0, dtype=dtypes.quint8, qscheme=_quantized.per_channel_affine,
        reduce_range=False, quant_min=None, quant_max=None, factory_kwargs=None, eps=_EPS,
        is_dynamic=False, **kwargs,
    ):  # fmt: skip
        if qscheme in _PER_TENSOR:
            raise NotImplementedError(
                "PerChannelMinMaxObserver's qscheme only support minigrad.per_channel_symmetric, "
                "minigrad.per_channel_affine and minigrad.per_channel_affine_float_qparams."
            )
        super().__init__(
            dtype, qscheme, reduce_range, quant_min, quant_max, factory_kwargs, eps, is_dynamic,
            **kwargs,
        )  # fmt: skip
        self.ch_axis = ch_axis
        self.register_buffer("min_val", tensor([]))
        self.register_buffer("max_val", tensor([]))
        if qscheme is _quantized.per_channel_symmetric and reduce_range and dtype is dtypes.quint8:
            raise NotImplementedError("Cannot reduce range for symmetric quantization for quint8")

    def forward(self, x_orig):
        if x_orig.numel() == 0:
            return x_orig
        with no_grad():
            x = x_orig.detach().to(self.min_val.dtype)
            order = list(range(x.ndim))
            order[self.ch_axis], order[0] = 0, self.ch_axis
            low, high = aminmax(x.permute(order).flatten(1), dim=1)
            if self.min_val.numel() == 0 or self.max_val.numel() == 0:
                self.min_val, self.max_val = low, high
            else:
                self._update(low, high)
        return x_orig

    def _load_from_state_dict(self, state_dict, prefix, missing, used, errors, assign):
        for name in ("min_val", "max_val"):  # buffers of any size load into empty ones
            value = state_dict.get(prefix + name)
            if value is not None and tuple(value.shape) != tuple(getattr(self, name).shape):
                setattr(self, name, zeros(tuple(value.shape)))
        super()._load_from_state_dict(state_dict, prefix, missing, used, errors, assign)

    def reset_min_max_vals(self):
        """Forget what was observed."""
        self.min_val, self.max_val = tensor([]), tensor([])


class MovingAveragePerChannelMinMaxObserver(PerChannelMinMaxObserver):
    """Per-channel min and max as exponential moving averages."""

    def __init__(
        self, averaging_constant=0.01, ch_axis=0, dtype=dtypes.quint8,
        qscheme=_quantized.per_channel_affine, reduce_range=False, quant_min=None,
        quant_max=None, eps=_EPS, is_dynamic=False, **kwargs,
    ):  # fmt: skip
        super().__init__(
            ch_axis=ch_axis, dtype=dtype, qscheme=qscheme, reduce_range=reduce_range,
            quant_min=quant_min, quant_max=quant_max, eps=eps, is_dynamic=is_dynamic, **kwargs,
        )  # fmt: skip
        self.averaging_constant = averaging_constant

    def _update(self, low, high):
        c = self.averaging_constant
        self.min_val = self.min_val + c * (low - self.min_val)
        self.max_val = self.max_val + c * (high - self.max_val)


class PlaceholderObserver(ObserverBase):
    """Observes nothing; carries the ``dtype`` (and ``is_dynamic``) a quantized op is to use:
    dynamic quantization's activation observer, float16 settings."""

    def __init__(
        self, dtype=dtypes.float32, custom_op_name="", compute_dtype=None, quant_min=None,
        quant_max=None, qscheme=None, eps=None, is_dynamic=False,
    ):  # fmt: skip
        super().__init__(dtype=dtype, is_dynamic=is_dynamic)
        if qscheme is None:
            qscheme = _quantized.per_tensor_affine
        if eps is None:
            eps = _EPS
        self.quant_min, self.quant_max, self.qscheme, self.eps = quant_min, quant_max, qscheme, eps
        self.custom_op = custom_op_name
        if compute_dtype:
            self.is_dynamic = True
            warn_user(
                "Please use `is_dynamic` instead of `compute_dtype`. `compute_dtype` will be "
                "deprecated in a future release of PyTorch."
            )

    def forward(self, x):
        return x

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for PlaceholderObserver")


class FixedQParamsObserver(ObserverBase):
    """The observer of an op whose output range is fixed (hardsigmoid, sigmoid, softmax in
    [0, 1], tanh in [-1, 1]): it records nothing and answers its fixed ``scale``/``zero_point``
    (float32 and int32 buffers of one element, saved with the model, as PyTorch's)."""

    def __init__(
        self, scale, zero_point, dtype=dtypes.quint8, qscheme=_quantized.per_tensor_affine,
        quant_min=0, quant_max=255, is_dynamic=False, **kwargs,
    ):  # fmt: skip
        if is_dynamic:
            raise NotImplementedError("FixedQParamsObserver doesn't support dynamic quantization")
        super().__init__(dtype=dtype, is_dynamic=is_dynamic)
        self.quant_min, self.quant_max, self.qscheme = quant_min, quant_max, qscheme
        self.register_buffer("scale", tensor([scale], dtype=dtypes.float32))
        self.register_buffer("zero_point", tensor([zero_point], dtype=dtypes.int32))

    def forward(self, X):  # noqa: N803 - PyTorch's argument name
        return X

    def calculate_qparams(self):
        return self.scale, self.zero_point


class NoopObserver(ObserverBase):
    """Observes nothing and has no qparams (float16 weights keep this)."""

    def __init__(self, dtype=dtypes.float16, custom_op_name=""):
        super().__init__(dtype=dtype, is_dynamic=False)
        self.custom_op = custom_op_name

    def forward(self, x):
        return x

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for NoopObserver")


def get_observer_state_dict(mod):
    """The observers' entries of ``mod.state_dict()`` (keys with ``activation_post_process``
    or ``observer`` in them)."""
    from collections import OrderedDict

    return OrderedDict(
        (k, v)
        for k, v in mod.state_dict().items()
        if "observer" in k or "activation_post_process" in k
    )


def load_observer_state_dict(mod, obs_dict) -> None:
    """Load observer entries saved by :func:`get_observer_state_dict` into ``mod``."""
    mod.load_state_dict(obs_dict, strict=False)


default_observer = MinMaxObserver.with_args(quant_min=0, quant_max=127)
default_placeholder_observer = PlaceholderObserver
default_weight_observer = MinMaxObserver.with_args(
    dtype=dtypes.qint8, qscheme=_quantized.per_tensor_symmetric
)
weight_observer_range_neg_127_to_127 = MinMaxObserver.with_args(
    dtype=dtypes.qint8, qscheme=_quantized.per_tensor_symmetric, quant_min=-127, quant_max=127,
    eps=2**-12,
)  # fmt: skip
default_per_channel_weight_observer = PerChannelMinMaxObserver.with_args(
    dtype=dtypes.qint8, qscheme=_quantized.per_channel_symmetric
)
per_channel_weight_observer_range_neg_127_to_127 = PerChannelMinMaxObserver.with_args(
    dtype=dtypes.qint8, qscheme=_quantized.per_channel_symmetric, quant_min=-127, quant_max=127,
    eps=2**-12,
)  # fmt: skip
default_dynamic_quant_observer = PlaceholderObserver.with_args(
    dtype=dtypes.quint8, quant_min=0, quant_max=255, is_dynamic=True
)
default_float_qparams_observer = PerChannelMinMaxObserver.with_args(
    dtype=dtypes.quint8, qscheme=_quantized.per_channel_affine_float_qparams, ch_axis=0
)


# isort: split
from ._histogram import HistogramObserver  # noqa: E402 - it builds on the classes above

default_histogram_observer = HistogramObserver.with_args(quant_min=0, quant_max=127)
# the fixed output grids of [-1, 1] (tanh) and [0, 1] (hardsigmoid, sigmoid, softmax)
default_fixed_qparams_range_neg1to1_observer = FixedQParamsObserver.with_args(
    scale=2.0 / 256.0, zero_point=128, dtype=dtypes.quint8, quant_min=0, quant_max=255
)
default_fixed_qparams_range_0to1_observer = FixedQParamsObserver.with_args(
    scale=1.0 / 256.0, zero_point=0, dtype=dtypes.quint8, quant_min=0, quant_max=255
)
default_symmetric_fixed_qparams_observer = default_fixed_qparams_range_neg1to1_observer
default_affine_fixed_qparams_observer = default_fixed_qparams_range_0to1_observer
