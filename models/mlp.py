"""``MLP``: a multilayer perceptron classifier (Linear → activation → ... → Linear)."""

from __future__ import annotations

from collections.abc import Sequence

from minigrad import nn

_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def activation_module(name: str) -> nn.Module:
    """A fresh activation layer by name (``relu``, ``gelu``, ``tanh``, ``sigmoid``)."""
    if name not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(_ACTIVATIONS)}")
    return _ACTIVATIONS[name]()


class MLP(nn.Module):
    """A multilayer perceptron: ``[Linear → activation → Dropout] × len(hidden) → Linear``.

    Inputs with more than two dimensions are flattened after the batch dimension, so 8×8 or
    28×28 images can be fed as they are.

    Args:
        in_features: size of each (flattened) input.
        hidden: widths of the hidden layers.
        out_features: number of outputs (classes).
        activation: ``"relu"``, ``"gelu"``, ``"tanh"`` or ``"sigmoid"``.
        dropout: dropout probability after each hidden activation (0 disables it).

    Shape:
        (N, in_features) or (N, *) with ``in_features`` elements → (N, out_features).

    Example:
        >>> model = MLP(64, hidden=(128, 128), out_features=10)
        >>> model(minigrad.randn(32, 64)).shape
        (32, 10)
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int] = (128, 128),
        out_features: int = 10,
        activation: str = "relu",
        dropout: float = 0.0,
    ):
        super().__init__()
        layers, width = [nn.Flatten()], in_features
        for h in hidden:
            layers += [nn.Linear(width, h), activation_module(activation)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        self.net = nn.Sequential(*layers)
        self.in_features, self.out_features = in_features, out_features

    def forward(self, x):
        return self.net(x)

    @property
    def head(self) -> nn.Linear:
        """The last (output) Linear layer."""
        return self.net[-1]
