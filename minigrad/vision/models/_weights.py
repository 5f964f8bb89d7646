"""The ``weights=`` / ``pretrained=`` arguments of torchvision's model builders, without the
download: minigrad.vision ships no pretrained weights and fetches nothing, so every request for
them raises and says how to load a state dict saved by PyTorch instead.

The ``*_Weights`` enums exist so that code naming them (``ResNet18_Weights.DEFAULT``) imports
and reaches the clear error rather than an ``AttributeError``.
"""

from __future__ import annotations

import enum


def weights_enum(name: str, versions: tuple[str, ...], default: str = "") -> type[enum.Enum]:
    """An enum named as torchvision's (``ResNet50_Weights``) with its members
    (``IMAGENET1K_V1``, ...); ``DEFAULT`` aliases ``default``, else the last, as torchvision's."""
    members = [(version, version) for version in versions]
    members.append(("DEFAULT", default or versions[-1]))
    return enum.Enum(name, members, module=__name__)


def check_no_weights(builder: str, weights, kwargs: dict) -> None:
    """Raise unless the caller asked for a randomly initialised model. Pops the legacy
    ``pretrained`` keyword from ``kwargs`` (``pretrained=False`` is the same as
    ``weights=None``, as in torchvision)."""
    pretrained = kwargs.pop("pretrained", False)
    if weights is None and not pretrained:
        return
    if weights is None:
        asked = f"pretrained={pretrained!r}"
    else:  # an enum member reads as ResNet18_Weights.IMAGENET1K_V1, a string with its quotes
        asked = f"weights={weights if isinstance(weights, enum.Enum) else repr(weights)}"
    raise RuntimeError(
        f"{builder}({asked}): minigrad.vision has no pretrained weights and downloads "
        f"nothing. Build the model with weights=None and load a state dict saved by PyTorch: "
        f"model = {builder}(); model.load_state_dict(minigrad.load('{builder}.pth'))"
    )


def check_no_backbone_weights(builder: str, weights_backbone, kwargs: dict) -> None:
    """Raise unless the backbone is asked for without pretrained weights. torchvision's
    segmentation and detection builders default ``weights_backbone`` to ImageNet weights, so it
    must be passed as None here (a silently random backbone would be a wrong answer). Pops the
    legacy ``pretrained_backbone`` keyword."""
    pretrained_backbone = kwargs.pop("pretrained_backbone", False)
    if weights_backbone is None and not pretrained_backbone:
        return
    asked = (
        f"weights_backbone={weights_backbone}"
        if weights_backbone is not None
        else "pretrained_backbone=True"
    )
    raise RuntimeError(
        f"{builder}({asked}): minigrad.vision has no pretrained weights and downloads nothing, "
        f"and torchvision's default backbone weights are ImageNet's. Build it with "
        f"{builder}(weights=None, weights_backbone=None, num_classes=...) and load a state dict "
        "saved by PyTorch if you have one."
    )
