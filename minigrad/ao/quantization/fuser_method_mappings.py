"""The functions that fuse a pattern of modules, as ``torch.ao.quantization.
fuser_method_mappings``: each takes ``is_qat`` (quantization-aware training keeps batch norm
as a module, post-training folds it into the weights) and the modules, and returns the fused
module; :data:`DEFAULT_OP_LIST_TO_FUSER_METHOD` maps module-type patterns to them for
:func:`~minigrad.ao.quantization.fuse_modules`."""

from __future__ import annotations

from ... import nn
from ...nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval
from ..nn import intrinsic as nni
from .utils import get_combined_dict

__all__ = [
    "DEFAULT_OP_LIST_TO_FUSER_METHOD",
    "fuse_conv_bn",
    "fuse_conv_bn_relu",
    "fuse_convtranspose_bn",
    "fuse_linear_bn",
    "get_combined_dict",
    "get_fuser_method",
]


def _same_mode(*modules, what: str = "Conv and BN") -> None:
    if len({m.training for m in modules}) != 1:
        raise AssertionError(f"{what} both must be in the same mode (train or eval).")


def _qat_class(cls, conv, found: dict):
    """The fused QAT class for ``conv``'s type (minigrad has the 2-d ones)."""
    dims = {nn.Conv1d: "1d", nn.Conv2d: "2d", nn.Conv3d: "3d"}.get(type(conv))
    if dims is None:
        raise NotImplementedError(f"Cannot fuse train modules: {found}")
    if dims != "2d":
        raise NotImplementedError(f"{cls}{dims}: minigrad's fused QAT modules are 2-d only")
    return getattr(nni, f"{cls}2d")


def fuse_conv_bn(is_qat, conv, bn):
    """Conv + batch norm: the conv with the statistics folded in (post-training), or
    ``ConvBn2d`` holding both (``is_qat``).

    Example:
        >>> m2 = fuse_conv_bn(False, nn.Conv2d(10, 20, 3).eval(), nn.BatchNorm2d(20).eval())
    """
    _same_mode(conv, bn)
    if not is_qat:
        return fuse_conv_bn_eval(conv, bn)
    _check_qat_bn(conv.out_channels, bn, "Conv2d", "BatchNorm2d")
    return _qat_class("ConvBn", conv, (conv, bn))(conv, bn)


def fuse_conv_bn_relu(is_qat, conv, bn, relu):
    """Conv + batch norm + ReLU: ``ConvReLU2d`` of the folded conv (post-training), or
    ``ConvBnReLU2d`` (``is_qat``)."""
    _same_mode(conv, bn, relu)
    if is_qat:
        _check_qat_bn(conv.out_channels, bn, "Conv2d", "BatchNorm2d")
        return _qat_class("ConvBnReLU", conv, (conv, bn, relu))(conv, bn, relu)
    if type(conv) is not nn.Conv2d:
        raise NotImplementedError(
            f"Cannot fuse eval modules: {(conv, bn, relu)} (minigrad's ConvReLU is 2-d only)"
        )
    return nni.ConvReLU2d(fuse_conv_bn_eval(conv, bn), relu)


def fuse_linear_bn(is_qat, linear, bn):
    """Linear + batch norm: the linear with the statistics folded in (post-training)."""
    _same_mode(linear, bn, what="Linear and BN")
    if is_qat:
        _check_qat_bn(linear.out_features, bn, "Linear", "BatchNorm1d", "Output features")
        raise NotImplementedError(
            "fuse_modules_qat: minigrad has no LinearBn1d (QAT batch-norm folding) yet"
        )
    return fuse_linear_bn_eval(linear, bn)


def fuse_convtranspose_bn(is_qat, convt, bn):
    """Transposed conv + batch norm: the transposed conv with the statistics folded in
    (post-training only, as in PyTorch)."""
    _same_mode(convt, bn, what="ConvTranspose and BN")
    if is_qat:
        # (a bare Exception, as PyTorch raises)
        raise Exception("Fusing ConvTranspose+BatchNorm not yet supported in QAT.")
    return fuse_conv_bn_eval(convt, bn, transpose=True)


def _check_qat_bn(channels: int, bn, layer: str, norm: str, what="Output channel") -> None:
    if bn.num_features != channels:
        raise AssertionError(f"{what} of {layer} must match num_features of {norm}")
    if not bn.affine:
        raise AssertionError(f"Only support fusing {norm} with affine set to True")
    if not bn.track_running_stats:
        raise AssertionError(f"Only support fusing {norm} with tracking_running_stats set to True")


DEFAULT_OP_LIST_TO_FUSER_METHOD = {
    (nn.Conv1d, nn.BatchNorm1d): fuse_conv_bn,
    (nn.Conv2d, nn.BatchNorm2d): fuse_conv_bn,
    (nn.Conv3d, nn.BatchNorm3d): fuse_conv_bn,
    (nn.Conv2d, nn.BatchNorm2d, nn.ReLU): fuse_conv_bn_relu,
    (nn.Conv2d, nn.ReLU): lambda is_qat, conv, relu: nni.ConvReLU2d(conv, relu),
    (nn.Linear, nn.BatchNorm1d): fuse_linear_bn,
    (nn.Linear, nn.ReLU): lambda is_qat, linear, relu: nni.LinearReLU(linear, relu),
    (nn.BatchNorm2d, nn.ReLU): lambda is_qat, bn, relu: nni.BNReLU2d(bn, relu),
    (nn.ConvTranspose1d, nn.BatchNorm1d): fuse_convtranspose_bn,
    (nn.ConvTranspose2d, nn.BatchNorm2d): fuse_convtranspose_bn,
    (nn.ConvTranspose3d, nn.BatchNorm3d): fuse_convtranspose_bn,
}


def get_fuser_method(op_list, additional_fuser_method_mapping=None):
    """The function fusing modules of the types ``op_list`` (None if there is none)."""
    table = get_combined_dict(
        DEFAULT_OP_LIST_TO_FUSER_METHOD, additional_fuser_method_mapping or {}
    )
    return table.get(tuple(op_list))
