"""More activation layers (CELU, SELU, the shrinks, hardsigmoid/hardswish, threshold, PReLU,
RReLU, Softmax2d), thin modules over ``nn.functional``. ``activation.py`` re-exports them, so
their PyTorch paths (``minigrad.nn.modules.activation.PReLU``) hold."""

from __future__ import annotations

from ...creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ._functional_ref import functional_ref
from .module import Module


def _inplace_suffix(inplace: bool) -> str:
    return ", inplace=True" if inplace else ""


class CELU(Module):
    """x where x > 0, else alpha·(exp(x/alpha) - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace_suffix(self.inplace)


class SELU(Module):
    """scale·elu(x, alpha) with the self-normalizing constants (pair with AlphaDropout)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.selu(input, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class _HardActivation(Module):
    """Hardsigmoid and Hardswish take ``inplace`` but, as PyTorch's, do not show it."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace


class Hardsigmoid(_HardActivation):
    """relu6(x + 3) / 6."""

    def forward(self, input):
        return F.hardsigmoid(input, self.inplace)


class Hardswish(_HardActivation):
    """x·relu6(x + 3) / 6."""

    def forward(self, input):
        return F.hardswish(input, self.inplace)


class _Shrink(Module):
    function = None

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return type(self).function(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Hardshrink(_Shrink):
    """x where |x| > lambd, else 0."""

    function = functional_ref(F.hardshrink)


class Softshrink(_Shrink):
    """x ∓ lambd outside [-lambd, lambd], else 0."""

    function = functional_ref(F.softshrink)


class Tanhshrink(Module):
    """x - tanh(x)."""

    def forward(self, input):
        return F.tanhshrink(input)


class Threshold(Module):
    """x where x > threshold, else ``value``.

    Example:
        >>> nn.Threshold(0.1, 20.0)(minigrad.tensor([0.0, 1.0]))
        tensor([20.,  1.])
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + _inplace_suffix(self.inplace)


class PReLU(Module):
    """x where x > 0, else a·x with a learned slope ``weight``: one shared (``num_parameters=1``)
    or one per input channel (dim 1), each starting at ``init``.

    Example:
        >>> act = nn.PReLU(3)
        >>> act(minigrad.randn(2, 3, 4)).shape
        minigrad.Size([2, 3, 4])
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Randomized leaky ReLU: slopes drawn from U[lower, upper) per element in training,
    (lower + upper) / 2 in eval."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + _inplace_suffix(self.inplace)


class Softmax2d(Module):
    """softmax over the channels (dim -3) of (N, C, H, W) or (C, H, W) inputs."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead")
        return F.softmax(input, -3)
