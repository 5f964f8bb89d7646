"""``minigrad info``: versions, backends, devices, the BLAS that NumPy uses and its threads."""

from __future__ import annotations

import json
import platform
import shutil
from importlib import metadata

import numpy as np

from .. import __version__, _runtime, backend


def run(args) -> int:
    """Print the report (or, with ``--json``, the same facts as JSON)."""
    facts = collect()
    if args.json:
        print(json.dumps(facts, indent=2))
    else:
        print(format_report(facts))
    return 0


def collect() -> dict:
    """Everything ``minigrad info`` reports, as plain data."""
    return {
        "minigrad": __version__,
        "python": f"{platform.python_version()} ({platform.python_implementation()}, "
        f"{platform.system()} {platform.machine()})",
        "numpy": np.__version__,
        "blas": _blas(),
        "blas_pools": _runtime.blas_info(),
        "threads": {"blas": _runtime.get_num_threads(), "policy": _runtime.thread_policy},
        "malloc": _runtime.malloc_tuning,
        "gc": _runtime.gc_tuning,
        "numpy_warnings": _runtime.numpy_warnings,
        "cuda": _cuda(),
        "optional": {name: _version(name) for name in ("tqdm", "matplotlib", "graphviz", "torch")},
        "graphviz_dot": shutil.which("dot"),
    }


def format_report(facts: dict) -> str:
    """The human-readable report."""
    cuda = facts["cuda"]
    lines = [
        f"minigrad     {facts['minigrad']}",
        f"Python       {facts['python']}",
        f"NumPy        {facts['numpy']}",
        f"BLAS         {facts['blas']}",
        *_pool_lines(facts["blas_pools"]),
        f"Threads      {facts['threads']['blas']} BLAS thread(s): {facts['threads']['policy']}",
        f"malloc       {facts['malloc']}",
        f"gc           {facts['gc']}",
        f"FP warnings  {facts['numpy_warnings']}",
        f"Backends     cpu (NumPy), cuda (CuPy: {cuda['status']})",
        "Devices      cpu" + "".join(f"\n             {d}" for d in cuda["devices"]),
    ]
    optional = ", ".join(f"{k} {v or 'not installed'}" for k, v in facts["optional"].items())
    lines.append(f"Optional     {optional}")
    lines.append(f"Graphviz     {facts['graphviz_dot'] or 'dot program not found'}")
    return "\n".join(lines)


def _pool_lines(pools: list[dict]) -> list[str]:
    """One line per BLAS library loaded (from threadpoolctl): what it is and its threads."""
    if not pools:
        return ["             (threadpoolctl sees no BLAS pool: thread count not controllable)"]
    return [
        f"             loaded: {p['internal_api']} {p.get('version') or ''} "
        f"({p.get('architecture') or '?'}, {p.get('threading_layer') or '?'} threading), "
        f"{p['num_threads']} thread(s), {p['filepath']}"
        for p in pools
    ]


def _version(distribution: str) -> str | None:
    """The installed version of ``distribution`` (read from its metadata: no import)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _blas() -> str:
    """NumPy's BLAS (name, version) from ``numpy.show_config(mode='dicts')`` (NumPy ≥ 1.25)."""
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
    except Exception:  # older NumPy or an unusual build: report what is known
        return "unknown (numpy.show_config() has no 'dicts' mode here)"
    text = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    threading = blas.get("openblas configuration")
    return f"{text} ({threading})" if threading and threading != "unknown" else text


def _cuda() -> dict:
    """CuPy's version, the CUDA runtime and driver versions, and each GPU."""
    return backend.get_backend("cuda").describe()
