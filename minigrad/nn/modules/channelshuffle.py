"""``ChannelShuffle``: interleave the channels of groups (ShuffleNet), as ``torch.nn``'s."""

from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = ["ChannelShuffle"]


class ChannelShuffle(Module):
    """(N, g·k, *) → (N, k·g, *) (``torch.nn.ChannelShuffle``); see :func:`F.channel_shuffle`.

    Example:
        >>> nn.ChannelShuffle(2)(minigrad.randn(1, 4, 3, 3)).shape
        minigrad.Size([1, 4, 3, 3])
    """

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def extra_repr(self) -> str:
        return f"groups={self.groups}"

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)
