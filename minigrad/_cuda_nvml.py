"""``minigrad.cuda``'s readings from NVIDIA's management library (NVML, through the
``nvidia-ml-py`` package, ``import pynvml``), as PyTorch takes them: utilisation,
temperature, power, clock, and the processes using a GPU. NVML numbers the GPUs as the
driver does (``CUDA_VISIBLE_DEVICES`` is not applied)."""

from __future__ import annotations

from ._cuda_common import index_of

_NVML_TEMPERATURE_GPU, _NVML_CLOCK_SM = 0, 1  # NVML's enum values


def _pynvml():
    try:
        import pynvml
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "nvidia-ml-py does not seem to be installed or it can't be imported."
        ) from None
    return pynvml


def _handle(device):
    pynvml = _pynvml()
    pynvml.nvmlInit()
    return pynvml, pynvml.nvmlDeviceGetHandleByIndex(index_of(device))


def utilization(device=None) -> int:
    """Percent of the last sample period in which a kernel ran on ``device``."""
    pynvml, handle = _handle(device)
    return pynvml.nvmlDeviceGetUtilizationRates(handle).gpu


def memory_usage(device=None) -> int:
    """Percent of the last sample period in which ``device``'s memory was read or written."""
    pynvml, handle = _handle(device)
    return pynvml.nvmlDeviceGetUtilizationRates(handle).memory


def temperature(device=None) -> int:
    """``device``'s temperature in degrees Celsius."""
    pynvml, handle = _handle(device)
    return pynvml.nvmlDeviceGetTemperature(handle, _NVML_TEMPERATURE_GPU)


def power_draw(device=None) -> int:
    """``device``'s power draw in milliwatts."""
    pynvml, handle = _handle(device)
    return pynvml.nvmlDeviceGetPowerUsage(handle)


def clock_rate(device=None) -> int:
    """``device``'s streaming-multiprocessor clock in MHz."""
    pynvml, handle = _handle(device)
    return pynvml.nvmlDeviceGetClockInfo(handle, _NVML_CLOCK_SM)


def device_memory_used(device=None) -> int:
    """Bytes of ``device``'s memory in use, by every process."""
    pynvml, handle = _handle(device)
    return pynvml.nvmlDeviceGetMemoryInfo(handle).used


def list_gpu_processes(device=None) -> str:
    """The processes running on ``device`` and the memory each uses, one line each (a line
    saying what is missing where NVML is not installed or the driver not loaded)."""
    try:
        pynvml = _pynvml()
    except ModuleNotFoundError:
        return "pynvml module not found, please install nvidia-ml-py"
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError_DriverNotLoaded:
        return "cuda driver can't be loaded, is cuda enabled?"
    index = index_of(device)
    processes = pynvml.nvmlDeviceGetComputeRunningProcesses(
        pynvml.nvmlDeviceGetHandleByIndex(index)
    )
    lines = [f"GPU:{index}"]
    if not processes:
        lines.append("no processes are running")
    for p in processes:
        lines.append(f"process {p.pid:>10d} uses {p.usedGpuMemory / 2**20:>12.3f} MB GPU memory")
    return "\n".join(lines)
