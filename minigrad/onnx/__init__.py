"""ONNX export, as ``torch.onnx``: ``minigrad.onnx.export(model, args, f, ...)``.

Needs the ``onnx`` package (``pip install 'minigrad[onnx]'``; add ``onnxruntime`` to run the
exported model). See :func:`export`.
"""

from ._export import TrainingMode, export, is_in_onnx_export
from ._ops import CONVERTERS as _CONVERTERS


def is_supported(op_name: str) -> bool:
    """Whether the op named ``op_name`` (its graph label, e.g. ``"Convolution"``) exports."""
    return op_name in _CONVERTERS


__all__ = ["TrainingMode", "export", "is_in_onnx_export", "is_supported"]
