"""``MNIST`` and ``FashionMNIST``: downloaded once into the cache, verified, read from IDX files."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from ..creation import tensor
from ..utils.data import TensorDataset
from . import _cache

__all__ = ["MNIST", "FashionMNIST", "read_idx"]

# IDX type codes (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT"); data is big-endian.
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed or raw.

    The header is two zero bytes, a type code (0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int,
    0x0D float, 0x0E double), the number of dimensions, then each dimension as a big-endian
    int32; the data follows in C order.

    Args:
        path: the file; gzip is recognised by its magic bytes, whatever the name.

    Returns:
        The array, in native byte order.

    Raises:
        ValueError: the file is not IDX (bad magic number), or its size does not match its
            header (truncated or trailing bytes), or the gzip stream is corrupted.

    Example:
        >>> images = read_idx("train-images-idx3-ubyte.gz")   # (60000, 28, 28) uint8
    """
    raw = Path(path).read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise ValueError(f"{path}: corrupted gzip stream ({e})") from e
    return _parse_idx(raw, path)


def _parse_idx(raw: bytes, path) -> np.ndarray:
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(
            f"{path} is not an IDX file: bad magic number {raw[:4].hex() or '(empty)'} "
            "(expected 00 00, a type code in 08/09/0b/0c/0d/0e, and the number of dimensions)"
        )
    dtype, ndim = _IDX_TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} bytes, {ndim} dimensions)")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(
            f"{path}: IDX size mismatch: the header says shape {shape} of {dtype.name} "
            f"({expected} bytes in all), the file has {len(raw)} bytes"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


class MNIST(TensorDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28×28 grey.

    The four IDX files are downloaded (with ``download=True``) from the first mirror that
    answers into ``root/<ClassName>/`` — by default ``$MINIGRAD_HOME`` or
    ``~/.cache/minigrad`` — and checked against their SHA-256 digests on every load.
    Unpacked files (without ``.gz``) put there by hand are read too, unchecked.

    Args:
        root: the cache folder (see :func:`minigrad.datasets.data_home`).
        train: the training set (True) or the test set (False).
        download: fetch missing files from the mirrors (needs a network connection).
        normalize: scale pixels to [0, 1]; otherwise keep 0..255 (as float32).
        flatten: images as (N, 784) vectors; otherwise (N, 1, 28, 28).
        device: where the tensors live.

    Attributes:
        data: float32 images; targets: int64 labels; classes: the class names.

    Raises:
        FileNotFoundError: the files are not cached and ``download`` is False.
        RuntimeError: the download failed (offline) or a file's SHA-256 digest is wrong.
        ValueError: a file is not a valid IDX file.

    Example:
        >>> train = MNIST(train=True, download=True)
        >>> loader = DataLoader(train, batch_size=128, shuffle=True)
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    }
    classes = [str(d) for d in range(10)]

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = False,
        normalize: bool = True,
        flatten: bool = False,
        device=None,
    ):
        self.root, self.train = _cache.data_home(root), bool(train)
        prefix = "train" if train else "t10k"
        images = self._read(f"{prefix}-images-idx3-ubyte", download)
        labels = self._read(f"{prefix}-labels-idx1-ubyte", download)
        _check_pair(images, labels, self.folder)
        x = images.astype(np.float32)
        if normalize:
            x /= 255.0
        x = x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, *x.shape[1:])
        super().__init__(tensor(x, device=device), tensor(labels.astype(np.int64), device=device))

    @property
    def folder(self) -> Path:
        """Where this dataset's files are cached: ``root/<ClassName>``."""
        return self.root / type(self).__name__

    @property
    def data(self):
        return self.tensors[0]

    @property
    def targets(self):
        return self.tensors[1]

    def _read(self, stem: str, download: bool) -> np.ndarray:
        unpacked = self.folder / stem
        if unpacked.exists() and not (self.folder / f"{stem}.gz").exists():
            return read_idx(unpacked)
        name = f"{stem}.gz"
        path = _cache.fetch(name, self.resources[name], self.folder, self.mirrors, download)
        return read_idx(path)

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"{type(self).__name__}({split}, {len(self)} images, root={str(self.root)!r})"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28×28 grey images of 10 kinds of clothing, MNIST's layout.

    Same arguments and cache logic as :class:`MNIST` (files in ``root/FashionMNIST/``).
    """

    mirrors = [
        "https://fashion-mnist.s3.eu-central-1.amazonaws.com/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ]
    resources = {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    }
    classes = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]


def _check_pair(images: np.ndarray, labels: np.ndarray, folder: Path) -> None:
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(
            f"{folder}: images of shape {images.shape} and labels of shape {labels.shape} do "
            "not match (expected (N, H, W) images and (N,) labels)"
        )
