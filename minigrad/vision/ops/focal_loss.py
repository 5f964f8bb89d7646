"""torchvision's ``sigmoid_focal_loss`` (RetinaNet, Lin et al. 2017): binary cross-entropy
scaled by ``(1 - p_t) ** gamma`` so easy examples weigh little, and by ``alpha`` per class."""

from __future__ import annotations

import minigrad
from minigrad.nn import functional as F

from ._loss_utils import reduce_loss

__all__ = ["sigmoid_focal_loss"]


def sigmoid_focal_loss(inputs, targets, alpha: float = 0.25, gamma: float = 2, reduction="none"):
    """Focal loss of logits ``inputs`` against 0/1 ``targets`` (same shape); ``alpha`` in
    [0, 1] weighs positives (``1 - alpha`` negatives), ``-1`` turns the weighting off."""
    if not (0 <= alpha <= 1) and alpha != -1:
        raise ValueError(
            f"Invalid alpha value: {alpha}. alpha must be in the range [0,1] or -1 for ignore."
        )
    p = minigrad.sigmoid(inputs)
    ce = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return reduce_loss(loss, reduction)
