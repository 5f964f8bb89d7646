"""``torch.utils._foreach_utils``: PyTorch's private helpers that optimizers written for its
multi-tensor (``_foreach_*``) functions call to group their tensors by device and dtype and to
ask which devices have those kernels (pytorch_optimizer imports them)."""

from __future__ import annotations

from ..tensor import Tensor

_foreach_supported_types = [Tensor]


def _get_foreach_kernels_supported_devices() -> list[str]:
    """The device types with multi-tensor kernels besides the CPU (PyTorch's list)."""
    return ["cuda", "xpu", "mtia", "privateuseone"]


def _get_fused_kernels_supported_devices() -> list[str]:
    """The device types with fused optimizer kernels (PyTorch's list)."""
    return ["mps", "cuda", "xpu", "hpu", "cpu", "mtia", "privateuseone"]


def _device_has_foreach_support(device) -> bool:
    return device.type in (*_get_foreach_kernels_supported_devices(), "cpu")


def _has_foreach_support(tensors: list, device) -> bool:
    """Whether ``tensors`` (None allowed) are all plain tensors on a device with the kernels."""
    supported = tuple(_foreach_supported_types)
    return _device_has_foreach_support(device) and all(
        t is None or type(t) in supported for t in tensors
    )


def _group_tensors_by_device_and_dtype(tensorlistlist: list, with_indices: bool = False) -> dict:
    """``{(device, dtype): (lists, indices)}``: each list of ``tensorlistlist`` cut into the
    entries whose tensor in the first list has that device and dtype (entries of the other
    lists may be None, and those lists empty), with their positions when ``with_indices``
    (else ``[]``).

    The groups come in the order their first tensors do (PyTorch's order is its hash map's)."""
    first = tensorlistlist[0]
    if any(len(tensors) not in (len(first), 0) for tensors in tensorlistlist):
        raise RuntimeError(
            "_group_tensors_by_device_and_dtype: every tensor list must be as long as the "
            f"first or empty, got lengths {[len(tensors) for tensors in tensorlistlist]}"
        )
    groups: dict = {}
    for i, tensor in enumerate(first):
        if tensor is None:
            raise RuntimeError(
                "Tensors of the first list of nested Tensor lists are supposed to be defined "
                f"but the {i}-th Tensor is not."
            )
        lists, indices = groups.setdefault(
            (tensor.device, tensor.dtype), ([[] for _ in tensorlistlist], [])
        )
        for out, tensors in zip(lists, tensorlistlist):
            if tensors:
                out.append(tensors[i])
        if with_indices:
            indices.append(i)
    return groups
