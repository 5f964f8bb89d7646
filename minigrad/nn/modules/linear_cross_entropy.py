"""``LinearCrossEntropyLoss``, as ``torch.nn.LinearCrossEntropyLoss``: a linear layer to class
logits and the cross-entropy loss in one module (chunked over the batch with ``options``)."""

from __future__ import annotations

import math

from .. import functional as F
from .linear import Linear
from .linear_cross_entropy_options import LinearCrossEntropyOptions
from .module import Module

__all__ = ["LinearCrossEntropyLoss", "LinearCrossEntropyOptions"]


class LinearCrossEntropyLoss(Module):
    """``cross_entropy(linear(input), target)`` with a learnable (C·Πout_features, in) weight.

    The weight is stored flat in ``self.linear`` (a :class:`Linear`, so state dicts match
    PyTorch's ``linear.weight``/``linear.bias``) and viewed as (C, *out_features, in_features) in
    :meth:`forward`, for K-dimensional targets (N, *out_features).

    Example:
        >>> loss_fn = nn.LinearCrossEntropyLoss(512, 32000, options=nn.LinearCrossEntropyOptions())
        >>> loss = loss_fn(hidden.reshape(-1, 512), tokens.reshape(-1))
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        out_features: tuple = (),
        bias: bool = False,
        device=None,
        dtype=None,
        reduction: str = "mean",
        weight=None,
        ignore_index: int | None = None,
        label_smoothing: float = 0.0,
        options: LinearCrossEntropyOptions | None = None,
    ) -> None:
        super().__init__()
        self.num_classes, self.out_features = num_classes, tuple(out_features)
        size = num_classes * math.prod(self.out_features)
        self.linear = Linear(in_features, size, bias=bias, device=device, dtype=dtype)
        self.register_buffer("weight", weight)
        self.reduction, self.ignore_index = reduction, ignore_index
        self.label_smoothing, self.options = label_smoothing, options

    def forward(self, input, target):
        shape = (self.num_classes, *self.out_features)
        weight = self.linear.weight.reshape(*shape, self.linear.in_features)
        bias = self.linear.bias
        return F.linear_cross_entropy(
            input,
            weight,
            target,
            linear_bias=None if bias is None else bias.reshape(*shape),
            weight=self.weight,
            reduction=self.reduction,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
            options=self.options,
        )

    def extra_repr(self) -> str:
        return (
            f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
            f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
            f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
            f"label_smoothing={self.label_smoothing}, options={self.options}"
        )
