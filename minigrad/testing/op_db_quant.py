"""Op-table rows of fake quantization (branch quant), compared with PyTorch on their forward.

The straight-through gradient (1 inside the range) is by design not the derivative of the
step function (0 between rounding boundaries), so finite differences cannot check it: the
ops are in ``EXEMPT``, and tests/test_quant_fake.py compares their gradients (and double
backward) with PyTorch's. Sample values keep 0.1 from the rounding boundaries; the ties row
pins round-half-to-even and clamping."""

from __future__ import annotations

from .samples import OpInfo, Sample, T, V

# Rounding boundaries x = 0.25 + 0.5·k of a grid of step 0.5 (also of steps 1.5 and 2.5).
_HALF_GRID = tuple(0.25 + 0.5 * k for k in range(-6, 6))
_GRID = tuple(0.5 * k for k in range(-6, 7))  # boundaries of step 0.5 with zero point 0.5


def _per_channel(m, x, scales, zero_points, axis, qmin, qmax, float_zp=False):
    scale = m.tensor(scales, device=x.device)
    zp_dtype = m.float32 if float_zp else m.int32
    zero_point = m.tensor(zero_points, dtype=zp_dtype, device=x.device)
    return m.fake_quantize_per_channel_affine(x, scale, zero_point, axis, qmin, qmax)


def _forward_only(row: OpInfo) -> OpInfo:
    row.grad = False
    return row


def _rows():
    return [
        OpInfo(
            "fake_quantize_per_tensor_affine",
            lambda m, x, **kw: m.fake_quantize_per_tensor_affine(x, 0.5, 1, -4, 3),
            [Sample(T((3, 4), away=_HALF_GRID)), Sample(T((), away=_HALF_GRID))],
        ),
        OpInfo(
            "fake_quantize_per_tensor_affine_tensor_qparams",
            lambda m, x: m.fake_quantize_per_tensor_affine(
                x, m.tensor(1.5), m.tensor(0, dtype=m.int32), 0, 255
            ),
            [Sample(T((5,), low=-3.0, high=3.0, away=_HALF_GRID))],
        ),
        OpInfo(
            "fake_quantize_per_channel_affine",
            lambda m, x: _per_channel(m, x, [0.5, 1.5, 2.5], [0, 1, -2], 1, -3, 2),
            [Sample(T((2, 3, 2), away=_HALF_GRID))],
        ),
        OpInfo(
            "fake_quantize_per_channel_affine_float_zero_point",
            lambda m, x: _per_channel(m, x, [0.5, 0.5], [0.5, -1.5], 0, -4, 3, float_zp=True),
            [Sample(T((2, 3), away=_GRID))],
        ),
        OpInfo(
            "fake_quantize_learnable_per_tensor_affine",
            lambda m, x: m._fake_quantize_learnable_per_tensor_affine(
                x,
                m.tensor([0.5], dtype=x.dtype, device=x.device),
                m.tensor([1.3], dtype=x.dtype, device=x.device),
                -4,
                3,
                0.5,
            ),
            [Sample(T((3, 4), away=_HALF_GRID))],
        ),
        OpInfo(
            "fake_quantize_learnable_per_channel_affine",
            lambda m, x: m._fake_quantize_learnable_per_channel_affine(
                x,
                m.tensor([0.5, 1.5], dtype=m.float32, device=x.device),
                m.tensor([0.2, -1.7], dtype=m.float32, device=x.device),
                0,
                -3,
                2,
            ),  # fmt: skip
            [Sample(T((2, 3), away=_HALF_GRID))],
        ),
        OpInfo(
            "fake_quantize_ties",
            lambda m, x: (
                m.fake_quantize_per_tensor_affine(x, 1.0, 0, -2, 2),
                m.fake_quantize_per_tensor_affine(x, 0.5, 3, 0, 7),
            ),
            [Sample(V([-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.25, -0.75]))],
            grad=False,
        ),
    ]


ROWS = [_forward_only(row) for row in _rows()]

EXEMPT = {
    name: "tests/test_quant_fake.py (straight-through gradients against PyTorch's)"
    for name in (
        "FakeQuantizePerTensorAffine",
        "FakeQuantizePerChannelAffine",
        "FakeQuantizeLearnablePerTensorAffine",
        "FakeQuantizeLearnablePerChannelAffine",
    )  # fmt: skip
}
