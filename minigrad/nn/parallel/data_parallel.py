"""``DataParallel`` and ``data_parallel``: single-process data parallelism
(``torch.nn.parallel.data_parallel``), as far as minigrad goes: no GPU, or one GPU.

Programs of the DCGAN and ImageNet examples wrap their models unconditionally
(``model = nn.DataParallel(model)``) or call ``nn.parallel.data_parallel`` when ``ngpu > 1``.
With no GPU, PyTorch's ``DataParallel`` simply calls the module, and with one GPU it moves the
inputs to that GPU and calls the module there; minigrad does the same. Splitting a batch over
several GPUs (replicas in one process) is not built: it raises ``NotImplementedError`` and
names ``DistributedDataParallel``, which PyTorch itself recommends instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import chain

from ... import backend, cuda
from ...tensor import Tensor
from ..modules.module import Module


def _device_type() -> str | None:
    """The GPU device type, or None without one (PyTorch's ``_get_available_device_type``)."""
    return "cuda" if cuda.is_available() else None


def _all_devices(type_: str) -> list[int]:
    return list(range(backend.get_backend(type_).device_count()))


def _device_index(device, type_: str) -> int:
    if isinstance(device, int):
        return device
    dev = backend.device(device)
    if dev.type != type_:
        raise ValueError(f"DataParallel: expected a {type_} device or index, got {device!r}")
    return dev.index or 0


def _to_device(obj, dev):
    """``obj`` with every tensor inside (tuples, lists, dicts) moved to ``dev``, differentiably."""
    if isinstance(obj, Tensor):
        return obj.to(dev)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a namedtuple
        return type(obj)(*(_to_device(o, dev) for o in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(o, dev) for o in obj)
    if isinstance(obj, Mapping):
        return type(obj)((k, _to_device(v, dev)) for k, v in obj.items())
    return obj


def _check_and_run(module, type_, device_ids, inputs, kwargs, name):
    if len(device_ids) > 1:
        raise NotImplementedError(
            f"{name} over {len(device_ids)} GPUs (device_ids={list(device_ids)}): minigrad "
            "runs DataParallel on no GPU or one GPU only; use "
            "minigrad.nn.parallel.DistributedDataParallel (one process per GPU) instead"
        )
    src = backend.device(type_, device_ids[0])
    for t in chain(module.parameters(), module.buffers()):
        if t.device != src:
            raise RuntimeError(
                f"module must have its parameters and buffers on device {src} (device_ids[0]) "
                f"but found one of them on device: {t.device}"
            )
    return module(*_to_device(tuple(inputs), src), **_to_device(dict(kwargs), src))


class DataParallel(Module):
    """``torch.nn.DataParallel``: runs ``module`` on the batch, on the GPU in ``device_ids``.

    Without a GPU (``minigrad.cuda.is_available()`` false) the wrapper only calls ``module``,
    as PyTorch's does. With one GPU, ``module`` is moved to ``cuda:device_ids[0]`` at
    construction and every tensor in the inputs is moved there (differentiably) before the
    call; the output stays there, as in PyTorch. The state dict keys get the ``module.``
    prefix, as in PyTorch. Difference: more than one device id raises ``NotImplementedError``
    (no replicas in one process; use ``DistributedDataParallel``).

    Args:
        module: the model.
        device_ids: GPU indices or devices (default: all GPUs).
        output_device: where outputs of a multi-GPU run would be gathered (default
            ``device_ids[0]``).
        dim: the batch dimension inputs would be split along.

    Example:
        >>> model = nn.DataParallel(nn.Linear(4, 2))
        >>> model(minigrad.randn(8, 4)).shape
        minigrad.Size([8, 2])
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        self.module = module
        self.device_type = _device_type()
        if self.device_type is None:
            self.device_ids = []
            return
        if device_ids is None:
            device_ids = _all_devices(self.device_type)
        if output_device is None:
            output_device = device_ids[0]
        self.dim = dim
        self.device_ids = [_device_index(d, self.device_type) for d in device_ids]
        self.output_device = _device_index(output_device, self.device_type)
        self.src_device_obj = backend.device(self.device_type, self.device_ids[0])
        if len(self.device_ids) == 1:
            self.module.to(self.src_device_obj)

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        return _check_and_run(
            self.module, self.device_type, self.device_ids, inputs, kwargs, "DataParallel"
        )


def data_parallel(
    module: Module, inputs, device_ids=None, output_device=None, dim: int = 0, module_kwargs=None
):
    """``torch.nn.parallel.data_parallel``: the functional form of :class:`DataParallel`.

    Evaluates ``module(*inputs, **module_kwargs)`` on ``cuda:device_ids[0]``, whose parameters
    must already be there. As in PyTorch, it needs a GPU: without one it raises
    ``RuntimeError``. Difference: more than one device id raises ``NotImplementedError``.
    """
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    type_ = _device_type()
    if type_ is None:
        raise RuntimeError("data_parallel: device type could not be determined (no GPU found)")
    if device_ids is None:
        device_ids = _all_devices(type_)
    device_ids = [_device_index(d, type_) for d in device_ids]
    return _check_and_run(module, type_, device_ids, inputs, module_kwargs or {}, "data_parallel")
