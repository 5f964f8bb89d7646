"""``torch._utils``: the private helpers libraries import from it (fastai's fp16 utilities
flatten a model's parameters into one buffer and view it back; fastai's ``TensorBase`` pickles
itself through the ``_rebuild_*`` functions, as PyTorch's own tensors do)."""

from . import ops


def _flatten_dense_tensors(tensors):
    """The tensors flattened and concatenated into one contiguous 1-D buffer (they share a
    dtype), as PyTorch's."""
    return ops.cat([t.contiguous().reshape(-1) for t in tensors])


def _unflatten_dense_tensors(flat, tensors):
    """Views of ``flat`` (from :func:`_flatten_dense_tensors`) with the sizes of ``tensors``."""
    views, start = [], 0
    for t in tensors:
        views.append(flat.narrow(0, start, t.numel()).view_as(t))
        start += t.numel()
    return tuple(views)


def _rebuild_tensor(storage, storage_offset, size, stride):
    """A tensor over ``storage`` (a TypedStorage: its dtype and device) viewed with ``size`` and
    ``stride`` from ``storage_offset`` elements, as PyTorch's."""
    from .creation import empty

    untyped = storage._untyped_storage
    t = empty((0,), dtype=storage.dtype, device=untyped.device)
    return t.set_(untyped, storage_offset, size, stride)


def _rebuild_tensor_v2(
    storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None
):
    """:func:`_rebuild_tensor` with ``requires_grad`` and the hooks PyTorch's pickles carry (an
    empty dict in practice). ``metadata`` (PyTorch's conj/neg bits) has no counterpart here."""
    if metadata:
        raise NotImplementedError(
            f"_rebuild_tensor_v2: tensor metadata {sorted(metadata)} (PyTorch's conj/neg bits) "
            "is not supported by minigrad"
        )
    tensor = _rebuild_tensor(storage, storage_offset, size, stride)
    tensor.requires_grad = requires_grad
    for hook in (backward_hooks or {}).values():
        tensor.register_hook(hook)
    return tensor


def _rebuild_parameter(data, requires_grad, backward_hooks):
    """A ``Parameter`` over ``data`` (unpickling one, as PyTorch's)."""
    from .nn.parameter import Parameter

    param = Parameter(data, requires_grad)
    for hook in (backward_hooks or {}).values():
        param.register_hook(hook)
    return param


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    """:func:`_rebuild_parameter` with the Parameter subclass's Python attributes."""
    param = _rebuild_parameter(data, requires_grad, backward_hooks)
    param.__dict__.update(state or {})
    return param
