"""Error measures between a float tensor and its quantized counterpart, as
``torch.ao.ns.fx.utils``."""

from __future__ import annotations


def _plain(t):
    return t.dequantize() if t.is_quantized else t


def compute_sqnr(x, y):
    """Signal-to-quantization-noise ratio in dB: ``20 log10(‖x‖ / ‖x - y‖)`` (a 0-d tensor).

    Example:
        >>> compute_sqnr(weight, quantized_weight.dequantize())
    """
    x, y = _plain(x), _plain(y)
    return 20 * (x.norm() / (x - y).norm()).log10()


def compute_normalized_l2_error(x, y):
    """``‖x - y‖ / ‖x‖`` (a 0-d tensor)."""
    x, y = _plain(x), _plain(y)
    return (x - y).norm() / x.norm()


def compute_cosine_similarity(x, y):
    """The cosine of the angle between ``x`` and ``y`` flattened (a 0-d tensor)."""
    import minigrad

    x, y = _plain(x).reshape(1, -1), _plain(y).reshape(1, -1)
    return minigrad.nn.functional.cosine_similarity(x, y)[0]
