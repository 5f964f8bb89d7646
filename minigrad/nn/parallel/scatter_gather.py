"""``torch.nn.parallel.scatter_gather``: ``scatter`` splits the tensors inside nested tuples,
lists and dicts into chunks along ``dim``, one per target GPU, and ``gather`` concatenates
per-GPU outputs on one device, as :class:`~minigrad.nn.parallel.DataParallel` needs (and
libraries such as captum import). Both are differentiable (``chunk``, ``to`` and ``cat``).
As in PyTorch, the targets of ``scatter`` must be GPUs and ``gather`` takes GPU tensors only."""

from __future__ import annotations

from ... import backend
from ...ops import cat
from ...tensor import Tensor

__all__ = ["gather", "scatter", "scatter_kwargs"]


def _is_namedtuple(obj) -> bool:
    return isinstance(obj, tuple) and hasattr(obj, "_asdict") and hasattr(obj, "_fields")


def _gpu(target) -> backend.device:
    """The device of a target GPU given as an index or a device (``"cpu"`` is refused)."""
    dev = backend.device("cuda", target) if isinstance(target, int) else backend.device(target)
    if dev.type == "cpu":
        raise ValueError(f"Expected a non cpu device, but got: {dev}")
    return dev


def _scatter_tensor(tensor, target_gpus, dim) -> tuple:
    devices = [_gpu(g) for g in target_gpus]
    return tuple(c.to(d) for c, d in zip(tensor.chunk(len(devices), dim), devices))


def scatter(inputs, target_gpus, dim=0):
    """Slices tensors into about equal chunks along ``dim``, one per GPU of ``target_gpus``;
    objects that are no tensors are repeated (a list with one entry per GPU)."""

    def scatter_map(obj):
        if isinstance(obj, Tensor):
            return _scatter_tensor(obj, target_gpus, dim)
        if _is_namedtuple(obj):
            return [type(obj)(*args) for args in zip(*map(scatter_map, obj))]
        if isinstance(obj, tuple) and len(obj) > 0:
            return list(zip(*map(scatter_map, obj)))
        if isinstance(obj, list) and len(obj) > 0:
            return [list(i) for i in zip(*map(scatter_map, obj))]
        if isinstance(obj, dict) and len(obj) > 0:
            return [type(obj)(i) for i in zip(*map(scatter_map, obj.items()))]
        return [obj for _ in target_gpus]

    return scatter_map(inputs)


def scatter_kwargs(inputs, kwargs, target_gpus, dim=0):
    """:func:`scatter` of the positional and the keyword arguments, padded to one tuple and
    one dict per GPU."""
    scattered_inputs = scatter(inputs, target_gpus, dim) if inputs else []
    scattered_kwargs = scatter(kwargs, target_gpus, dim) if kwargs else []
    if len(scattered_inputs) < len(scattered_kwargs):
        scattered_inputs.extend(() for _ in range(len(scattered_kwargs) - len(scattered_inputs)))
    elif len(scattered_kwargs) < len(inputs):
        scattered_kwargs.extend({} for _ in range(len(scattered_inputs) - len(scattered_kwargs)))
    return tuple(scattered_inputs), tuple(scattered_kwargs)


def _gather_tensors(tensors, target_device, dim):
    if not all(t.device.type != "cpu" for t in tensors):
        raise AssertionError("Gather function not implemented for CPU tensors")
    target = "cpu" if target_device in ("cpu", -1) else _gpu(target_device)
    return cat([t.to(target) for t in tensors], dim)


def gather(outputs, target_device, dim=0):
    """Concatenates one output per GPU (tensors, or tuples, lists and dicts of them) along
    ``dim`` on ``target_device`` (a GPU, or ``"cpu"``)."""

    def gather_map(outputs):
        out = outputs[0]
        if isinstance(out, Tensor):
            return _gather_tensors(outputs, target_device, dim)
        if out is None:
            return None
        if isinstance(out, dict):
            if not all(len(out) == len(d) for d in outputs):
                raise ValueError("All dicts must have the same number of keys")
            return type(out)((k, gather_map([d[k] for d in outputs])) for k in out)
        if _is_namedtuple(out):
            return type(out)._make(map(gather_map, zip(*outputs, strict=True)))
        return type(out)(map(gather_map, zip(*outputs, strict=True)))

    return gather_map(outputs)
