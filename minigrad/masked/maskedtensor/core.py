"""MaskedTensor: a tensor whose elements may be masked out, as ``torch.masked.MaskedTensor``.

minigrad's MaskedTensor holds two tensors, the data and a bool mask of the same shape; every
operation runs on the data (so autograd records it there) and carries the mask along. Unlike
PyTorch's, it is not a subclass of :class:`minigrad.Tensor` (``isinstance(mt, Tensor)`` is
False): it is a tensor-like whose operators, methods and ``__torch_function__`` know what masked
elements mean, so ``minigrad.sum(mt)`` and ``F.softmax(mt, -1)`` work as in PyTorch. A plain
tensor's operator or method given a MaskedTensor operand (``tensor + mt``) raises TypeError
(PyTorch hands it to the MaskedTensor): write ``mt + tensor``, or ``minigrad.add(tensor, mt)``.
"""

from __future__ import annotations

from ... import dtypes

__all__ = ["MaskedTensor", "as_masked_tensor", "is_masked_tensor", "masked_tensor"]

_MASKED = "--".rjust(8)


def _tensor_type():
    from ...tensor import Tensor

    return Tensor


def _check_pair(data, mask) -> None:
    """PyTorch's checks of a (data, mask) pair, with its messages."""
    tensor = _tensor_type()
    if not isinstance(data, tensor):
        raise TypeError(f"data must be a Tensor, got {type(data).__name__}")
    if not isinstance(mask, tensor):
        raise TypeError(f"mask must be a Tensor, got {type(mask).__name__}")
    if mask.dtype != dtypes.bool:
        raise TypeError(f"mask must have dtype bool., got {mask.dtype}")
    if data.dim() != mask.dim():
        raise ValueError(f"data.dim() must equal mask.dim(): got {data.dim()} and {mask.dim()}")
    if tuple(data.shape) != tuple(mask.shape):
        raise ValueError(
            f"data.size() must equal mask.size(): got {tuple(data.shape)} and {tuple(mask.shape)}"
        )
    if data.layout != mask.layout:
        raise TypeError("data and mask must have the same layout.")
    if data.device != mask.device:
        raise ValueError(f"data and mask must be on one device: {data.device} and {mask.device}")


class MaskedTensor:
    """A tensor with a mask: where the mask is False the element is masked out ("--"), and
    reductions, normalizations and gradients ignore it.

    Build one with :func:`masked_tensor` (a new leaf) or :func:`as_masked_tensor` (keeps the
    data's graph). Elementwise operators and functions apply to the data and keep the mask
    (two MaskedTensors must have equal masks); reductions (``sum``, ``mean``, ``amax``, ...)
    reduce the kept elements and mask out the results with none; ``softmax`` normalizes
    the kept elements. The gradient of a MaskedTensor is a MaskedTensor with its mask.

    Example:
        >>> data = minigrad.arange(6.0).reshape(2, 3)
        >>> mt = masked_tensor(data, data > 1.5, requires_grad=True)
        >>> mt.sum().backward()
        >>> mt.grad
        MaskedTensor(
          [
            [      --,       --,   1.0000],
            [  1.0000,   1.0000,   1.0000]
          ]
        )
    """

    __hash__ = object.__hash__

    def __init__(self, data, mask, requires_grad: bool = False):
        _check_pair(data, mask)
        if data.is_sparse or data.is_sparse_csr:  # sparse data keeps the mask's pattern only
            data = data.sparse_mask(mask)
        if requires_grad:
            data = data.detach().requires_grad_(True)
        self._masked_data, self._masked_mask = data, mask

    @classmethod
    def _wrap(cls, data, mask) -> MaskedTensor:
        """A MaskedTensor of ``data`` (graph kept) and ``mask``, without copying either."""
        out = cls.__new__(cls)
        _check_pair(data, mask)
        out._masked_data, out._masked_mask = data, mask
        return out

    # -- what it holds
    def get_data(self):
        """The data tensor, masked-out elements included (gradients flow through it)."""
        return self._masked_data

    def get_mask(self):
        """The bool mask: True where an element is kept."""
        return self._masked_mask

    def to_tensor(self, value):
        """A plain tensor: the data with ``value`` in the masked-out places (differentiable)."""
        return self._masked_data.masked_fill(~self._masked_mask, value)

    shape = property(lambda self: self._masked_data.shape)
    dtype = property(lambda self: self._masked_data.dtype)
    device = property(lambda self: self._masked_data.device)
    ndim = property(lambda self: self._masked_data.ndim)
    requires_grad = property(lambda self: self._masked_data.requires_grad)
    grad_fn = property(lambda self: self._masked_data.grad_fn)
    is_leaf = property(lambda self: self._masked_data.is_leaf)

    # -- sparse layouts (the "MaskedTensor sparsity" tutorial): data and mask share a pattern
    layout = property(lambda self: self._masked_data.layout)
    # PyTorch's MaskedTensor.is_sparse: COO or CSR (a plain CSR tensor's is False)
    is_sparse = property(lambda self: self._masked_data.is_sparse or self._is_csr)
    _is_csr = property(lambda self: self._masked_data.is_sparse_csr)

    def is_sparse_coo(self) -> bool:
        """Whether the data (and mask) are sparse COO (a method here, as PyTorch's)."""
        return self._masked_data.is_sparse

    def is_sparse_csr(self) -> bool:
        """Whether the data (and mask) are sparse CSR (a method here, as PyTorch's)."""
        return self._masked_data.is_sparse_csr

    def to_dense(self) -> MaskedTensor:
        """Strided data and mask (unspecified elements of a sparse mask are masked out)."""
        if not (self.is_sparse or self._is_csr):
            return self
        return MaskedTensor._wrap(self._masked_data.to_dense(), self._masked_mask.to_dense())

    def to_sparse_coo(self) -> MaskedTensor:
        """Sparse COO data and mask holding exactly the kept elements."""
        if self.is_sparse_coo():
            return self
        dense = self.to_dense()
        data, mask = dense.get_data(), dense.get_mask()
        import minigrad

        indices = mask.nonzero().t()
        values = minigrad.sparse_coo_tensor(indices, data[mask], tuple(data.shape))
        kept = minigrad.ones(indices.shape[1], dtype=dtypes.bool, device=mask.device)
        pattern = minigrad.sparse_coo_tensor(indices, kept, tuple(mask.shape))
        return MaskedTensor._wrap(values, pattern)

    def to_sparse_csr(self) -> MaskedTensor:
        """Sparse CSR data and mask holding exactly the kept elements (2-D only)."""
        if self._is_csr:
            return self
        coo = self.to_sparse_coo()
        return MaskedTensor._wrap(coo.get_data().to_sparse_csr(), coo.get_mask().to_sparse_csr())

    def size(self, dim=None):
        return self._masked_data.size() if dim is None else self._masked_data.size(dim)

    def dim(self) -> int:
        return self._masked_data.dim()

    def numel(self) -> int:
        return self._masked_data.numel()

    def __len__(self) -> int:
        return len(self._masked_data)

    # -- autograd
    @property
    def grad(self):
        """The data's gradient as a MaskedTensor with this mask (None before backward)."""
        grad = self._masked_data.grad
        return None if grad is None else MaskedTensor._wrap(grad, self._masked_mask)

    @grad.setter
    def grad(self, value):
        self._masked_data.grad = value.get_data() if is_masked_tensor(value) else value

    def requires_grad_(self, requires_grad: bool = True) -> MaskedTensor:
        self._masked_data.requires_grad_(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Backpropagate from the data (a MaskedTensor ``gradient`` gives its data)."""
        if is_masked_tensor(gradient):
            gradient = gradient.get_data()
        self._masked_data.backward(gradient, retain_graph, create_graph, inputs=inputs)

    # -- Python protocols of one-element tensors
    def item(self):
        return self._masked_data.item()

    def __bool__(self) -> bool:
        return bool(self._masked_data)

    def __float__(self) -> float:
        return float(self._masked_data)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "a MaskedTensor has no array form (its masked-out elements have no value): use "
            "to_tensor(value) or get_data() first"
        )

    def __repr__(self) -> str:
        data = self._masked_data.detach().cpu().tolist()
        mask = self._masked_mask.cpu().tolist()
        if self.ndim == 0:
            return f"MaskedTensor({_element(data, self.dtype) if mask else '--'}, {mask})"
        return f"MaskedTensor(\n{_nested(data, mask, self.dtype, '  ')}\n)"

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        """Run a public minigrad function called with a MaskedTensor argument by the rule
        for what it means on masked elements (NotImplementedError where there is none)."""
        from ._ops_refs import torch_function

        return torch_function(func, args, kwargs or {})


def _element(value, dtype) -> str:
    if dtype.is_floating_point:
        return f"{value:8.4f}"
    return str(value)


def _nested(data, mask, dtype, indent: str) -> str:
    """PyTorch's layout: innermost rows on one line, each outer level bracketed on its own."""
    if not isinstance(data[0] if data else None, list):
        cells = [_element(v, dtype) if keep else _MASKED for v, keep in zip(data, mask)]
        return f"{indent}[{', '.join(cells)}]"
    inner = ",\n".join(_nested(d, m, dtype, indent + "  ") for d, m in zip(data, mask))
    return f"{indent}[\n{inner}\n{indent}]"


def is_masked_tensor(obj) -> bool:
    """Whether ``obj`` is a :class:`MaskedTensor`."""
    return isinstance(obj, MaskedTensor)


def masked_tensor(data, mask, requires_grad: bool = False) -> MaskedTensor:
    """A new MaskedTensor, as ``torch.masked.masked_tensor``: a leaf holding copies of
    ``data`` (detached from its graph) and ``mask``.

    Args:
        data: the values, masked-out places included.
        mask: a bool tensor of ``data``'s shape, True where an element is kept.
        requires_grad: whether gradients are accumulated into the new MaskedTensor's
            ``.grad`` (itself a MaskedTensor with this mask).

    Example:
        >>> mt = masked_tensor(minigrad.tensor([1.0, 2.0]), minigrad.tensor([True, False]))
        >>> mt.sum()
        MaskedTensor(  1.0000, True)
    """
    _check_pair(data, mask)
    return MaskedTensor(data.detach().clone(), mask.detach().clone(), requires_grad)


def as_masked_tensor(data, mask) -> MaskedTensor:
    """A MaskedTensor over ``data`` itself, as ``torch.masked.as_masked_tensor``: no copy,
    and the graph is kept, so gradients of the result reach ``data``.

    Args:
        data: the values (a tensor, possibly part of a graph).
        mask: a bool tensor of ``data``'s shape, True where an element is kept.
    """
    return MaskedTensor._wrap(data, mask)
