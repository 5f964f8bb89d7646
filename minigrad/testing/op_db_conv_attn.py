"""Rows of the op table for convolution, pooling and attention ops."""

from __future__ import annotations

from ..nn.attention import SDPBackend, sdpa_kernel
from ..nn.functional._attention_select import block_sizes
from .samples import F, Mask, OpInfo, Sample, T


def _call(name: str):
    """A row function ``fn(m, *args, **kwargs)`` that calls ``F.<name>`` of module ``m``."""

    def fn(m, *args, **kwargs):
        return getattr(F(m), name)(*args, **kwargs)

    fn.__name__ = name
    return fn


def _blockwise(m, *args, **kwargs):
    """SDPA on minigrad's block-wise kernel with 2 × 3 tiles (several tiles and ragged edges on
    small inputs); PyTorch runs its own kernel. (Dropout is tested in test_attention_blocks.py:
    its masks depend on each device's generator, which the op table's device checks compare.)"""
    if getattr(m, "__name__", "") != "minigrad":
        return F(m).scaled_dot_product_attention(*args, **kwargs)
    with sdpa_kernel(SDPBackend.FLASH_ATTENTION), block_sizes(2, 3):
        return F(m).scaled_dot_product_attention(*args, **kwargs)


_CAUSAL_ROWS = [[True, False, False], [True, True, False], [True, True, True]]
_PARTIAL_MASK = [
    [True, False, True, True, False],
    [False, False, False, False, False],  # a query that may see no key: zero output
    [True, True, False, True, True],
]
_MASK_5X7 = [
    [True, False, True, True, False, False, True],
    [False, False, False, False, False, False, False],  # no key: zero output
    [True, True, False, True, True, False, False],
    [False, False, False, False, False, False, True],  # one key, in the last (ragged) block
    [True, True, True, True, True, True, True],
]

ROWS = [
    OpInfo(
        "conv2d",
        _call("conv2d"),
        [
            Sample(T((1, 2, 4, 4)), T((2, 2, 3, 3)), T((2,)), padding=1),
            Sample(
                T((1, 2, 5, 6)), T((2, 1, 2, 3)), T((2,)), stride=(2, 1), dilation=(1, 2), groups=2
            ),
            Sample(T((1, 1, 4, 5)), T((2, 1, 2, 2)), padding="same"),
            Sample(T((2, 2, 3, 4), transposed=True), T((2, 2, 2, 2)), None, stride=2),
            Sample(T((2, 4, 4)), T((2, 2, 3, 3)), T((2,)), padding=(0, 1)),
        ],
    ),
    OpInfo(
        "conv1d",
        _call("conv1d"),
        [
            Sample(T((2, 2, 6)), T((3, 2, 3)), T((3,)), stride=2, padding=1),
            Sample(T((1, 4, 7)), T((2, 2, 2)), None, dilation=2, groups=2),
        ],
    ),
    OpInfo(
        "max_pool2d",
        _call("max_pool2d"),
        [
            Sample(T((1, 2, 4, 4)), 2),
            Sample(T((1, 1, 5, 5)), 3, stride=2, padding=1),
            Sample(T((1, 1, 5, 4)), (2, 3), stride=1, padding=(0, 1), dilation=(1, 2)),
            Sample(T((1, 5, 5)), 2, ceil_mode=True, return_indices=True),
        ],
    ),
    OpInfo("max_pool1d", _call("max_pool1d"), [Sample(T((2, 2, 7)), 3, stride=2, padding=1)]),
    OpInfo(
        "avg_pool2d",
        _call("avg_pool2d"),
        [
            Sample(T((1, 2, 4, 4)), 2),
            Sample(
                T((1, 1, 5, 5)), 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False
            ),
            Sample(T((1, 1, 4, 5)), (2, 3), stride=(1, 2), padding=(1, 1), divisor_override=4),
        ],
    ),
    OpInfo("avg_pool1d", _call("avg_pool1d"), [Sample(T((2, 2, 7)), 3, stride=2, padding=1)]),
    OpInfo(
        "adaptive_avg_pool2d",
        _call("adaptive_avg_pool2d"),
        [Sample(T((1, 2, 5, 7)), (2, 3)), Sample(T((1, 1, 4, 6)), (2, 3)), Sample(T((2, 3, 3)), 1)],
    ),
    OpInfo("adaptive_avg_pool1d", _call("adaptive_avg_pool1d"), [Sample(T((1, 2, 7)), 3)]),
    OpInfo(
        "unfold",
        _call("unfold"),
        [Sample(T((1, 2, 4, 4)), 2, padding=1), Sample(T((2, 1, 5, 4)), (2, 3), stride=(2, 1))],
    ),
    OpInfo(
        "fold",
        _call("fold"),
        [Sample(T((1, 8, 4)), (3, 3), 2), Sample(T((1, 4, 4)), (4, 4), 2, stride=2)],
    ),
    OpInfo(
        "scaled_dot_product_attention",
        _call("scaled_dot_product_attention"),
        [
            Sample(T((2, 3, 4)), T((2, 5, 4)), T((2, 5, 3))),
            Sample(T((1, 2, 3, 4)), T((1, 2, 3, 4)), T((1, 2, 3, 2)), is_causal=True),
            Sample(T((3, 4)), T((5, 4)), T((5, 2)), Mask(_PARTIAL_MASK)),
            Sample(T((2, 3, 4)), T((1, 5, 4)), T((2, 5, 2)), T((3, 5)), scale=0.5),
            Sample(T((1, 3, 4)), T((1, 3, 4)), T((1, 3, 4)), Mask(_CAUSAL_ROWS)),
        ],
    ),
    OpInfo(
        "scaled_dot_product_attention_blockwise",
        _blockwise,
        [
            Sample(T((2, 5, 4)), T((2, 7, 4)), T((2, 7, 3))),
            Sample(T((1, 2, 5, 4)), T((1, 2, 7, 4)), T((1, 2, 7, 2)), is_causal=True),
            Sample(T((7, 4)), T((5, 4)), T((5, 3)), is_causal=True),
            Sample(T((2, 5, 4)), T((1, 7, 4)), T((2, 7, 2)), Mask(_MASK_5X7)),
            Sample(T((2, 5, 4)), T((2, 7, 4)), T((1, 7, 3)), T((5, 1)), scale=0.5),
            Sample(T((2, 5, 4)), T((2, 7, 4)), T((2, 7, 3)), T((2, 1, 7))),
            Sample(T((1, 4, 5, 4)), T((1, 2, 7, 4)), T((1, 2, 7, 3)), enable_gqa=True),
        ],
    ),
]
