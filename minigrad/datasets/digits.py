"""``Digits``: the 1,797 8×8 handwritten digits (UCI optdigits), bundled with minigrad."""

from __future__ import annotations

import functools
import gzip
from importlib import resources

import numpy as np

from ..creation import tensor
from ..utils.data import TensorDataset

__all__ = ["Digits", "load_digits"]

_N_SAMPLES = 1797
_MAX_PIXEL = 16.0


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 digits as NumPy arrays, in the file's order.

    Returns:
        ``(images, labels)``: images of shape (1797, 8, 8), uint8 pixel counts in 0..16, and
        labels of shape (1797,), int64 in 0..9.

    Example:
        >>> images, labels = load_digits()
        >>> images.shape, labels[:3]
        ((1797, 8, 8), array([0, 1, 2]))
    """
    images, labels = _read_bundled()
    return images.copy(), labels.copy()


@functools.lru_cache(maxsize=1)
def _read_bundled() -> tuple[np.ndarray, np.ndarray]:
    raw = resources.files(__package__).joinpath("data").joinpath("digits.csv.gz").read_bytes()
    text = gzip.decompress(raw).decode("ascii")
    table = np.array([row.split(",") for row in text.split()], dtype=np.int64)
    if table.shape != (_N_SAMPLES, 65):
        raise RuntimeError(
            f"the bundled digits.csv.gz has shape {table.shape}, expected (1797, 65)"
        )
    return table[:, :64].reshape(-1, 8, 8).astype(np.uint8), table[:, 64].copy()


def split_indices(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    """A stratified, seeded train/test split: each class contributes ``test_fraction`` of its
    samples (rounded) to the test set.

    Returns:
        ``(train_idx, test_idx)``, each sorted, disjoint, covering every index.
    """
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        test.append(rng.permutation(members)[: int(round(test_fraction * len(members)))])
    test_idx = np.sort(np.concatenate(test))
    train_idx = np.setdiff1d(np.arange(len(labels)), test_idx)
    return train_idx, test_idx


class Digits(TensorDataset):
    """The UCI optdigits test set as scikit-learn ships it: 1,797 8×8 images, 10 classes.

    The images are 4×4 block counts (0..16) of 32×32 bitmaps. The file is bundled with
    minigrad (57 KB, CC BY 4.0, E. Alpaydin and C. Kaynak), so no network is needed. The split
    is stratified by class and depends only on ``test_fraction`` and ``seed``: the train and
    test sets of one ``seed`` are disjoint and together hold every image.

    Args:
        train: the training part (True) or the test part (False).
        test_fraction: the share of each class held out for testing, in (0, 1).
        seed: the seed of the split.
        normalize: scale pixels to [0, 1] (divide by 16); otherwise keep 0..16.
        flatten: images as 64-vectors (N, 64); otherwise (N, 1, 8, 8) for convolutions.
        device: where the tensors live (``"cpu"``, ``"cuda"``, ...).

    Attributes:
        data: float32 tensor of images, (N, 64) or (N, 1, 8, 8).
        targets: int64 tensor of labels, (N,).
        classes: the class names ``"0"`` .. ``"9"``.

    Example:
        >>> train = Digits(train=True)
        >>> x, y = train[0]
        >>> x.shape, x.dtype, y.dtype
        ((64,), minigrad.float32, minigrad.int64)
    """

    classes = [str(d) for d in range(10)]

    def __init__(
        self,
        train: bool = True,
        test_fraction: float = 0.2,
        seed: int = 0,
        normalize: bool = True,
        flatten: bool = True,
        device=None,
    ):
        if not 0.0 < float(test_fraction) < 1.0:
            raise ValueError(f"Digits: test_fraction must be in (0, 1), got {test_fraction!r}")
        images, labels = load_digits()
        train_idx, test_idx = split_indices(labels, float(test_fraction), int(seed))
        idx = train_idx if train else test_idx
        x = images[idx].astype(np.float32)
        if normalize:
            x /= _MAX_PIXEL
        x = x.reshape(len(idx), 64) if flatten else x.reshape(len(idx), 1, 8, 8)
        super().__init__(tensor(x, device=device), tensor(labels[idx], device=device))
        self.train = bool(train)

    @property
    def data(self):
        return self.tensors[0]

    @property
    def targets(self):
        return self.tensors[1]

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return f"Digits({split}, {len(self)} images of shape {tuple(self.data.shape[1:])})"
