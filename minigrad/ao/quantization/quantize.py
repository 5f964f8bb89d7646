"""Eager-mode quantization, as ``torch.ao.quantization.quantize``: ``prepare`` attaches
observers, calibration runs data through, ``convert`` swaps layers for quantized ones;
``prepare_qat`` swaps in fake-quantized layers first; ``quantize_dynamic`` swaps Linear layers
for dynamically quantized ones."""

from __future__ import annotations

import copy
import inspect
import itertools

from ... import dtypes, nn
from ..._warnings import warn_user
from ..nn import intrinsic as nni
from ..nn.intrinsic import _FusedModule
from ..nn.quantized import FloatFunctional
from .fake_quantize import FakeQuantizeBase
from .observer import ObserverBase
from .qconfig import (
    default_dynamic_qconfig,
    float16_dynamic_qconfig,
    float_qparams_weight_only_qconfig,
    float_qparams_weight_only_qconfig_4bit,
)
from .quantization_mappings import (
    UNSUPPORTED,
    _get_special_act_post_process,
    _has_special_act_post_process,
    get_default_dynamic_quant_module_mappings,
    get_default_qat_module_mappings,
    get_default_qconfig_propagation_list,
    get_default_static_quant_module_mappings,
)
from .stubs import DeQuantStub
from .utils import deprecated_entry_point

_RECURRENT = (nn.LSTM, nn.GRU, nn.LSTMCell, nn.RNNCell, nn.GRUCell)
_QAT_UNSUPPORTED = (nni.BNReLU2d,)


def propagate_qconfig_(module, qconfig_dict=None, prepare_custom_config_dict=None) -> None:
    """Give every submodule a ``qconfig``: its own, else one ``qconfig_dict`` names for its
    type or its qualified name, else its parent's (in place)."""
    if prepare_custom_config_dict is not None:
        raise NotImplementedError("propagate_qconfig_: prepare_custom_config_dict is not supported")
    _propagate(module, qconfig_dict or {}, None, "")


def _propagate(module, qconfig_dict, parent_qconfig, prefix: str) -> None:
    qconfig = qconfig_dict.get(type(module), parent_qconfig)
    qconfig = qconfig_dict.get(prefix, qconfig)
    module.qconfig = getattr(module, "qconfig", qconfig)
    for name, child in module.named_children():
        _propagate(child, qconfig_dict, module.qconfig, f"{prefix}.{name}" if prefix else name)


def _observer_forward_hook(self, input, output):
    """Forward hook of a prepared module: its observer sees (and may fake-quantize) the output."""
    return self.activation_post_process(output)


def _needs_observation(module) -> bool:
    return getattr(module, "qconfig", None) is not None


def _insert_observer(module, special=None) -> None:
    """Attach ``qconfig.activation()`` (or the ``special`` constructor, a fixed-qparams
    fake-quantize) to ``module``'s output."""
    if _needs_observation(module) and not isinstance(module, DeQuantStub):
        post = module.qconfig.activation() if special is None else special()
        module.add_module("activation_post_process", post)
        module.register_forward_hook(_observer_forward_hook)


def _add_observer_(module, propagation_list, non_leaf_module_list=None) -> None:
    for child in module.children():
        if type(child) is nn.Dropout:
            continue
        if type(child) is FloatFunctional:  # its ops call the observer themselves
            if _needs_observation(child):
                child.activation_post_process = child.qconfig.activation()
            continue
        if isinstance(child, _FusedModule) or (
            non_leaf_module_list is not None and type(child) in non_leaf_module_list
        ):
            _insert_observer(child)
        elif _has_special_act_post_process(child):
            _insert_observer(child, _get_special_act_post_process(child))
        else:
            _add_observer_(child, propagation_list, non_leaf_module_list)
    leaf = next(iter(module.children()), None) is None
    if leaf and not isinstance(module, nn.Sequential) and type(module) in propagation_list:
        _insert_observer(module)


@deprecated_entry_point
def prepare(
    model, inplace=False, allow_list=None, observer_non_leaf_module_list=None,
    prepare_custom_config_dict=None,
):  # fmt: skip
    """Attach observers (``qconfig.activation()``) to the outputs of the quantizable leaf
    layers of ``model`` (a copy unless ``inplace``), ready for calibration.

    Example:
        >>> model.qconfig = get_default_qconfig("x86")
        >>> prepared = prepare(model.eval())
        >>> for x in calibration_batches: prepared(x)
        >>> quantized = convert(prepared)
    """
    if prepare_custom_config_dict is not None:
        raise NotImplementedError("prepare: prepare_custom_config_dict is not supported")
    if not inplace:
        model = copy.deepcopy(model)
    propagation_list = allow_list or get_default_qconfig_propagation_list()
    propagate_qconfig_(model)
    if not any(getattr(m, "qconfig", None) for m in model.modules()):
        warn_user(
            "None of the submodule got qconfig applied. Make sure you passed correct "
            "configuration through `qconfig_dict` or by assigning the `.qconfig` attribute "
            "directly on submodules"
        )
    _add_observer_(model, propagation_list, observer_non_leaf_module_list)
    return model


def _remove_qconfig(module) -> None:
    for child in module.children():
        _remove_qconfig(child)
    if hasattr(module, "qconfig"):
        del module.qconfig
    _remove_observers(module)


def _remove_observers(module) -> None:
    post = module._modules.get("activation_post_process")
    if isinstance(post, (ObserverBase, FakeQuantizeBase)):
        del module.activation_post_process
    for key, hook in list(module._forward_hooks.items()):
        if hook is _observer_forward_hook:
            del module._forward_hooks[key]


@deprecated_entry_point
def convert(
    module, mapping=None, inplace=False, remove_qconfig=True, is_reference=False,
    convert_custom_config_dict=None, use_precomputed_fake_quant=False,
):  # fmt: skip
    """Swap each prepared (and calibrated) layer for its quantized form in ``module`` (a copy
    unless ``inplace``), using its observers' qparams.

    Example:
        >>> quantized = convert(prepared)  # QuantStub → Quantize, Linear → quantized Linear
    """
    if is_reference:
        raise NotImplementedError("convert: reference quantized modules are not supported")
    if convert_custom_config_dict is not None:
        raise NotImplementedError("convert: convert_custom_config_dict is not supported")
    if not inplace:
        module = copy.deepcopy(module)
    static = mapping is None
    mapping = get_default_static_quant_module_mappings() if mapping is None else mapping
    _convert(module, mapping, UNSUPPORTED if static else (), use_precomputed_fake_quant)
    if remove_qconfig:
        _remove_qconfig(module)
    return module


def _convert(module, mapping, unsupported, precomputed) -> None:
    swapped = {}
    for name, child in module.named_children():
        if not isinstance(child, _FusedModule) and not getattr(child, "_FUSED", False):
            _convert(child, mapping, unsupported, precomputed)
        swapped[name] = swap_module(child, mapping, None, precomputed, unsupported=unsupported)
    for name, new in swapped.items():
        module._modules[name] = new


def swap_module(
    mod, mapping, custom_module_class_mapping=None, use_precomputed_fake_quant=False, *,
    unsupported=(),
):  # fmt: skip
    """``mapping[type(mod)].from_float(mod)`` when ``mod`` has a qconfig and a mapped type (its
    hooks other than the observer's carried over), else ``mod`` (``unsupported`` types raise)."""
    if custom_module_class_mapping:
        raise NotImplementedError("swap_module: custom module classes are not supported")
    if getattr(mod, "qconfig", None) is None:
        return mod
    target = mapping.get(type(mod))
    if target is None:
        if type(mod) in unsupported:
            raise NotImplementedError(
                f"convert: minigrad has no quantized {type(mod).__name__} yet (PyTorch has); "
                "set its qconfig to None to keep it in float, with a DeQuantStub before it and "
                "a QuantStub after it"
            )
        return mod
    if "use_precomputed_fake_quant" in inspect.signature(target.from_float).parameters:
        new = target.from_float(mod, use_precomputed_fake_quant=use_precomputed_fake_quant)
    else:
        new = target.from_float(mod)
    for hook in mod._forward_pre_hooks.values():
        new.register_forward_pre_hook(hook)
    for hook in mod._forward_hooks.values():
        if hook is not _observer_forward_hook:
            new.register_forward_hook(hook)
    return new


@deprecated_entry_point
def quantize(model, run_fn, run_args, mapping=None, inplace=False):
    """Post-training static quantization in one call: prepare, ``run_fn(model, *run_args)``
    to calibrate, convert."""
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    prepare(model, inplace=True)
    run_fn(model, *run_args)
    convert(model, mapping, inplace=True)
    return model


@deprecated_entry_point
def prepare_qat(model, mapping=None, inplace=False):
    """Swap layers for their fake-quantized (QAT) forms and attach fake-quantize modules to
    their outputs, for quantization-aware training; ``model`` must be in training mode.

    Example:
        >>> model.qconfig = get_default_qat_qconfig("x86")
        >>> qat = prepare_qat(model.train())
        >>> # ... train qat ...
        >>> quantized = convert(qat.eval())
    """
    if not model.training:
        raise AssertionError("prepare_qat only works on models in training mode")
    mapping = get_default_qat_module_mappings() if mapping is None else mapping
    if not inplace:
        model = copy.deepcopy(model)
    propagate_qconfig_(model)
    for sub in model.modules():
        if isinstance(sub, _QAT_UNSUPPORTED) and _needs_observation(sub):
            raise NotImplementedError(
                f"prepare_qat: minigrad has no QAT form of {type(sub).__name__} (batch-norm "
                "folding during training) yet; fuse in eval mode with fuse_modules instead"
            )
    convert(model, mapping=mapping, inplace=True, remove_qconfig=False)
    prepare(model, observer_non_leaf_module_list=set(mapping.values()), inplace=True)
    return model


@deprecated_entry_point
def quantize_qat(model, run_fn, run_args, inplace=False):
    """Quantization-aware training in one call: prepare_qat, ``run_fn(model, *run_args)`` to
    train, convert."""
    if not inplace:
        model = copy.deepcopy(model)
    model.train()
    prepare_qat(model, inplace=True)
    run_fn(model, *run_args)
    convert(model, inplace=True)
    return model


_DYNAMIC_DEFAULTS = {
    dtypes.qint8: default_dynamic_qconfig,
    dtypes.float16: float16_dynamic_qconfig,
    dtypes.quint8: float_qparams_weight_only_qconfig,
    dtypes.quint4x2: float_qparams_weight_only_qconfig_4bit,
}
_DYNAMIC_TYPES = {  # the layers each dtype quantizes by default
    dtypes.qint8: lambda: (nn.Linear, *_RECURRENT),
    dtypes.float16: lambda: (nn.Linear, *_RECURRENT),
    dtypes.quint8: lambda: (nn.EmbeddingBag, nn.Embedding),
    dtypes.quint4x2: lambda: (nn.EmbeddingBag,),
}


@deprecated_entry_point
def quantize_dynamic(model, qconfig_spec=None, dtype=dtypes.qint8, mapping=None, inplace=False):
    """Dynamic quantization: the chosen layer types (default ``nn.Linear`` and the recurrent
    layers) get qint8 (or float16) weights, activations quantized on the fly per call; with
    ``dtype`` quint8 / quint4x2, embedding tables are quantized per row (weight only).

    Example:
        >>> qmodel = quantize_dynamic(model, {nn.Linear}, dtype=qint8)
    """
    default = _DYNAMIC_DEFAULTS.get(dtype)
    if qconfig_spec is None:
        if default is None:
            raise ValueError(
                f"Don't know how to quantize with default settings for {dtype}. Provide full "
                "qconfig please"
            )
        qconfig_spec = {t: default for t in _DYNAMIC_TYPES[dtype]()}
    elif isinstance(qconfig_spec, set):
        if default is None:
            raise RuntimeError(f"Unknown dtype specified for quantize_dynamic: {dtype}")
        qconfig_spec = dict(zip(qconfig_spec, itertools.repeat(default)))
    mapping = get_default_dynamic_quant_module_mappings() if mapping is None else mapping
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    propagate_qconfig_(model, qconfig_spec)
    _convert(model, mapping, _RECURRENT, False)
    _remove_qconfig(model)
    return model
