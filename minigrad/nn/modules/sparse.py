"""``Embedding``: a lookup table of learnable vectors indexed by integers."""

from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...backend import AssertedArgumentError
from ...creation import empty
from .. import functional as F
from .. import init
from ..functional.embedding_bag import check_bag_options
from ..parameter import Parameter
from .module import Module


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, initialised N(0, 1).

    The row at ``padding_idx`` starts at zero and receives no gradient. With ``max_norm``, each
    lookup first rescales the rows it reads whose ``norm_type``-norm exceeds ``max_norm`` (in
    the table itself, as PyTorch); ``scale_grad_by_freq`` divides each row's gradient by how
    often its index occurs in the batch. ``sparse=True`` makes ``weight.grad`` a sparse COO tensor
    (for ``optim.SGD``, ``optim.Adagrad`` and ``optim.SparseAdam``).

    Shape:
        integer input (*) → output (*, embedding_dim).

    Example:
        >>> emb = nn.Embedding(10, 3, padding_idx=0)
        >>> emb(minigrad.tensor([[1, 2, 0]])).shape
        minigrad.Size([1, 3, 3])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight=None,
        _freeze: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = _check_padding_idx(padding_idx, num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self.weight = _table(self, _weight, _freeze, device, dtype)

    def reset_parameters(self) -> None:
        _reset_table(self.weight, self.padding_idx)

    def forward(self, input):
        return F.embedding(
            input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
            self.scale_grad_by_freq, self.sparse,
        )  # fmt: skip

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text + _norm_repr(self)

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding holding ``embeddings`` (rows, dim), frozen unless ``freeze=False``.

        Example:
            >>> emb = nn.Embedding.from_pretrained(minigrad.randn(10, 3))
        """
        rows, dim = _pretrained_shape(embeddings)
        return cls(
            rows,
            dim,
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
            _weight=embeddings,
            _freeze=freeze,
        )


class EmbeddingBag(Module):
    """Sums, means or maxima over bags of embedding vectors, without building the (N, dim) rows.

    ``forward(input, offsets=None, per_sample_weights=None)``: a 2-D ``input`` (B, L) is B bags of
    L indices; a 1-D ``input`` is cut into bags at ``offsets``. Entries equal to ``padding_idx``
    are left out of their bag. The table starts N(0, 1), its ``padding_idx`` row at zero.
    ``sparse=True`` (modes sum and mean) makes ``weight.grad`` a sparse COO tensor.

    Example:
        >>> bag = nn.EmbeddingBag(10, 3, mode="sum")
        >>> bag(minigrad.tensor([1, 2, 4, 5, 4]), minigrad.tensor([0, 2])).shape
        minigrad.Size([2, 3])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight=None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_bag_options(scale_grad_by_freq, sparse, "EmbeddingBag")
        # (a bad ``mode`` is refused by the forward's F.embedding_bag, as PyTorch's)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = _check_padding_idx(padding_idx, num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self.mode, self.include_last_offset = mode, include_last_offset
        self.weight = _table(self, _weight, False, device, dtype)

    def reset_parameters(self) -> None:
        _reset_table(self.weight, self.padding_idx)

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(
            input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
            self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx,
        )  # fmt: skip

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze: bool = True,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> EmbeddingBag:
        """An EmbeddingBag holding ``embeddings`` (rows, dim), frozen unless ``freeze=False``.

        Example:
            >>> bag = nn.EmbeddingBag.from_pretrained(minigrad.randn(10, 3), mode="max")
        """
        rows, dim = _pretrained_shape(embeddings)
        bag = cls(
            rows, dim, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings,
            include_last_offset, padding_idx,
        )  # fmt: skip
        bag.weight.requires_grad = not freeze
        return bag

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}{_norm_repr(self)}, mode='{self.mode}'"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text


def _norm_repr(module) -> str:
    """PyTorch's repr of the non-default max_norm, norm_type and scale_grad_by_freq."""
    text = ""
    if module.max_norm is not None:
        text += f", max_norm={module.max_norm!r}"
    if module.norm_type != 2:
        text += f", norm_type={module.norm_type!r}"
    if module.scale_grad_by_freq:
        text += f", scale_grad_by_freq={module.scale_grad_by_freq!r}"
    return text


def _check_padding_idx(padding_idx: int | None, num_embeddings: int) -> int | None:
    """``padding_idx`` made non-negative; PyTorch's AssertionError (also a ValueError) when
    outside the table."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertedArgumentError(
            f"Padding_idx must be within num_embeddings (num_embeddings={num_embeddings}, "
            f"got padding_idx={padding_idx})"
        )
    return padding_idx % num_embeddings


def _pretrained_shape(embeddings) -> tuple:
    """(rows, dim) of a pretrained table; PyTorch asserts that it is 2-D."""
    if embeddings.ndim != 2:
        raise AssertionError(
            f"Embeddings parameter is expected to be 2-dimensional, got shape "
            f"{list(embeddings.shape)}"
        )
    return tuple(embeddings.shape)


def _table(module, weight, freeze: bool, device, dtype) -> Parameter:
    """The lookup table of an Embedding or EmbeddingBag: ``weight`` if given, else initialised."""
    shape = (module.num_embeddings, module.embedding_dim)
    if weight is None:
        table = Parameter(empty(*shape, device=device, dtype=dtype), requires_grad=not freeze)
        _reset_table(table, module.padding_idx)
        return table
    if tuple(weight.shape) != shape:  # (PyTorch asserts it: its AssertionError)
        raise AssertionError(
            f"Shape of weight {list(weight.shape)} does not match num_embeddings and "
            f"embedding_dim {shape}"
        )
    return Parameter(weight, requires_grad=not freeze)


def _reset_table(weight, padding_idx: int | None) -> None:
    """N(0, 1) rows, the ``padding_idx`` row zero."""
    init.normal_(weight)
    if padding_idx is not None:
        with no_grad():
            weight[padding_idx] = 0.0
