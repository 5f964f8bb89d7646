"""``Identity``, ``Linear`` (fully connected) and ``Bilinear`` layers."""

from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...creation import empty
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..functional.basic import linear_shape_mismatch
from ..parameter import Parameter, UninitializedParameter
from .lazy import LazyModuleMixin
from .module import Module


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are ignored, as PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
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
        minigrad.Size([2, 3])
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

    def forward(self, input):
        shape = input._data.shape if isinstance(input, Tensor) else None  # (a plain tuple)
        if shape is not None and (not shape or shape[-1] != self.in_features):
            raise RuntimeError(
                linear_shape_mismatch(input.shape, self.out_features, self.in_features)
                + f": {self._get_name()}({self.extra_repr()}) expects input with last dimension "
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


class Bilinear(Module):
    """y = x1ᵀ·A·x2 + b (``torch.nn.Bilinear``): weight (out, in1, in2), bias (out,), both
    uniform in ±1/√in1 as PyTorch.

    Example:
        >>> nn.Bilinear(3, 5, 2)(minigrad.randn(4, 3), minigrad.randn(4, 5)).shape
        minigrad.Size([4, 2])
    """

    def __init__(
        self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None
    ):
        super().__init__()
        factory = dict(device=device, dtype=dtype)
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        self.weight = Parameter(empty((out_features, in1_features, in2_features), **factory))
        if bias:
            self.bias = Parameter(empty(out_features, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / self.in1_features**0.5
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


# -- branch optimutils: LazyLinear ----------------------------------------------------------------
class LazyLinear(LazyModuleMixin, Linear):
    """A :class:`Linear` whose ``in_features`` is inferred from the first input
    (``input.shape[-1]``); it then becomes a ``Linear``.

    Example:
        >>> layer = nn.LazyLinear(10)
        >>> layer(minigrad.randn(2, 7)).shape, type(layer).__name__
        (minigrad.Size([2, 10]), 'Linear')
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__(0, 0, False, device=device, dtype=dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()
        if self.in_features == 0:  # parameters loaded from a state dict
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(
                    f"The in_features inferred from input: {input.shape[-1]} is not equal to "
                    f"in_features from self.weight: {self.weight.shape[-1]}"
                )
            self.in_features = input.shape[-1]
