"""Fake-quantize modules for quantization-aware training, as ``torch.ao.quantization
.fake_quantize``: an observer picks the qparams, and the forward rounds to that grid with a
straight-through gradient (:func:`minigrad.fake_quantize_per_tensor_affine`).
"""

from __future__ import annotations

from ... import _quantized, dtypes
from ...autograd.grad_mode import no_grad
from ...creation import tensor
from ...nn.modules.module import Module
from ...ops.quantize import fake_quantize_per_channel_affine, fake_quantize_per_tensor_affine
from ..nn.quantized.functional import choose_qparams
from .observer import (
    FixedQParamsObserver,
    MovingAverageMinMaxObserver,
    MovingAveragePerChannelMinMaxObserver,
    _with_args,
    default_fixed_qparams_range_0to1_observer,
    default_fixed_qparams_range_neg1to1_observer,
)

_PER_CHANNEL = (
    _quantized.per_channel_affine, _quantized.per_channel_symmetric,
    _quantized.per_channel_affine_float_qparams,
)  # fmt: skip


class FakeQuantizeBase(Module):
    """Switches shared by fake-quantize modules: ``fake_quant_enabled`` and
    ``observer_enabled`` (uint8 buffers, as PyTorch, so they are saved with the model)."""

    with_args = classmethod(_with_args)

    def __init__(self):
        super().__init__()
        self.register_buffer("fake_quant_enabled", tensor([1], dtype=dtypes.uint8))
        self.register_buffer("observer_enabled", tensor([1], dtype=dtypes.uint8))

    def enable_fake_quant(self, enabled: bool = True) -> None:
        """Round in forward (or pass values through with ``enabled=False``)."""
        self.fake_quant_enabled[0] = 1 if enabled else 0

    def disable_fake_quant(self) -> None:
        self.enable_fake_quant(False)

    def enable_observer(self, enabled: bool = True) -> None:
        """Update the statistics and qparams in forward (or freeze them)."""
        self.observer_enabled[0] = 1 if enabled else 0

    def disable_observer(self) -> None:
        self.enable_observer(False)


class FakeQuantize(FakeQuantizeBase):
    """Observe, then fake-quantize: ``forward`` updates ``activation_post_process`` (an
    observer made from ``observer`` and ``observer_kwargs``) and the ``scale``/``zero_point``
    buffers, and returns the input rounded to their grid.

    Example:
        >>> fq = FakeQuantize(quant_min=0, quant_max=255)
        >>> y = fq(x)  # same shape; gradient 1 inside the range
    """

    def __init__(
        self, observer=MovingAverageMinMaxObserver, quant_min=None, quant_max=None,
        is_dynamic=False, **observer_kwargs,
    ):  # fmt: skip
        super().__init__()
        if quant_min is not None and quant_max is not None:
            if quant_min > quant_max:
                raise ValueError("quant_min must be less than or equal to quant_max")
            dtype = observer_kwargs.get("dtype", dtypes.quint8)
            dtype = getattr(getattr(observer, "p", None), "keywords", {}).get("dtype", dtype)
            low, high = dtype.bounds
            if low > quant_min:
                raise AssertionError("quant_min out of bound")
            if quant_max > high:
                raise AssertionError("quant_max out of bound")
            observer_kwargs.update(quant_min=quant_min, quant_max=quant_max)
        observer_kwargs["is_dynamic"] = is_dynamic
        self.activation_post_process = observer(**observer_kwargs)
        post = self.activation_post_process
        self.quant_min, self.quant_max, self.is_dynamic = post.quant_min, post.quant_max, False
        float_qparams = post.qscheme is _quantized.per_channel_affine_float_qparams
        self.register_buffer("scale", tensor([1.0]))
        zp_dtype = dtypes.float32 if float_qparams else dtypes.int32
        self.register_buffer("zero_point", tensor([0], dtype=zp_dtype))
        self.dtype, self.qscheme = post.dtype, post.qscheme
        self.ch_axis = getattr(post, "ch_axis", -1)
        self.is_per_channel = self.qscheme in _PER_CHANNEL

    def calculate_qparams(self):
        """The observer's ``(scale, zero_point)``."""
        return self.activation_post_process.calculate_qparams()

    def forward(self, X):  # noqa: N803 - PyTorch's argument name
        if self.observer_enabled[0].item() == 1:
            with no_grad():
                self.activation_post_process(X.detach())
                scale, zero_point = self.calculate_qparams()
                self.scale = scale.to(self.scale.dtype)
                self.zero_point = zero_point.to(self.zero_point.dtype)
        if self.fake_quant_enabled[0].item() == 1:
            post = self.activation_post_process
            if self.is_per_channel:
                return fake_quantize_per_channel_affine(
                    X, self.scale, self.zero_point, self.ch_axis, post.quant_min, post.quant_max
                )
            return fake_quantize_per_tensor_affine(
                X, self.scale, self.zero_point, post.quant_min, post.quant_max
            )
        return X

    def extra_repr(self) -> str:
        return _repr_fields(
            self, "fake_quant_enabled observer_enabled quant_min quant_max dtype qscheme ch_axis "
            "scale zero_point",
        )  # fmt: skip

    def _load_from_state_dict(self, state_dict, prefix, missing, used, errors, assign):
        for name in ("scale", "zero_point"):  # per-channel qparams load into [1]-sized buffers
            value = state_dict.get(prefix + name)
            if value is not None and tuple(value.shape) != tuple(getattr(self, name).shape):
                setattr(self, name, value.detach().clone().to(getattr(self, name).dtype))
        super()._load_from_state_dict(state_dict, prefix, missing, used, errors, assign)


class FixedQParamsFakeQuantize(FakeQuantize):
    """Fake quantization to a fixed grid (a :class:`FixedQParamsObserver`'s): ``scale`` and
    ``zero_point`` are the observer's own buffers, which observing never changes; what
    ``prepare_qat`` attaches to Hardsigmoid, Sigmoid, Softmax and Tanh."""

    def __init__(self, observer):
        super().__init__(observer=observer)
        if type(self.activation_post_process) is not FixedQParamsObserver:
            raise AssertionError(
                f"{type(self).__name__}'s observer must be a {FixedQParamsObserver.__name__}"
            )
        self._observer_ctr = observer
        self.scale = self.activation_post_process.scale
        self.zero_point = self.activation_post_process.zero_point
        if self.is_per_channel:
            raise AssertionError(
                "Only per tensor quantization is supported FixedQParamsFakeQuantize module, "
                f"got qscheme:{self.qscheme}"
            )

    def calculate_qparams(self):
        return self.scale, self.zero_point

    def extra_repr(self) -> str:
        return _repr_fields(self, _FIXED_FIELDS)


class FusedMovingAvgObsFakeQuantize(FakeQuantize):
    """PyTorch's fused observer + fake-quantize module (``version=1`` QAT qconfigs): a
    moving-average min/max, qparams by FBGEMM's ``ChooseQuantizationParams`` (which rounds a
    little differently from the observer's ``calculate_qparams``, used at ``convert``), then
    fake quantization, as PyTorch's ``fused_moving_avg_obs_fake_quant`` computes them."""

    def __init__(
        self, observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255, **observer_kwargs
    ):
        super().__init__(observer, quant_min, quant_max, **observer_kwargs)
        moving = (MovingAverageMinMaxObserver, MovingAveragePerChannelMinMaxObserver)
        if not isinstance(self.activation_post_process, moving):
            raise AssertionError(
                "Fused observer+fake_quant module only works with MovingAverageMinMaxObserver"
            )
        self.register_buffer("fake_quant_enabled", tensor([1], dtype=dtypes.int64))
        self.register_buffer("observer_enabled", tensor([1], dtype=dtypes.int64))
        symmetric = (_quantized.per_tensor_symmetric, _quantized.per_channel_symmetric)
        self.is_symmetric_quant = self.qscheme in symmetric

    def forward(self, X):  # noqa: N803 - PyTorch's argument name
        post = self.activation_post_process
        if self.observer_enabled[0].item() == 1:
            with no_grad():
                post(X.detach())
                pairs = [
                    choose_qparams(lo, hi, post.quant_min, post.quant_max, self.is_symmetric_quant)
                    for lo, hi in zip(
                        post.min_val.reshape(-1).tolist(), post.max_val.reshape(-1).tolist()
                    )
                ]
                device = post.min_val.device
                self.scale = tensor([p[0] for p in pairs], device=device)
                self.zero_point = tensor([p[1] for p in pairs], dtype=dtypes.int32, device=device)
        if self.fake_quant_enabled[0].item() != 1:
            return X
        if self.is_per_channel:
            return fake_quantize_per_channel_affine(
                X, self.scale, self.zero_point, self.ch_axis, post.quant_min, post.quant_max
            )
        return fake_quantize_per_tensor_affine(
            X, self.scale, self.zero_point, post.quant_min, post.quant_max
        )

    def extra_repr(self) -> str:
        return _repr_fields(self, _FIXED_FIELDS + " reduce_range")


# the fields PyTorch's reprs of FixedQParamsFakeQuantize (and, with reduce_range, of the fused
# observer + fake-quantize) list, in its order
_FIXED_FIELDS = (
    "fake_quant_enabled observer_enabled scale zero_point dtype quant_min quant_max qscheme"
)
_OBSERVER_FIELDS = frozenset(("quant_min", "quant_max", "reduce_range"))


def _repr_fields(module, names: str) -> str:
    """``name=value`` for each of ``names`` (space-separated), in order, as PyTorch's
    fake-quantize reprs list them: the range fields read from ``activation_post_process``,
    the others from ``module``."""
    post = module.activation_post_process
    return ", ".join(
        f"{n}={getattr(post if n in _OBSERVER_FIELDS else module, n)}" for n in names.split()
    )


def _is_fake_quant(module) -> bool:
    return isinstance(module, FakeQuantizeBase)


def disable_fake_quant(mod) -> None:
    """For ``model.apply``: turn rounding off in fake-quantize modules."""
    if _is_fake_quant(mod):
        mod.disable_fake_quant()


def enable_fake_quant(mod) -> None:
    """For ``model.apply``: turn rounding on in fake-quantize modules."""
    if _is_fake_quant(mod):
        mod.enable_fake_quant()


def disable_observer(mod) -> None:
    """For ``model.apply``: freeze the qparams of fake-quantize modules."""
    if _is_fake_quant(mod):
        mod.disable_observer()


def enable_observer(mod) -> None:
    """For ``model.apply``: let fake-quantize modules update their qparams."""
    if _is_fake_quant(mod):
        mod.enable_observer()


default_fake_quant = FakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255, dtype=dtypes.quint8,
    qscheme=_quantized.per_tensor_affine, reduce_range=True,
)  # fmt: skip
default_weight_fake_quant = FakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=-128, quant_max=127, dtype=dtypes.qint8,
    qscheme=_quantized.per_tensor_symmetric, reduce_range=False,
)  # fmt: skip
default_per_channel_weight_fake_quant = FakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, quant_min=-128, quant_max=127,
    dtype=dtypes.qint8, qscheme=_quantized.per_channel_symmetric, reduce_range=False, ch_axis=0,
)  # fmt: skip
default_fused_act_fake_quant = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255, dtype=dtypes.quint8
)
default_fused_wt_fake_quant = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver, quant_min=-128, quant_max=127, dtype=dtypes.qint8,
    qscheme=_quantized.per_tensor_symmetric,
)  # fmt: skip
default_fused_per_channel_wt_fake_quant = FusedMovingAvgObsFakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver, quant_min=-128, quant_max=127,
    dtype=dtypes.qint8, qscheme=_quantized.per_channel_symmetric,
)  # fmt: skip
default_fixed_qparams_range_neg1to1_fake_quant = FixedQParamsFakeQuantize.with_args(
    observer=default_fixed_qparams_range_neg1to1_observer
)
default_fixed_qparams_range_0to1_fake_quant = FixedQParamsFakeQuantize.with_args(
    observer=default_fixed_qparams_range_0to1_observer
)
default_symmetric_fixed_qparams_fake_quant = default_fixed_qparams_range_neg1to1_fake_quant
default_affine_fixed_qparams_fake_quant = default_fixed_qparams_range_0to1_fake_quant
