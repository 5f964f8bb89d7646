"""``Identity`` and ``Linear`` (fully connected) layers."""

from __future__ import annotations

from ...creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are ignored, as PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):  # noqa: A002
        return input


class Linear(Module):
    """y = x·Wᵀ + b.

    Weight (out_features, in_features) and bias (out_features,) start as PyTorch's:
    ``kaiming_uniform_(a=√5)``, i.e. U(-1/√in, 1/√in), for both.

    Shape:
        input (*, in_features) → output (*, out_features).

    Example:
        >>> fc = nn.Linear(4, 3)
        >>> fc(minigrad.randn(2, 4)).shape
        (2, 3)
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None
    ):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(empty(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: weight ~ kaiming_uniform(a=√5), bias ~ U(±1/√fan_in)."""
        init.layer_default_(self.weight, self.bias)

    def forward(self, input):  # noqa: A002
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            raise RuntimeError(
                f"{self._get_name()}({self.extra_repr()}) expected input with last dimension "
                f"{self.in_features}, got shape {list(input.shape)}"
            )
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class NonDynamicallyQuantizableLinear(Linear):
    """The Linear class of ``MultiheadAttention.out_proj``, named as in PyTorch (a plain Linear)."""
