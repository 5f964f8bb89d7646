"""QConfig: which observer (or fake-quantize module) watches a layer's activations and which its
weights, as ``torch.ao.quantization.qconfig``, with PyTorch's default configurations."""

from __future__ import annotations

from collections import namedtuple

from ... import _quantized, dtypes
from ...nn.modules.module import Module
from .fake_quantize import (
    FakeQuantize,
    FusedMovingAvgObsFakeQuantize,
    default_fake_quant,
    default_fused_per_channel_wt_fake_quant,
    default_fused_wt_fake_quant,
    default_per_channel_weight_fake_quant,
    default_weight_fake_quant,
)
from .observer import (
    HistogramObserver,
    MovingAverageMinMaxObserver,
    PerChannelMinMaxObserver,
    PlaceholderObserver,
    default_dynamic_quant_observer,
    default_float_qparams_observer,
    default_observer,
    default_per_channel_weight_observer,
    default_weight_observer,
)


class QConfig(namedtuple("QConfig", ["activation", "weight"])):
    """``(activation, weight)``: constructors (classes or ``with_args`` factories) of the
    observers for a layer's output and its weight; each prepared layer makes its own.

    Example:
        >>> qconfig = QConfig(activation=MinMaxObserver.with_args(reduce_range=True),
        ...                   weight=default_weight_observer)
    """

    __slots__ = ()

    def __new__(cls, activation, weight):
        if isinstance(activation, Module) or isinstance(weight, Module):
            raise ValueError(
                "QConfig received observer instance, please pass observer class instead. Use "
                "MyObserver.with_args(x=1) to override arguments to constructor if needed"
            )
        return super().__new__(cls, activation, weight)


default_qconfig = QConfig(activation=default_observer, weight=default_weight_observer)
default_per_channel_qconfig = QConfig(
    activation=default_observer, weight=default_per_channel_weight_observer
)
default_dynamic_qconfig = QConfig(
    activation=default_dynamic_quant_observer, weight=default_weight_observer
)
float16_dynamic_qconfig = QConfig(
    activation=PlaceholderObserver.with_args(dtype=dtypes.float16, is_dynamic=True),
    weight=PlaceholderObserver.with_args(dtype=dtypes.float16),
)
float16_static_qconfig = QConfig(
    activation=PlaceholderObserver.with_args(dtype=dtypes.float16),
    weight=PlaceholderObserver.with_args(dtype=dtypes.float16),
)
per_channel_dynamic_qconfig = QConfig(
    activation=default_dynamic_quant_observer, weight=default_per_channel_weight_observer
)
float_qparams_weight_only_qconfig = QConfig(
    activation=PlaceholderObserver, weight=default_float_qparams_observer
)
float_qparams_weight_only_qconfig_4bit = QConfig(
    activation=PlaceholderObserver,
    weight=PerChannelMinMaxObserver.with_args(
        dtype=dtypes.quint4x2, qscheme=_quantized.per_channel_affine_float_qparams, ch_axis=0
    ),
)
default_qat_qconfig = QConfig(activation=default_fake_quant, weight=default_weight_fake_quant)
default_weight_only_qconfig = QConfig(activation=lambda: None, weight=default_weight_fake_quant)
default_activation_only_qconfig = QConfig(activation=default_fake_quant, weight=lambda: None)

_BACKENDS = ("x86", "fbgemm", "qnnpack", "onednn")


def _check_backend(backend: str, op: str) -> None:
    if backend not in _BACKENDS:
        raise AssertionError(
            f"{op}: backend: {backend} not supported. backend must be one of {list(_BACKENDS)}"
        )


def get_default_qconfig(backend: str = "x86", version: int = 0) -> QConfig:
    """PyTorch's post-training qconfig for ``backend``: a histogram observer on activations
    (7-bit for x86/fbgemm) and per-channel symmetric qint8 weights (per-tensor for qnnpack).

    Example:
        >>> model.qconfig = get_default_qconfig("x86")
    """
    _check_backend(backend, "get_default_qconfig")
    if version != 0:
        raise AssertionError(
            f"Version number: {version} in get_default_qconfig is not supported. Version "
            "number must be 0"
        )
    reduce = backend in ("x86", "fbgemm")
    weight = (
        default_weight_observer if backend == "qnnpack" else default_per_channel_weight_observer
    )
    return QConfig(activation=HistogramObserver.with_args(reduce_range=reduce), weight=weight)


def get_default_qat_qconfig(backend: str = "x86", version: int = 1) -> QConfig:
    """PyTorch's quantization-aware-training qconfig for ``backend``: moving-average fake
    quantization of activations and (per-channel) symmetric qint8 weights; ``version=1`` uses
    the fused observer + fake-quantize modules.

    Example:
        >>> model.qconfig = get_default_qat_qconfig("x86")
    """
    _check_backend(backend, "get_default_qat_qconfig")
    if version not in (0, 1):
        raise AssertionError(
            f"Version number: {version}in get_default_qat_qconfig is not supported. Version "
            "number must be 0 or 1"
        )
    kwargs = dict(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255)
    if backend in ("x86", "fbgemm", "qnnpack"):
        kwargs["reduce_range"] = backend != "qnnpack"
    per_tensor_weights = backend == "qnnpack"
    if version == 0:
        weight = default_weight_fake_quant if per_tensor_weights else (
            default_per_channel_weight_fake_quant
        )  # fmt: skip
        return QConfig(activation=FakeQuantize.with_args(**kwargs), weight=weight)
    weight = default_fused_wt_fake_quant if per_tensor_weights else (
        default_fused_per_channel_wt_fake_quant
    )  # fmt: skip
    return QConfig(activation=FusedMovingAvgObsFakeQuantize.with_args(**kwargs), weight=weight)


def get_default_qconfig_dict(backend: str = "x86", version: int = 0) -> dict:
    """``{"": get_default_qconfig(backend, version)}``."""
    return {"": get_default_qconfig(backend, version)}


def get_default_qat_qconfig_dict(backend: str = "x86", version: int = 1) -> dict:
    """``{"": get_default_qat_qconfig(backend, version)}``."""
    return {"": get_default_qat_qconfig(backend, version)}


def qconfig_equals(q1, q2) -> bool:
    """Whether two qconfigs make the same observers (same constructors and arguments)."""
    if q1 is None or q2 is None:
        return q1 is q2

    def same(a, b):
        if hasattr(a, "p") and hasattr(b, "p"):
            return a.p.func is b.p.func and a.p.keywords == b.p.keywords
        return a is b

    return same(q1.activation, q2.activation) and same(q1.weight, q2.weight)
