"""The eager-mode Numeric Suite, as ``torch.ao.ns._numeric_suite``: a float model's weights and
layer outputs beside its quantized model's, keyed as PyTorch keys them, to find where
quantization loses accuracy (``compute_sqnr`` of each pair).

Example:
    >>> weights = compare_weights(float_model.state_dict(), qmodel.state_dict())
    >>> for key, pair in weights.items():
    ...     print(key, compute_sqnr(pair["float"], pair["quantized"].dequantize()))
    >>> outputs = compare_model_outputs(float_model, qmodel, images)
"""

from __future__ import annotations

from ... import _quantized
from ...nn.modules.module import Module
from ..quantization.quantization_mappings import (
    DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS,
    DEFAULT_STATIC_QUANT_MODULE_MAPPINGS,
)
from ..quantization.stubs import DeQuantStub

_INT_REPR = ".weight.int_repr"


def _quantized_weight(state: dict, prefix: str):
    """The quantized weight of the layer at ``prefix`` from minigrad's state-dict entries."""
    ints = state[prefix + _INT_REPR]
    scale, zero_point = state[prefix + ".weight.scale"], state[prefix + ".weight.zero_point"]
    axis = int(state[prefix + ".weight.axis"].item())
    if axis < 0:
        return _quantized._make_per_tensor_quantized_tensor(
            ints, scale.item(), int(zero_point.item())
        )
    return _quantized._make_per_channel_quantized_tensor(ints, scale, zero_point, axis)


def compare_weights(float_dict: dict, quantized_dict: dict) -> dict:
    """The weights of the quantized layers beside the float ones.

    Args:
        float_dict: the float model's state dict.
        quantized_dict: the quantized model's state dict.

    Returns:
        ``{key: {"float": tensor, "quantized": quantized tensor}}``, keyed as PyTorch's:
        ``<layer>.weight`` for convolutions, ``<layer>._packed_params._packed_params`` for
        linear layers. A fused layer's float weight is found at ``<layer>.0.weight``.
    """
    out = {}
    for key in quantized_dict:
        if not key.endswith(_INT_REPR):
            continue
        prefix = key[: -len(_INT_REPR)]
        float_key = next(
            (k for k in (prefix + ".weight", prefix + ".0.weight") if k in float_dict), None
        )
        if float_key is None:
            continue
        quantized = _quantized_weight(quantized_dict, prefix)
        name = prefix + (".weight" if quantized.dim() != 2 else "._packed_params._packed_params")
        out[name] = {"float": float_dict[float_key], "quantized": quantized}
    return out


class OutputLogger(Module):
    """Keeps what it is called with in ``stats["tensor_val"]`` and returns it unchanged."""

    def __init__(self):
        super().__init__()
        self.stats = {"tensor_val": []}

    def forward(self, x):
        self.stats["tensor_val"].append(x)
        return x


def get_default_compare_output_module_list() -> set:
    """The module types whose outputs :func:`compare_model_outputs` compares: the float and
    quantized forms of every layer quantization swaps, and the quant stubs."""
    found = set()
    for mapping in (DEFAULT_STATIC_QUANT_MODULE_MAPPINGS, DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS):
        found |= set(mapping) | set(mapping.values())
    dequantize = DEFAULT_STATIC_QUANT_MODULE_MAPPINGS[DeQuantStub]
    return found - {DeQuantStub, dequantize}


def _attach(model, names, loggers: dict) -> list:
    handles = []
    for name in names:
        logger = loggers.setdefault(name, OutputLogger())
        hook = lambda module, args, output, logger=logger: logger(output)  # noqa: E731
        handles.append(model.get_submodule(name).register_forward_hook(hook))
    return handles


def compare_model_outputs(float_model, q_model, *data, logger_cls=OutputLogger, allow_list=None):
    """The outputs of the layers the two models share (by name, of a type in ``allow_list``),
    from running both on ``data``.

    Returns:
        ``{"<layer>.stats": {"float": [outputs], "quantized": [outputs]}}`` (one output per
        call), as PyTorch's.
    """
    if logger_cls is not OutputLogger:
        raise NotImplementedError("compare_model_outputs: minigrad supports OutputLogger only")
    allowed = tuple(get_default_compare_output_module_list() if allow_list is None else allow_list)
    float_modules = dict(float_model.named_modules())
    names = [
        name
        for name, module in q_model.named_modules()
        if name and isinstance(module, allowed) and isinstance(float_modules.get(name), allowed)
    ]
    float_logs, quant_logs = {}, {}
    handles = _attach(float_model, names, float_logs) + _attach(q_model, names, quant_logs)
    try:
        float_model(*data)
        q_model(*data)
    finally:
        for handle in handles:
            handle.remove()
    return {
        name + ".stats": {
            "float": float_logs[name].stats["tensor_val"],
            "quantized": quant_logs[name].stats["tensor_val"],
        }
        for name in names
    }


def get_logger_dict(mod, prefix: str = "") -> dict:
    """``{"<path>.stats": stats}`` of the OutputLoggers inside ``mod``."""
    return {
        (prefix + name if name else prefix.rstrip(".")) + ".stats": m.stats
        for name, m in mod.named_modules()
        if isinstance(m, OutputLogger)
    }


def compare_model_stub(float_model, q_model, module_swap_list, *data, logger_cls=None):
    """Not supported in minigrad (shadow modules); use :func:`compare_model_outputs`."""
    raise NotImplementedError(
        "compare_model_stub (Shadow modules) is not supported in minigrad; use "
        "compare_model_outputs"
    )


__all__ = [
    "OutputLogger", "compare_model_outputs", "compare_model_stub", "compare_weights",
    "get_default_compare_output_module_list", "get_logger_dict",
]  # fmt: skip
