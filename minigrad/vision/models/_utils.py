"""Helpers shared by torchvision's model builders: ``IntermediateLayerGetter`` (a model's
children run in order, returning the outputs of the named ones — how detection and
segmentation models take a classifier's feature maps)."""

from __future__ import annotations

from collections import OrderedDict

from minigrad import nn

__all__ = ["IntermediateLayerGetter"]


class IntermediateLayerGetter(nn.ModuleDict):
    """The direct children of ``model`` up to the last one named in ``return_layers``, run in
    registration order; ``forward`` returns an ``OrderedDict`` mapping ``return_layers[name]``
    to each named child's output. Children are kept under their own names, so state dict keys
    stay the model's (``layer1.0.conv1.weight``)."""

    def __init__(self, model: nn.Module, return_layers: dict[str, str]) -> None:
        if not set(return_layers).issubset(name for name, _ in model.named_children()):
            raise ValueError("return_layers are not present in model")
        remaining = {str(k): str(v) for k, v in return_layers.items()}
        layers = OrderedDict()
        for name, module in model.named_children():
            layers[name] = module
            remaining.pop(name, None)
            if not remaining:
                break
        super().__init__(layers)
        self.return_layers = return_layers

    def forward(self, x) -> OrderedDict:
        out = OrderedDict()
        for name, module in self.items():
            x = module(x)
            if name in self.return_layers:
                out[self.return_layers[name]] = x
        return out
