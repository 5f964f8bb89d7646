"""``minigrad.cpu.get_capabilities``: the CPU's instruction-set features, under PyTorch's names.

PyTorch asks the cpuinfo library; here the same facts come from Linux's ``/proc/cpuinfo``
flags and ``/sys/devices/system/cpu`` (elsewhere only the architecture and core count are
known). ``cpu_name`` is /proc/cpuinfo's model name, which cpuinfo shortens for some brands.
"""

from __future__ import annotations

import functools
import os
import platform
import types
from pathlib import Path

# PyTorch's capability name -> the Linux flag that says it (x86 and ARM64)
_X86 = {
    "sse": "sse", "sse2": "sse2", "sse3": "pni", "ssse3": "ssse3", "sse4_1": "sse4_1",
    "sse4_2": "sse4_2", "sse4a": "sse4a", "avx": "avx", "avx2": "avx2", "avx_vnni": "avx_vnni",
    "avx512_f": "avx512f", "avx512_cd": "avx512cd", "avx512_dq": "avx512dq",
    "avx512_bw": "avx512bw", "avx512_vl": "avx512vl", "avx512_ifma": "avx512ifma",
    "avx512_vbmi": "avx512vbmi", "avx512_vbmi2": "avx512_vbmi2",
    "avx512_bitalg": "avx512_bitalg", "avx512_vpopcntdq": "avx512_vpopcntdq",
    "avx512_vnni": "avx512_vnni", "avx512_bf16": "avx512_bf16", "avx512_fp16": "avx512_fp16",
    "avx512_vp2intersect": "avx512_vp2intersect", "avx512_4vnniw": "avx512_4vnniw",
    "avx512_4fmaps": "avx512_4fmaps", "avx10_1": "avx10_1", "avx10_2": "avx10_2",
    "avx_vnni_int8": "avx_vnni_int8", "avx_vnni_int16": "avx_vnni_int16",
    "avx_ne_convert": "avx_ne_convert", "amx_bf16": "amx_bf16", "amx_tile": "amx_tile",
    "amx_int8": "amx_int8", "amx_fp16": "amx_fp16", "fma3": "fma", "fma4": "fma4",
    "f16c": "f16c", "bmi": "bmi1", "bmi2": "bmi2", "popcnt": "popcnt", "lzcnt": "abm",
    "aes": "aes", "sha": "sha_ni", "clflush": "clflush", "clflushopt": "clflushopt",
    "clwb": "clwb",
}  # fmt: skip
_ARM64 = {
    "neon": "asimd", "fp16_arith": "asimdhp", "bf16": "bf16", "i8mm": "i8mm", "dot": "asimddp",
    "sve": "sve", "sve2": "sve2", "sve_bf16": "svebf16", "sme": "sme", "sme2": "sme2",
    "atomics": "atomics", "fhm": "asimdfhm", "rdm": "asimdrdm", "crc32": "crc32", "aes": "aes",
    "sha1": "sha1", "sha2": "sha2", "pmull": "pmull",
}  # fmt: skip


def _cpuinfo() -> dict[str, str]:
    """The first processor's ``key: value`` lines of /proc/cpuinfo (empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    out = {}
    for line in text.split("\n\n")[0].splitlines():
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip()
    return out


def _caches() -> dict[str, int]:
    """``l1d_cache_size`` and ``l2_cache_size`` in bytes, from sysfs where it is readable."""
    out = {}
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level, kind, size = ((index / f).read_text().strip() for f in ("level", "type", "size"))
        except OSError:
            continue
        scale = {"K": 1024, "M": 1024**2}.get(size[-1:], 1)
        name = {("1", "Data"): "l1d_cache_size", ("2", "Unified"): "l2_cache_size"}.get(
            (level, kind)
        )
        if name:
            out[name] = int(size.rstrip("KM")) * scale
    return out


@functools.lru_cache(None)
def get_capabilities():
    """An immutable mapping of the CPU's capabilities (as ``torch.cpu.get_capabilities``):
    PyTorch's feature names (``avx2``, ``fma3``, ``avx512_f``; on ARM64 ``neon``, ``sve``, ...)
    to booleans, ``architecture``, core counts and cache sizes.

    Example:
        >>> caps = minigrad.cpu.get_capabilities()
        >>> caps["architecture"]
        'x86_64'
    """
    arch = platform.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)
    info = _cpuinfo()
    flags = set(info.get("flags", info.get("Features", "")).split())
    names = _X86 if arch in ("x86_64", "i686", "x86") else _ARM64 if arch == "aarch64" else {}
    caps: dict = {name: flag in flags for name, flag in names.items()}
    caps["architecture"] = arch
    caps["num_logical_cores"] = os.cpu_count() or 1
    cores = set(_core_ids())
    if cores:
        caps["num_physical_cores"] = len(cores)
        caps["num_sockets"] = len({p for p, _ in cores})
    if info.get("model name"):
        caps["cpu_name"] = info["model name"]
    caps.update(_caches())
    return types.MappingProxyType(caps)


def _core_ids() -> list[tuple[str, str]]:
    """(physical id, core id) of every logical processor in /proc/cpuinfo."""
    try:
        blocks = Path("/proc/cpuinfo").read_text().strip().split("\n\n")
    except OSError:
        return []
    out = []
    for block in blocks:
        fields = dict(line.split(":", 1) for line in block.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        if "core id" in fields:
            out.append((fields.get("physical id", "0"), fields["core id"]))
    return out
