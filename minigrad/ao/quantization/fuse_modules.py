"""Fusing layers before quantization, as ``torch.ao.quantization.fuse_modules``: conv + bn
(+ relu) and linear (+ bn) (+ relu) become one module, so that one observer watches the fused
output and batch norm is folded into the weights."""

from __future__ import annotations

import copy

from ... import nn
from .fuser_method_mappings import (  # noqa: F401  (torch.ao.quantization.fuse_modules has them)
    DEFAULT_OP_LIST_TO_FUSER_METHOD,
    fuse_conv_bn,
    fuse_conv_bn_relu,
    fuse_convtranspose_bn,
    fuse_linear_bn,
    get_fuser_method,
)


def fuse_known_modules(mod_list, is_qat, additional_fuser_method_mapping=None):
    """``[fused, Identity, ...]`` for a list of modules of a known pattern; the first
    module's pre-hooks and the last one's hooks move to the fused module."""
    types = tuple(type(m) for m in mod_list)
    fuser = get_fuser_method(types, additional_fuser_method_mapping)
    if fuser is None:
        raise NotImplementedError(f"Cannot fuse modules: {types}")
    fused = fuser(is_qat, *mod_list)
    for hook in mod_list[0]._forward_pre_hooks.values():
        fused.register_forward_pre_hook(hook)
    mod_list[0]._forward_pre_hooks.clear()
    for hook in mod_list[-1]._forward_hooks.values():
        fused.register_forward_hook(hook)
    mod_list[-1]._forward_hooks.clear()
    rest = []
    for _ in mod_list[1:]:
        identity = nn.Identity()
        identity.training = mod_list[0].training
        rest.append(identity)
    return [fused, *rest]


def _fuse(model, modules_to_fuse, is_qat, inplace, fuser_func, fuse_custom_config_dict):
    if fuse_custom_config_dict is not None:
        raise NotImplementedError("fuse_modules: fuse_custom_config_dict is not supported")
    if not inplace:
        model = copy.deepcopy(model)
    groups = [modules_to_fuse] if all(isinstance(m, str) for m in modules_to_fuse) else (
        modules_to_fuse
    )  # fmt: skip
    for names in groups:
        modules = [model.get_submodule(name) for name in names]
        for name, new in zip(names, fuser_func(modules, is_qat)):
            model.set_submodule(name, new)
    return model


def fuse_modules(
    model, modules_to_fuse, inplace=False, fuser_func=fuse_known_modules,
    fuse_custom_config_dict=None,
):  # fmt: skip
    """Fuse each list of submodule names in ``modules_to_fuse`` (or the one list) into one
    module, the others becoming ``Identity``: conv-bn, conv-bn-relu, conv-relu, linear-bn,
    linear-relu, bn-relu. Models in eval mode (batch norm folded into the weights).

    Example:
        >>> fused = fuse_modules(model.eval(), [["conv", "bn", "relu"], ["fc", "relu2"]])
    """
    return _fuse(model, modules_to_fuse, False, inplace, fuser_func, fuse_custom_config_dict)


def fuse_modules_qat(
    model, modules_to_fuse, inplace=False, fuser_func=fuse_known_modules,
    fuse_custom_config_dict=None,
):  # fmt: skip
    """:func:`fuse_modules` for quantization-aware training (conv-bn stays unfolded)."""
    return _fuse(model, modules_to_fuse, True, inplace, fuser_func, fuse_custom_config_dict)
