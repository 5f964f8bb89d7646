"""Linear maps (a fused op), dropout, embedding lookup and one-hot encoding."""

from __future__ import annotations

import math

import numpy as np

from ... import backend, dtypes
from ..._torch_samplers import dropout_scale, memory_order
from ..._warnings import warn_user
from ...autograd import grad_mode, graph
from ...autograd.graph import named_as
from ...ops import Op
from ...ops.base import autocast_inputs, check_bool_arg, constant, refuse_dtype
from ...ops.complex import conjugates
from ...ops.indexing import GetItem, IndexAdd, check_range
from ...ops.linalg import times_transposed
from ._utils import maybe_inplace


class LinearOp(Op):
    """y = x·Wᵀ + b; dx = dy·W, dW = dyᵀ·x (summed over the batch dims), db = Σ dy (with W and
    x conjugated for complex tensors).

    With a stack of weights (vmap's per-sample weights) x is (B, M, in), W (B, out, in) and b
    (B, out): each of the B products uses its own weight, and dW is one per sample."""

    save_inputs = "for_others"  # x for dW, W for dx: see _inputs_to_save
    supports_complex = True
    input_names = ("input", "weight")  # (grad_fn._saved_input; the bias is never saved)

    def _inputs_to_save(self, args) -> tuple:
        """x only when W needs a gradient, W only when x does, never b (as PyTorch's
        AddmmBackward0 saves ``mat1``/``mat2``): a frozen layer keeps no activations, a first
        layer's weight is not kept for an input gradient no one asked for."""
        x, w, _ = args
        need_x, need_w = self.edges[0] is not None, self.edges[1] is not None
        return (x if need_w else None), (w if need_x else None), None

    def forward(self, x, w, b):
        if x.dtype == np.float16:  # as PyTorch's addmm: float32 products and bias, one rounding
            wide = self.forward(x.astype(np.float32), w.astype(np.float32),
                                None if b is None else b.astype(np.float32))  # fmt: skip
            return wide.astype(x.dtype)
        if w.ndim == 3:
            y = _stacked_product(x, w.swapaxes(-1, -2))
            if b is not None:
                y += b[..., None, :]
            return y
        if x.ndim == 2:
            y = times_transposed(self.xp, x, w)
        else:  # one GEMM over the flattened batch dims
            rows = times_transposed(self.xp, x.reshape(-1, x.shape[-1]), w)
            y = rows.reshape(x.shape[:-1] + (w.shape[0],))
        if b is not None:
            y += b
        return y.astype(x.dtype, copy=False)  # bfloat16: NumPy's matmul gives float32

    def backward(self, gy):
        x, w, _ = self.saved  # (None where no gradient needs it)
        if gy._data.dtype.kind == "c":
            x, w = conjugates(x, w)
        if len(self.input_meta[1][0]) == 3:  # a stack of weights
            return self.formula(_stacked_linear_vjp, gy, x, w, self.needs_input_grad)
        grads = self.formula(_linear_vjp, gy, x, w, self.needs_input_grad)
        if not grad_mode._state.enabled:  # plain backward: new products and a new sum, which
            for g in grads:  # only the engine holds; marked here, which spares the engine
                if g is not None:  # its search of what this node saved (graph.mark_adoptable)
                    graph.mark_adoptable(g)
        return grads

    def name(self) -> str:
        meta = self.input_meta
        return linear_node(len(meta[0][0]), meta[2] is not None) if meta else "LinearBackward0"


def linear_node(ndim: int, bias: bool) -> str:
    """The last node of PyTorch's linear of an ``ndim``-D input: Addmm with a bias, Mm without
    for a matrix; for other inputs, the view back to the input's batch shape (a matmul's
    squeeze or unsafe view without a bias)."""
    if ndim == 2:
        return "AddmmBackward0" if bias else "MmBackward0"
    if bias:
        return "ViewBackward0"
    return "SqueezeBackward4" if ndim == 1 else "UnsafeViewBackward0"


def _linear_vjp(ns, gy, x, w, needs):
    """(dx, dW, db) for y = x·Wᵀ + b, on arrays or tensors alike (batch dims flattened)."""
    need_x, need_w, need_b = needs
    rows = gy if gy.ndim == 2 else gy.reshape(-1, gy.shape[-1])
    gx = gy @ w if need_x else None
    gw = rows.T @ (x if x.ndim == 2 else x.reshape(-1, x.shape[-1])) if need_w else None
    gb = rows.sum(0) if need_b else None
    return gx, gw, gb


def _stacked_linear_vjp(ns, gy, x, w, needs):
    """(dx, dW, db) for a stack of weights (see LinearOp): gy (B, M, out), x (B, M, in)."""
    need_x, need_w, need_b = needs
    gx = None
    if need_x:
        gx = gy @ w if isinstance(gy, graph.Tensor) else _stacked_product(gy, w)
    gw = None
    if need_w:
        if x.shape[-2] == 1 and not isinstance(gy, graph.Tensor):  # outer products: einsum is ~5x
            gw = ns.einsum("...mo,...mi->...oi", gy, x)  # faster than matmul over a dim of 1
        else:
            gw = gy.mT @ x
    gb = gy.sum(-2) if need_b else None
    return gx, gw, gb


def _stacked_product(a, b):
    """a @ b for (B, M, k) and (B, k, n) arrays; when b is one matrix repeated (an expanded view,
    stride 0: vmap's shared weights) as one matrix product over the B·M rows."""
    if b.strides[0] == 0 and a.shape[0] == b.shape[0]:
        rows = a.reshape(-1, a.shape[-1]) @ b[0]
        return rows.reshape(a.shape[:-1] + (b.shape[-1],))
    return a @ b


def linear_shape_mismatch(input_shape, out_features: int, in_features: int) -> str:
    """PyTorch's words for an input whose last dimension is not ``in_features``: the matrix
    product of the input's rows (all leading dimensions flattened) with the weight's transpose
    (a 0-d input: PyTorch's words for it)."""
    if not len(input_shape):
        return "both arguments to linear need to be at least 1D, but they are 0D and 2D"
    last = input_shape[-1] if len(input_shape) else 1
    rows = math.prod(input_shape) // last if len(input_shape) and last else 1
    return (
        f"mat1 and mat2 shapes cannot be multiplied ({rows}x{last} and "
        f"{in_features}x{out_features})"
    )


def linear(input, weight, bias=None):
    """y = input·weightᵀ + bias.

    Args:
        input: tensor of shape (*, in_features).
        weight: tensor of shape (out_features, in_features).
        bias: optional tensor of shape (out_features,).

    Returns:
        A tensor of shape (*, out_features).

    Example:
        >>> F.linear(minigrad.randn(2, 4), minigrad.randn(3, 4)).shape
        minigrad.Size([2, 3])
    """
    input, weight, bias = autocast_inputs("linear", input, weight, bias)
    # (the input's shape as a plain tuple, which indexes in C; the weight's through the
    # property, which refuses an uninitialized parameter)
    shape, w_shape = input._data.shape, tuple(weight.shape)
    if len(w_shape) != 2:
        raise backend.DimensionError(
            f"linear: weight must be 2-D (out, in), got shape {list(w_shape)}"
        )
    if not shape or shape[-1] != w_shape[1]:
        raise RuntimeError(linear_shape_mismatch(shape, *w_shape))
    w_dtype = weight._data.dtype
    if input._data.dtype != w_dtype or (bias is not None and bias._data.dtype != w_dtype):
        # PyTorch's words: its addmm's mat1 is the input, self the bias, mat2 the weight
        first, name = (input, "mat1") if input.dtype is not weight.dtype else (bias, "self")
        raise RuntimeError(
            f"{name} and mat2 must have the same dtype, but got "
            f"{dtypes.scalar_type_name(first.dtype)} and {dtypes.scalar_type_name(weight.dtype)}"
        )
    if w_dtype.kind == "b":  # (PyTorch's addmm has no bool kernel)
        refuse_dtype(dtypes.bool, "addmm_impl_cpu_", "linear")
    if len(shape) == 1:
        out = LinearOp()(input.unsqueeze(0), weight, bias).squeeze(0)
        return named_as(out, linear_node(1, bias is not None))
    return LinearOp()(input, weight, bias)


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout(input, p: float, training: bool, inplace: bool, mask_shape: tuple):
    _check_p(p)
    check_bool_arg(training, "dropout", "train", 2)
    if not training or p == 0.0:
        return input
    if input.dtype.is_complex:
        raise RuntimeError(f"dropout: expected a floating point input, got {input.dtype}")
    if not input.dtype.is_floating_point:  # (PyTorch's words: its float mask times the input)
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type "
            f"{dtypes.scalar_type_name(input.dtype)} (dropout: expected a floating point input, "
            f"got {input.dtype})"
        )
    if input.is_meta:  # no values to mask: a meta result of the input's shape, as PyTorch's
        return maybe_inplace(lambda x: x * 1.0, input, inplace, ("MulBackward0", "MulBackward0"))
    np_dtype, dev = input._data.dtype, input.device

    # a mask of the input's shape is drawn in the input's memory order, as PyTorch's
    # empty_like(input).bernoulli_(1 - p) (a transposed input: a transposed order)
    order = memory_order(input._data) if mask_shape == tuple(input.shape) else None

    def make(shape):
        with backend.on(dev):  # the mask is made on the input's GPU
            if p == 1.0:
                return constant(dev.xp.zeros(shape, dtype=np_dtype), dev)
            # PyTorch's order: bernoulli_(1 - p) on the mask's shape, then 1/(1 - p) in the dtype
            mask = _bernoulli_in_order(backend.default_generator(dev), shape, 1.0 - p, order)
            mask = mask.astype(np_dtype)
            mask *= dropout_scale(np_dtype, p)  # the expected value is kept
            return constant(mask, dev)

    mask = backend.per_sample_draw(make, mask_shape)  # one mask per sample under vmap
    return maybe_inplace(lambda x: x * mask, input, inplace, ("MulBackward0", "MulBackward0"))


def _bernoulli_in_order(gen, shape, p, order):
    if order is None or len(order) != len(shape):  # vmap adds batch dims: the logical order
        return gen.bernoulli(shape, p)
    drawn = gen.bernoulli(tuple(shape[axis] for axis in order), p)
    return drawn.transpose(tuple(int(i) for i in np.argsort(order)))


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability ``p`` and scale the rest by 1/(1 - p) (training only).

    The mask comes from the default generator of the input's device (``minigrad.manual_seed``).

    Example:
        >>> y = F.dropout(x, p=0.2, training=model.training)
    """
    if input.is_nested:  # a nested tensor: one mask over its packed values
        from ...nested._nn import dropout as nested_dropout

        return nested_dropout(input, p, training, inplace)
    return _dropout(input, p, training, inplace, tuple(input.shape))


def _feature_dropout(input, p, training, inplace):
    """PyTorch's ``feature_dropout``: one draw per (dim 0, dim 1) pair, shared over the rest."""
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _dropout(input, p, training, inplace, mask_shape)


def _unbatched_feature_dropout(input, p, training, inplace, batched: int):
    """Feature dropout of an input that has ``batched`` dims with a batch, else of the input
    with a batch of one added (its first dim is the channel: one draw per channel)."""
    if input.ndim == batched:
        return _feature_dropout(input, p, training, inplace)
    if input.ndim < 1:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    mask_shape = (input.shape[0],) + (1,) * (input.ndim - 1)
    return _dropout(input, p, training, inplace, mask_shape)


def _deprecated_dims(name: str, ndim: int, spatial: int) -> str:
    return (
        f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will result in "
        "an error in a future release. To retain the behavior and silence this warning, please "
        f"use dropout instead. Note that {name} exists to provide channel-wise dropout on inputs "
        f"with {spatial} spatial dimensions, a channel dimension, and an optional batch dimension "
        f"(i.e. {spatial + 1}D or {spatial + 2}D inputs)."
    )


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability ``p``."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs)."
        )
    return _unbatched_feature_dropout(input, p, training, inplace, 3)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, H, W) inputs with probability ``p``. As PyTorch, other
    inputs warn and get its feature dropout (one draw per (dim 0, dim 1) pair): a 3-D input is
    read as (N, C, L), a 2-D one (N, C) is dropped elementwise."""
    _check_p(p)
    if input.ndim not in (3, 4):
        warn_user(_deprecated_dims("dropout2d", input.ndim, 2))
    if input.ndim == 3:
        warn_user(_DROPOUT2D_3D)
    return _feature_dropout(input, p, training, inplace)


_DROPOUT2D_3D = (
    "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
    "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
    "This behavior will change in a future release to interpret the input as one without a "
    "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
    "please switch to using dropout1d instead."
)


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability ``p``;
    other inputs warn, as PyTorch, and are read as unbatched (one draw per first-dim slice)."""
    _check_p(p)
    if input.ndim not in (4, 5):
        warn_user(_deprecated_dims("dropout3d", input.ndim, 3))
    return _unbatched_feature_dropout(input, p, training, inplace, 5)


class EmbeddingOp(Op):
    """y = W[idx] (rows of the table); dW = zeros with the rows of dy added at idx, except at
    padding_idx, which gets no gradient; with scale_grad_by_freq each row of dy is divided by
    how often its index occurs in idx"""

    supports_complex = True

    def __init__(
        self, indices, padding_idx: int | None, scale_grad_by_freq: bool = False, sparse=False
    ):
        self.indices, self.padding_idx = indices, padding_idx
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse

    def forward(self, weight):
        return weight[self.indices]

    def backward(self, gy):
        dtype = gy._data.dtype
        scale = None
        if self.scale_grad_by_freq:
            xp = gy.device.xp
            counts = xp.bincount(self.indices.reshape(-1), minlength=self.input_meta[0][0][0])
            scale = (1.0 / counts[self.indices])[..., None].astype(dtype)
        if self.padding_idx is not None:
            keep = (self.indices != self.padding_idx)[..., None].astype(dtype)
            scale = keep if scale is None else scale * keep
        if self.sparse:
            if self.scale_grad_by_freq:
                raise RuntimeError(
                    "embedding_backward: scale_grad_by_freq not supported with sparse gradients"
                )
            return self._sparse_grad(gy, scale)
        if scale is not None:
            gy = gy * constant(scale, gy.device)
        return IndexAdd(self.input_meta[0][0], (self.indices,), False)(gy)

    def _sparse_grad(self, gy, scale):
        """dW as a sparse COO tensor of one row per lookup, uncoalesced, without the lookups
        of padding_idx (as PyTorch's sparse embedding gradient)."""
        from ...sparse._core import SparseCooTensor  # (the sparse layer sits above nn's ops)

        with backend.on(gy.device):
            return self._sparse_rows(gy, scale, SparseCooTensor)

    def _sparse_rows(self, gy, scale, sparse_coo):
        flat, rows = self.indices.reshape(-1), gy.reshape(-1, gy.shape[-1])
        if scale is not None:
            rows = rows * constant(scale.reshape(-1, 1), gy.device)
        if self.padding_idx is not None:
            (kept,) = gy.device.xp.nonzero(flat != self.padding_idx)
            flat, rows = flat[kept], GetItem((kept,))(rows)
        indices = flat.reshape(1, -1).astype("int64", copy=False)
        return sparse_coo(indices, self.input_meta[0][0])(rows)


def embedding_renorm_(weight, input, max_norm: float, norm_type: float = 2.0):
    """Rescale, in place and outside the graph, the rows of ``weight`` that ``input`` indexes and
    whose ``norm_type``-norm exceeds ``max_norm`` to norm ``max_norm`` (``torch.embedding_renorm_``:
    the factor is ``max_norm / (norm + 1e-7)``). Returns ``weight``."""
    with grad_mode.no_grad():
        table = weight.detach()  # same storage and version counter: the write bumps weight's
        rows_at = input.reshape(-1).unique()
        rows = table[rows_at]
        norms = rows.norm(p=norm_type, dim=1, keepdim=True)
        scale = (max_norm / (norms + 1e-7)).where(norms > max_norm, 1.0)
        table[rows_at] = rows * scale
    return weight


def embedding(
    input,
    weight,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
):
    """Look up rows of ``weight`` (num_embeddings, dim) at the integer ``input`` indices.

    Returns a tensor of shape (*input.shape, dim). Rows at ``padding_idx`` get no gradient.
    With ``max_norm``, the rows looked up whose ``norm_type``-norm exceeds it are first
    rescaled to norm ``max_norm`` in ``weight`` itself (in place, as in PyTorch). With
    ``scale_grad_by_freq``, each row's gradient is divided by how often its index occurs in
    ``input``. ``sparse=True`` makes ``weight``'s gradient a sparse COO tensor (one row per lookup).

    Example:
        >>> F.embedding(minigrad.tensor([[0, 2]]), minigrad.randn(5, 3)).shape
        minigrad.Size([1, 2, 3])
    """
    if input.is_nested:  # ragged token ids: each component looked up on its own
        from ...nested._nn import map_components

        args = (weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)
        return map_components(input, lambda ids: embedding(ids, *args))
    if input.dtype.is_floating_point or input.dtype is dtypes.bool:
        raise RuntimeError(  # PyTorch's words
            f"Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {input.type()} instead (while checking arguments for "
            f"embedding)"
        )
    if weight.ndim != 2:
        raise backend.DimensionError(
            f"embedding: weight must be 2-D, got shape {list(weight.shape)}"
        )
    if input.device is not weight.device:
        raise RuntimeError(
            f"embedding: indices on {input.device} but weight on {weight.device}; move them to "
            f"the same device"
        )
    num = weight.shape[0]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    _check_indices(input, num)
    graph.refuse_inference_index(input, weight)
    if max_norm is not None:
        embedding_renorm_(weight, input, max_norm, norm_type)
    return EmbeddingOp(input._data, padding_idx, scale_grad_by_freq, bool(sparse))(weight)


def _check_indices(input, num: int) -> None:
    # PyTorch raises IndexError for any index outside [0, num); on a GPU, at the next sync
    check_range(
        input._all_elements(), num, input.device,
        f"index out of range in self (embedding: index {{}} for {num} embeddings, valid 0 to "
        f"{num - 1})",
        negative=False,
    )  # fmt: skip


def one_hot(tensor, num_classes: int = -1):
    """Class indices as one-hot rows: an int64 tensor of shape (*tensor.shape, num_classes).

    ``num_classes=-1`` uses ``tensor.max() + 1``.

    Example:
        >>> F.one_hot(minigrad.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    if tensor.dtype is not dtypes.int64:
        raise RuntimeError(  # PyTorch's words
            f"one_hot is only applicable to index tensor of type LongTensor. (got {tensor.dtype})"
        )
    data = tensor._data
    values = data.all_elements() if hasattr(type(data), "all_elements") else data  # (vmap)
    if tensor.device.type == "cpu" and values.size and values.min() < 0:  # PyTorch's first check
        raise RuntimeError(
            f"Class values must be non-negative. (one_hot: class value {values.min()})"
        )
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(data.max()) + 1
    # a RuntimeError as in PyTorch (also an IndexError); on a GPU raised at the next sync
    check_range(
        data, num_classes, tensor.device,
        f"Class values must be smaller than num_classes. (one_hot: class value {{}}, "
        f"num_classes={num_classes})",
        negative=False,
    )  # fmt: skip
    xp = tensor.device.xp
    with backend.on(tensor.device):
        classes = constant(xp.arange(num_classes), tensor.device)
    return (tensor.unsqueeze(-1) == classes).to(dtypes.int64)  # ops: batches under vmap
