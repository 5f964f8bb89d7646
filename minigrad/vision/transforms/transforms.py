"""The classic image transforms (``torchvision.transforms``), composable with :class:`Compose`.

The random ones draw from minigrad's global generator exactly as torchvision draws from
PyTorch's (``torch.rand(1) < p``, ``torch.randint``), so a seeded run repeats, and picks the
same crops and flips as torchvision under the same seed.
"""

from __future__ import annotations

import math
import numbers

from ..._warnings import warn_user
from ...creation import empty, multinomial, rand, randint, randperm, tensor
from ...nn.modules.module import Module
from ...ops.unary import exp, log
from . import functional as F
from .functional import InterpolationMode

__all__ = [
    "CenterCrop",
    "ColorJitter",
    "Compose",
    "ConvertImageDtype",
    "Grayscale",
    "InterpolationMode",
    "Lambda",
    "Normalize",
    "PILToTensor",
    "Pad",
    "RandomApply",
    "RandomChoice",
    "RandomCrop",
    "RandomGrayscale",
    "RandomHorizontalFlip",
    "RandomOrder",
    "RandomResizedCrop",
    "RandomVerticalFlip",
    "Resize",
    "ToPILImage",
    "ToTensor",
]


class Compose:
    """Apply ``transforms`` in order: ``Compose([ToTensor(), Normalize(mean, std)])``."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({lines}\n)"


class ToTensor:
    """PIL image or ``H×W×C`` ndarray → ``C×H×W`` tensor, bytes scaled to [0, 1]."""

    def __call__(self, pic):
        return F.to_tensor(pic)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class PILToTensor:
    """PIL image → ``C×H×W`` tensor of its own dtype, unscaled."""

    def __call__(self, pic):
        return F.pil_to_tensor(pic)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ToPILImage:
    """Tensor or ndarray → PIL image (see :func:`functional.to_pil_image`)."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return F.to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}()"
            if self.mode is None
            else f"{type(self).__name__}(mode={self.mode})"
        )


class Lambda:
    """Apply a user function as a transform."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {repr(type(lambd).__name__)}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Normalize(Module):
    """``(x - mean) / std`` per channel of a float image tensor."""

    def __init__(self, mean, std, inplace: bool = False):
        super().__init__()
        self.mean, self.std, self.inplace = mean, std, inplace

    def forward(self, tensor):
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Resize(Module):
    """Resize to ``size``: an int matches the shorter side (keeping the aspect ratio), a pair
    is (h, w) (see :func:`functional.resize`)."""

    def __init__(
        self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True
    ):
        super().__init__()
        if not isinstance(size, (int, list, tuple)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, (list, tuple)) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size, self.max_size, self.antialias = size, max_size, antialias
        self.interpolation = F._as_interpolation(interpolation)

    def forward(self, img):
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation.value}, "
            f"max_size={self.max_size}, antialias={self.antialias})"
        )


class CenterCrop(Module):
    """The central ``size`` window."""

    def __init__(self, size):
        super().__init__()
        self.size = F._pair(size, "CenterCrop")

    def forward(self, img):
        return F.center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class Pad(Module):
    """Pad the borders (see :func:`functional.pad`)."""

    def __init__(self, padding, fill=0, padding_mode: str = "constant"):
        super().__init__()
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def forward(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
            f"padding_mode={self.padding_mode})"
        )


class RandomCrop(Module):
    """A random ``size`` window, after optional ``padding``; ``pad_if_needed`` pads an image
    smaller than ``size``."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        super().__init__()
        self.size = F._pair(size, "RandomCrop")
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def get_params(img, output_size) -> tuple[int, int, int, int]:
        """(top, left, height, width) of a random window of ``output_size``."""
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(
                f"Required crop size {(th, tw)} is larger than input image size {(h, w)}"
            )
        if w == tw and h == th:
            return 0, 0, h, w
        i = randint(0, h - th + 1, size=(1,)).item()
        j = randint(0, w - tw + 1, size=(1,)).item()
        return i, j, th, tw

    def forward(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        return F.crop(img, *self.get_params(img, self.size))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip(Module):
    """Mirror left to right with probability ``p``."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = p

    def forward(self, img):
        return F.hflip(img) if rand(1) < self.p else img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top to bottom with probability ``p``."""

    def forward(self, img):
        return F.vflip(img) if rand(1) < self.p else img


class RandomResizedCrop(Module):
    """A random window of random area (``scale`` of the image) and aspect ratio (``ratio``),
    resized to ``size`` (Inception-style augmentation)."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):  # fmt: skip
        super().__init__()
        self.size = F._pair(size, "RandomResizedCrop")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warn_user("Scale and ratio should be of kind (min, max)")
        self.scale, self.ratio, self.antialias = scale, ratio, antialias
        self.interpolation = F._as_interpolation(interpolation)

    @staticmethod
    def get_params(img, scale, ratio) -> tuple[int, int, int, int]:
        """(top, left, height, width): ten tries at a window of random area and aspect ratio
        inside the image, then the central crop of the nearest allowed ratio."""
        _, height, width = F.get_dimensions(img)
        return RandomResizedCrop._window(height, width, scale, ratio)

    @staticmethod
    def _window(height: int, width: int, scale, ratio) -> tuple[int, int, int, int]:
        """:meth:`get_params` for an image of ``height×width`` (v2 reads the size from the
        sample)."""
        area = height * width
        log_ratio = log(tensor(ratio))
        for _ in range(10):
            target_area = area * empty(1).uniform_(scale[0], scale[1]).item()
            aspect_ratio = exp(empty(1).uniform_(log_ratio[0].item(), log_ratio[1].item())).item()
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                i = randint(0, height - h + 1, size=(1,)).item()
                j = randint(0, width - w + 1, size=(1,)).item()
                return i, j, h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img):
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        window = F.crop(img, i, j, h, w)
        return F.resize(window, list(self.size), self.interpolation, antialias=self.antialias)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(size={self.size}, scale={tuple(round(s, 4) for s in self.scale)}, "
            f"ratio={tuple(round(r, 4) for r in self.ratio)}, interpolation={self.interpolation.value}, "
            f"antialias={self.antialias})"
        )


class Grayscale(Module):
    """Convert to grey (1 or 3 output channels)."""

    def __init__(self, num_output_channels: int = 1):
        super().__init__()
        self.num_output_channels = num_output_channels

    def forward(self, img):
        return F.rgb_to_grayscale(img, self.num_output_channels)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class RandomGrayscale(Module):
    """Convert to grey with probability ``p``, keeping the number of channels."""

    def __init__(self, p: float = 0.1):
        super().__init__()
        self.p = p

    def forward(self, img):
        channels = F.get_image_num_channels(img)
        return F.rgb_to_grayscale(img, channels) if rand(1) < self.p else img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class ConvertImageDtype(Module):
    """Convert an image tensor's dtype, rescaling its values."""

    def __init__(self, dtype):
        super().__init__()
        self.dtype = dtype

    def forward(self, image):
        return F.convert_image_dtype(image, self.dtype)


class ColorJitter(Module):
    """Random brightness, contrast, saturation and hue changes in a random order: a number
    ``b`` draws the factor from ``[max(0, 1 - b), 1 + b]`` (hue: the rotation from
    ``[-h, h]``, ``h <= 0.5``), a pair is the range itself."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__()
        self.brightness = self._range(brightness, "brightness")
        self.contrast = self._range(contrast, "contrast")
        self.saturation = self._range(saturation, "saturation")
        self.hue = self._hue_range(hue)

    @staticmethod
    def _range(value, name: str):
        if isinstance(value, numbers.Number):
            if value < 0:
                raise ValueError(f"If {name} is a single number, it must be non negative.")
            value = [1 - value, 1 + value]
            value[0] = max(value[0], 0.0)
        elif not (
            isinstance(value, (tuple, list)) and len(value) == 2 and 0 <= value[0] <= value[1]
        ):
            raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
        return None if value[0] == value[1] == 1 else (float(value[0]), float(value[1]))

    @staticmethod
    def _hue_range(hue):
        """The hue rotation range: ``h`` gives ``[-h, h]``; within [-0.5, 0.5] (None: none)."""
        if hue is None:
            return None
        if isinstance(hue, numbers.Number):
            if hue < 0:
                raise ValueError("If hue is a single number, it must be non negative.")
            hue = [-hue, hue]
        elif not (isinstance(hue, (tuple, list)) and len(hue) == 2):
            raise TypeError("hue should be a single number or a list/tuple with length 2.")
        low, high = float(hue[0]), float(hue[1])
        if not -0.5 <= low <= high <= 0.5:
            raise ValueError(f"hue values should be between (-0.5, 0.5), but got {[low, high]}.")
        return None if low == high == 0 else (low, high)

    def forward(self, img):
        permutation = randperm(4)  # torchvision's draws, in its order
        factors = [
            None if r is None else float(empty(1).uniform_(r[0], r[1]))
            for r in (self.brightness, self.contrast, self.saturation, self.hue)
        ]
        adjust = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue)
        for index in permutation.tolist():
            if factors[index] is not None:
                img = adjust[index](img, factors[index])
        return img

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}, "
            f"saturation={self.saturation}, hue={self.hue})"
        )


class RandomApply(Module):
    """Apply all of ``transforms`` with probability ``p``."""

    def __init__(self, transforms, p: float = 0.5):
        super().__init__()
        self.transforms, self.p = transforms, p

    def forward(self, img):
        if self.p < rand(1):
            return img
        for transform in self.transforms:
            img = transform(img)
        return img


class RandomChoice:
    """Apply one of ``transforms``, picked with probabilities ``p`` (uniform by default)."""

    def __init__(self, transforms, p=None):
        if p is not None and len(p) != len(transforms):
            raise ValueError(
                f"Length of p doesn't match the number of transforms: {len(p)} != {len(transforms)}"
            )
        self.transforms = transforms
        total = sum(p) if p is not None else len(transforms)
        self.p = (
            [w / total for w in p] if p is not None else [1.0 / len(transforms)] * len(transforms)
        )

    def __call__(self, *args):
        index = int(multinomial(tensor(self.p), 1))
        return self.transforms[index](*args)


class RandomOrder:
    """Apply ``transforms`` in a random order."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for index in randperm(len(self.transforms)).tolist():
            img = self.transforms[index](img)
        return img
