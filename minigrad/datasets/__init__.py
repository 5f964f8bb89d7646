"""Ready-made datasets: bundled Digits and text, downloadable MNIST and Fashion-MNIST."""

from ._cache import data_home, sha256sum
from .digits import Digits, load_digits
from .mnist import MNIST, FashionMNIST, read_idx
from .text import CharDataset, shakespeare_sonnets

__all__ = [
    "CharDataset",
    "Digits",
    "FashionMNIST",
    "MNIST",
    "data_home",
    "load_digits",
    "read_idx",
    "sha256sum",
    "shakespeare_sonnets",
]
