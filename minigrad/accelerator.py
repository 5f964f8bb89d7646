"""``minigrad.accelerator``, as ``torch.accelerator``: the GPU if there is one, device-agnostic.

PyTorch's tutorials pick their device with
``torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"``;
minigrad's only accelerator is CUDA through CuPy.
"""

from __future__ import annotations

from . import backend, cuda, dtypes


def is_available() -> bool:
    """True if a CUDA GPU can be used."""
    return cuda.is_available()


def device_count() -> int:
    """The number of GPUs (0 without one)."""
    return cuda.device_count() if is_available() else 0


def current_accelerator(check_available: bool = False):
    """``minigrad.device('cuda')`` when a GPU can be used, else None (as a CPU-only PyTorch)."""
    return backend.device("cuda") if is_available() else None


def current_device_index() -> int:
    """The index of the current GPU."""
    return cuda.current_device()


def get_device_capability(device=None, /) -> dict:
    """What the accelerator ``device`` (a GPU index, ``"cuda:N"``; None: the current one) can
    do: ``{"supported_dtypes": {...}}``, the dtypes whose tensors can be put on it (CuPy has no
    bfloat16 or float8). Without a GPU, PyTorch's ``RuntimeError``."""
    if not is_available():
        raise RuntimeError("Accelerator expected")
    if device is None or isinstance(device, int):
        device = f"cuda:{current_device_index() if device is None else device}"
    dev = backend.device(device)
    supported = set()
    for dt in dtypes.ALL:
        try:
            dev.backend.check_dtype(dt.numpy)
        except (TypeError, ImportError):  # not on this device (or ml_dtypes is not installed)
            continue
        supported.add(dt)
    return {"supported_dtypes": supported}


def synchronize(device=None) -> None:
    """Wait for the GPU's queued work (without a GPU, PyTorch's ``RuntimeError``)."""
    if not is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    cuda.synchronize(device)


class device_index:  # noqa: N801 - PyTorch's name
    """Within the block the GPU ``device`` is current (``None``: nothing changes), as
    ``torch.accelerator.device_index``; the previous one is restored on exit. Without a GPU a
    device index is PyTorch's ``RuntimeError``."""

    def __init__(self, device: int | None, /) -> None:
        self.idx, self.prev_idx = device, -1

    def __enter__(self) -> None:
        if self.idx is not None:
            if not is_available():
                raise RuntimeError("Cannot access accelerator device when none is available.")
            self.prev_idx = cuda.current_device()
            cuda.set_device(self.idx)

    def __exit__(self, *exc_info: object) -> None:
        if self.idx is not None:
            cuda.set_device(self.prev_idx)


class Graph:
    """``torch.accelerator.Graph`` (capture of an accelerator's kernels for replay): without a
    GPU, PyTorch's ``RuntimeError``; with one, ``NotImplementedError``: minigrad has no
    CUDA-graph capture (its :func:`minigrad.compile` replays steps on the CPU only)."""

    def __init__(self, keep_graph: bool = False, *, pool=None, capture_error_mode="default"):
        if not is_available():
            raise RuntimeError("Cannot access accelerator device when none is available.")
        raise NotImplementedError(
            "torch.accelerator.Graph: CUDA-graph capture and replay are not implemented in minigrad"
        )
