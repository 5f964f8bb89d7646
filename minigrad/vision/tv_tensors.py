"""``torchvision.tv_tensors``: tensor subclasses that tell the v2 transforms what a tensor is.

An :class:`Image` (``[..., C, H, W]``), :class:`Video` (``[..., T, C, H, W]``), :class:`Mask`
(``[..., H, W]``) or :class:`BoundingBoxes` (``[N, 4]`` with a ``format`` and the
``canvas_size`` (H, W) of the image they lie on) is a minigrad Tensor, so every op works on it.
As in torchvision, an op on a TVTensor returns a plain Tensor (the op cannot know whether the
result is still an image, or where its boxes lie) except ``clone``, ``to``, ``detach`` and
``requires_grad_``, which keep the class and its metadata; the v2 transforms and functionals
rewrap what they return (:func:`wrap`). ``set_return_type("TVTensor")`` keeps the class through
every op, as torchvision's does.
"""

from __future__ import annotations

import enum

from .._torch_function import DisableTorchFunctionSubclass
from ..creation import as_tensor
from ..tensor import Tensor
from ..utils._pytree import tree_leaves
from ._missing import missing_names
from .ops.boxes import _ROTATED

__all__ = [
    "BoundingBoxFormat",
    "BoundingBoxes",
    "Image",
    "Mask",
    "TVTensor",
    "Video",
    "is_rotated_bounding_format",
    "set_return_type",
    "wrap",
]

_RETURN_SUBCLASS = [False]  # set_return_type("TVTensor") sets it


class _ReturnType:
    """What :func:`set_return_type` returns: as a context manager, it restores the old type."""

    def __init__(self, old: bool):
        self.old = old

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _RETURN_SUBCLASS[0] = self.old


def set_return_type(return_type: str):
    """Whether ops on TVTensors return plain tensors (``"Tensor"``, the default) or keep their
    class (``"TVTensor"``); globally, or within a ``with`` block."""
    old = _RETURN_SUBCLASS[0]
    try:
        _RETURN_SUBCLASS[0] = {"tensor": False, "tvtensor": True}[return_type.lower()]
    except KeyError:
        raise ValueError(f"return_type must be 'TVTensor' or 'Tensor', got {return_type}") from None
    return _ReturnType(old)


_KEEP_CLASS = ("clone", "to", "detach", "requires_grad_", "pin_memory")


class TVTensor(Tensor):
    """Base class of the tensor kinds the v2 transforms dispatch on."""

    def __init__(self, *args, **kwargs):
        pass  # ``__new__`` built the tensor; Tensor.__init__ would rebuild it from ``data``

    @staticmethod
    def _to_tensor(data, dtype=None, device=None, requires_grad=None) -> Tensor:
        if requires_grad is None:
            requires_grad = data.requires_grad if isinstance(data, Tensor) else False
        out = as_tensor(data, dtype=dtype, device=device)
        if isinstance(out, TVTensor):
            out = out.as_subclass(Tensor)
        return out.requires_grad_(requires_grad) if requires_grad else out

    @classmethod
    def _wrap_output(cls, output, args=(), kwargs=None):
        if isinstance(output, Tensor) and not isinstance(output, cls):
            return output.as_subclass(cls)
        if isinstance(output, (tuple, list)):
            return type(output)(cls._wrap_output(part, args, kwargs) for part in output)
        return output

    @classmethod
    def wrap(cls, tensor: Tensor, like: TVTensor, **kwargs) -> TVTensor:
        """``tensor`` as an instance of this class (metadata from ``like``, or ``kwargs``)."""
        return tensor.as_subclass(cls)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if not all(issubclass(cls, t) for t in types):
            return NotImplemented
        with DisableTorchFunctionSubclass():
            output = func(*args, **(kwargs or {}))
        keeps = getattr(func, "__name__", None) in _KEEP_CLASS  # Tensor.clone or clone()
        if _RETURN_SUBCLASS[0] or (keeps and args and isinstance(args[0], cls)):
            return cls._wrap_output(output, args, kwargs)
        if isinstance(output, cls):  # in-place ops return their (TVTensor) input
            return output.as_subclass(Tensor)
        return output

    def __deepcopy__(self, memo):
        return self.detach().clone().requires_grad_(self.requires_grad)

    def _make_repr(self, **extra) -> str:
        with DisableTorchFunctionSubclass():
            text = Tensor.__repr__(self.as_subclass(Tensor))
        fields = "".join(f", {key}={value}" for key, value in extra.items())
        return f"{type(self).__name__}{text[len('tensor') : -1]}{fields})"

    def __repr__(self) -> str:
        return self._make_repr()


class Image(TVTensor):
    """An image or a batch of images, ``[..., C, H, W]`` (a ``H×W`` tensor gets ``C = 1``; a
    PIL image becomes its unscaled ``C×H×W`` tensor)."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        from .transforms import functional as F  # a layer above: imported when used

        if F._is_pil_image(data):
            data = F.pil_to_tensor(data)
        tensor = cls._to_tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        if tensor.ndim < 2:
            raise ValueError(f"Tensor must be 2D or higher, got {tensor.ndim}D tensor.")
        if tensor.ndim == 2:
            tensor = tensor.unsqueeze(0)
        return tensor.as_subclass(cls)


class Video(TVTensor):
    """A video or a batch of videos, ``[..., T, C, H, W]``."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        tensor = cls._to_tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        if tensor.ndim < 4:
            raise ValueError(f"Tensor must be 4D or higher, got {tensor.ndim}D tensor.")
        return tensor.as_subclass(cls)


class Mask(TVTensor):
    """A segmentation mask, ``[..., H, W]`` (one per object, or one of class indices)."""

    def __new__(cls, data, *, dtype=None, device=None, requires_grad=None):
        from .transforms import functional as F

        if F._is_pil_image(data):
            data = F.pil_to_tensor(data)[0]
        tensor = cls._to_tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        return tensor.as_subclass(cls)


class BoundingBoxFormat(enum.Enum):
    """How a box's four numbers read: corners (``XYXY``), corner and size (``XYWH``), or
    centre and size (``CXCYWH``). Rotated formats are not implemented."""

    XYXY = "XYXY"
    XYWH = "XYWH"
    CXCYWH = "CXCYWH"


def is_rotated_bounding_format(format) -> bool:
    """Whether ``format`` (a name or a :class:`BoundingBoxFormat`) is a rotated-box format."""
    if isinstance(format, BoundingBoxFormat):
        return False  # minigrad's formats are the axis-aligned ones
    if isinstance(format, str):
        return format.lower() in _ROTATED
    raise ValueError(f"format should be str or BoundingBoxFormat, got {type(format)}")


def _parse_format(format) -> BoundingBoxFormat:
    """A :class:`BoundingBoxFormat` from itself or its name (any case)."""
    if isinstance(format, BoundingBoxFormat):
        return format
    if not isinstance(format, str):
        raise ValueError(f"format should be str or BoundingBoxFormat, got {type(format)}")
    if is_rotated_bounding_format(format):
        raise NotImplementedError(
            f"BoundingBoxes(format={format!r}): rotated boxes are not implemented in "
            "minigrad.vision; use XYXY, XYWH or CXCYWH"
        )
    try:
        return BoundingBoxFormat[format.upper()]
    except KeyError:  # torchvision's KeyError, naming the valid formats too
        raise KeyError(
            f"{format.upper()} (a bounding box format is one of XYXY, XYWH, CXCYWH)"
        ) from None


class BoundingBoxes(TVTensor):
    """Boxes ``[N, 4]`` in ``format`` on an image of ``canvas_size`` (H, W)::

    boxes = BoundingBoxes([[10, 20, 50, 60]], format="XYXY", canvas_size=(100, 120))

    ``clamping_mode`` (``"soft"``, ``"hard"`` or ``None``): whether transforms clamp the boxes
    to the canvas (the two modes are the same for unrotated boxes).
    """

    format: BoundingBoxFormat
    canvas_size: tuple[int, int]
    clamping_mode: str | None

    @classmethod
    def _wrap(cls, tensor, *, format, canvas_size, clamping_mode="soft", check_dims=True):
        if check_dims:
            if tensor.ndim == 1:
                tensor = tensor.unsqueeze(0)
            elif tensor.ndim != 2:
                raise ValueError(f"Expected a 1D or 2D tensor, got {tensor.ndim}D")
        if clamping_mode is not None and clamping_mode not in ("hard", "soft"):
            raise ValueError(f"clamping_mode must be None, hard or soft, got {clamping_mode}.")
        boxes = tensor.as_subclass(cls)
        boxes.format = _parse_format(format)
        boxes.canvas_size = tuple(int(s) for s in canvas_size)
        boxes.clamping_mode = clamping_mode
        return boxes

    @classmethod
    def wrap(cls, tensor, like, **kwargs):
        return cls._wrap(
            tensor,
            format=kwargs.get("format", like.format),
            canvas_size=kwargs.get("canvas_size", like.canvas_size),
            clamping_mode=kwargs.get("clamping_mode", like.clamping_mode),
        )

    def __new__(cls, data, *, format, canvas_size, clamping_mode="soft", dtype=None, device=None,
                requires_grad=None):  # fmt: skip
        tensor = cls._to_tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        return cls._wrap(
            tensor, format=format, canvas_size=canvas_size, clamping_mode=clamping_mode
        )

    @classmethod
    def _wrap_output(cls, output, args=(), kwargs=None):
        # the metadata of the first BoundingBoxes among the arguments (as torchvision)
        leaves = tree_leaves((tuple(args), tuple((kwargs or {}).values())))
        like = next(x for x in leaves if isinstance(x, BoundingBoxes))
        meta = dict(format=like.format, canvas_size=like.canvas_size)
        meta.update(clamping_mode=like.clamping_mode, check_dims=False)
        if isinstance(output, Tensor) and not isinstance(output, BoundingBoxes):
            return BoundingBoxes._wrap(output, **meta)
        if isinstance(output, (tuple, list)):
            return type(output)(BoundingBoxes._wrap(part, **meta) for part in output)
        return output

    def __repr__(self) -> str:
        return self._make_repr(
            format=self.format, canvas_size=self.canvas_size, clamping_mode=self.clamping_mode
        )


def wrap(wrappee: Tensor, *, like: TVTensor, **kwargs) -> TVTensor:
    """``wrappee`` as the same TVTensor class as ``like``, with its metadata (``kwargs``
    override fields: ``wrap(out, like=boxes, canvas_size=(h, w))``)."""
    wrap_method = getattr(type(like), "wrap", None)
    if wrap_method is not None:
        return wrap_method(wrappee, like, **kwargs)
    return wrappee.as_subclass(type(like))


__getattr__ = missing_names(__name__, "KeyPoints")
