"""The v2 :class:`Transform` base, the containers, and how a sample is read.

A transform takes any nested structure (an image; ``(image, target)``; a dict of image,
boxes, masks and labels), flattens it with minigrad's pytree, draws its random parameters
once from what it finds (``make_params``), applies them to every input it transforms
(``transform``), and rebuilds the structure. Plain non-tensor values pass through; of the
plain tensors only the first is transformed, as an image, and only when the sample holds no
Image, Video or PIL image (torchvision's heuristic).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from ....creation import multinomial, rand, randperm, tensor
from ....nn.modules.module import Module
from ....tensor import Tensor
from ....utils._pytree import tree_flatten, tree_unflatten
from ...tv_tensors import BoundingBoxes, Image, Mask, Video
from .functional import _PIL, _get_kernel, get_dimensions, get_size, is_pure_tensor

_PIL_IMAGE = _PIL.Image if _PIL is not None else ()


def check_type(obj, types_or_checks) -> bool:
    """Whether ``obj`` is one of the types or passes one of the predicates."""
    return any(
        isinstance(obj, kind) if isinstance(kind, (type, tuple)) else kind(obj)
        for kind in types_or_checks
    )


def has_any(flat_inputs, *types_or_checks) -> bool:
    return any(check_type(inpt, types_or_checks) for inpt in flat_inputs)


def has_all(flat_inputs, *types_or_checks) -> bool:
    return all(has_any(flat_inputs, kind) for kind in types_or_checks)


def _sequence_to_str(items) -> str:
    """``'a', 'b', 'c'`` (torchvision's listing in its messages)."""
    quoted = [f"'{item}'" for item in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f", {quoted[-1]}"


def query_chw(flat_inputs) -> tuple[int, int, int]:
    """The one ``(C, H, W)`` of the sample's images and videos."""
    kinds = (is_pure_tensor, Image, _PIL_IMAGE, Video)
    chws = {tuple(get_dimensions(x)) for x in flat_inputs if check_type(x, kinds)}
    return _the_one(chws, "CxHxW", "No image or video was found in the sample")


def query_size(flat_inputs) -> tuple[int, int]:
    """The one ``(H, W)`` shared by the sample's images, videos, masks and box canvases."""
    kinds = (is_pure_tensor, Image, _PIL_IMAGE, Video, Mask, BoundingBoxes)
    sizes = {tuple(get_size(x)) for x in flat_inputs if check_type(x, kinds)}
    # (torchvision's words, "of" for "or" included)
    nothing = "No image, video, mask, bounding box of keypoint was found in the sample"
    return _the_one(sizes, "HxW", nothing)


def _the_one(found: set, dims: str, nothing: str) -> tuple:
    if not found:
        raise TypeError(nothing)
    if len(found) > 1:
        raise ValueError(
            f"Found multiple {dims} dimensions in the sample: {_sequence_to_str(sorted(found))}"
        )
    return found.pop()


def get_bounding_boxes(flat_inputs) -> BoundingBoxes:
    """The sample's (one) BoundingBoxes."""
    for inpt in flat_inputs:
        if isinstance(inpt, BoundingBoxes):
            return inpt
    raise ValueError("No bounding boxes were found in the sample")


class Transform(Module):
    """Base of the v2 transforms: subclasses write ``make_params(flat_inputs)`` (the random
    draws, once per call) and ``transform(inpt, params)`` (one input)."""

    _transformed_types: tuple = (Tensor, _PIL_IMAGE)

    def check_inputs(self, flat_inputs) -> None:
        pass

    def make_params(self, flat_inputs) -> dict:
        return {}

    def transform(self, inpt, params: dict):
        raise NotImplementedError(f"{type(self).__name__}.transform")

    def _call_kernel(self, functional, inpt, *args, **kwargs):
        return _get_kernel(functional, type(inpt), allow_passthrough=True)(inpt, *args, **kwargs)

    def forward(self, *inputs):
        flat_inputs, spec = tree_flatten(inputs if len(inputs) > 1 else inputs[0])
        self.check_inputs(flat_inputs)
        return tree_unflatten(self._apply_flat(flat_inputs), spec)

    def _apply_flat(self, flat_inputs) -> list:
        needs = self._needs_transform_list(flat_inputs)
        params = self.make_params([x for x, n in zip(flat_inputs, needs) if n])
        return [self.transform(x, params) if n else x for x, n in zip(flat_inputs, needs)]

    def _needs_transform_list(self, flat_inputs) -> list[bool]:
        # only the first plain tensor, and only when no image or video is there
        pure_is_image = not has_any(flat_inputs, Image, Video, _PIL_IMAGE)
        needs = []
        for inpt in flat_inputs:
            need = check_type(inpt, self._transformed_types)
            if need and is_pure_tensor(inpt):
                need, pure_is_image = pure_is_image, False
            needs.append(need)
        return needs

    def extra_repr(self) -> str:
        fields = []
        for name, value in self.__dict__.items():
            if name.startswith("_") or name == "training":
                continue
            if isinstance(value, (bool, int, float, str, tuple, list, enum.Enum)):
                fields.append(f"{name}={value}")
        return ", ".join(fields)


class _RandomApplyTransform(Transform):
    """A transform applied with probability ``p`` (one ``rand(1)`` draw first)."""

    def __init__(self, p: float = 0.5) -> None:
        if not (0.0 <= p <= 1.0):
            raise ValueError("`p` should be a floating point value in the interval [0.0, 1.0].")
        super().__init__()
        self.p = p

    def forward(self, *inputs):
        inputs = inputs if len(inputs) > 1 else inputs[0]
        flat_inputs, spec = tree_flatten(inputs)
        self.check_inputs(flat_inputs)
        if rand(1) >= self.p:
            return inputs
        return tree_unflatten(self._apply_flat(flat_inputs), spec)


def _check_transforms(transforms, modules_ok: bool = False) -> None:
    from ....nn.modules.container import ModuleList

    if not isinstance(transforms, (Sequence, ModuleList) if modules_ok else Sequence):
        raise TypeError(
            "Argument transforms should be a sequence of callables"
            + (" or a `nn.ModuleList`" if modules_ok else "")
        )
    if not transforms:
        raise ValueError("Pass at least one transform")


def _chain(transforms, inputs):
    """Apply ``transforms`` in turn, unpacking between them when called with several inputs."""
    unpack = len(inputs) > 1
    for transform in transforms:
        outputs = transform(*inputs)
        inputs = outputs if unpack else (outputs,)
    return outputs


class _Container(Transform):
    def extra_repr(self) -> str:
        return "\n".join(f"    {t}" for t in self.transforms)


class Compose(_Container):
    """Apply ``transforms`` in order; each gets what the previous returned."""

    def __init__(self, transforms) -> None:
        super().__init__()
        _check_transforms(transforms)
        self.transforms = transforms

    def forward(self, *inputs):
        return _chain(self.transforms, inputs)


class RandomApply(_Container):
    """Apply all of ``transforms`` with probability ``p``."""

    def __init__(self, transforms, p: float = 0.5) -> None:
        super().__init__()
        _check_transforms(transforms, modules_ok=True)
        if not (0.0 <= p <= 1.0):
            raise ValueError("`p` should be a floating point value in the interval [0.0, 1.0].")
        self.transforms, self.p = transforms, p

    def forward(self, *inputs):
        if rand(1) >= self.p:
            return inputs if len(inputs) > 1 else inputs[0]
        return _chain(self.transforms, inputs)


class RandomChoice(_Container):
    """Apply one of ``transforms``, picked with probabilities ``p`` (uniform by default)."""

    def __init__(self, transforms, p=None) -> None:
        _check_transforms(transforms)
        if p is None:
            p = [1] * len(transforms)
        elif len(p) != len(transforms):
            raise ValueError(
                f"Length of p doesn't match the number of transforms: {len(p)} != {len(transforms)}"
            )
        super().__init__()
        self.transforms = transforms
        self.p = [w / sum(p) for w in p]

    def forward(self, *inputs):
        index = int(multinomial(tensor(self.p), 1))
        return self.transforms[index](*inputs)


class RandomOrder(_Container):
    """Apply ``transforms`` in a random order."""

    def __init__(self, transforms) -> None:
        _check_transforms(transforms)
        super().__init__()
        self.transforms = transforms

    def forward(self, *inputs):
        order = [self.transforms[i] for i in randperm(len(self.transforms)).tolist()]
        return _chain(order, inputs)


__all__ = ["Compose", "RandomApply", "RandomChoice", "RandomOrder", "Transform"]
