"""The fused GPU kernels (``minigrad._fused``) against the unfused path and PyTorch CUDA.

``python -m benchmarks.fused_gpu [--device cuda] [--repeats 20] [--small] [--json PATH]``
times, at sizes that saturate a GPU, forward + backward of GELU, softmax, log-softmax, layer
norm and cross-entropy, and one optimizer step (SGD with momentum, Adam, AdamW) over 64M
parameters, each three ways, interleaved: minigrad with its fused kernels, minigrad with them
switched off, and PyTorch on the same GPU (when it sees one). Every iteration ends with a
device synchronisation; the figure is the minimum per iteration. The goal is fused minigrad
within 1.5× of PyTorch. ``--small`` shrinks every size (a smoke run, e.g. on ``fakegpu``).
"""

from __future__ import annotations

import argparse
import json
import time

import minigrad
from minigrad import _fused
from minigrad.nn import functional as F

# name: (shape of the input, the op given a functional module (F or torch.nn.functional) and
# the input; None: built in _op_step, which needs more arguments)
_OPS = {
    "gelu": ((4096, 8192), lambda f, x: f.gelu(x)),
    "gelu_tanh": ((4096, 8192), lambda f, x: f.gelu(x, approximate="tanh")),
    "softmax": ((4096, 8192), lambda f, x: f.softmax(x, -1)),
    "log_softmax": ((4096, 8192), lambda f, x: f.log_softmax(x, -1)),
    "layer_norm": ((16384, 1024), None),
    "cross_entropy": ((4096, 32000), None),
}
_OPTIMIZERS = {
    "sgd_momentum": lambda optim, ps: optim.SGD(ps, lr=0.01, momentum=0.9, weight_decay=1e-4),
    "adam": lambda optim, ps: optim.Adam(ps, lr=1e-3),
    "adamw": lambda optim, ps: optim.AdamW(ps, lr=1e-3),
}


def _op_step(lib, functional, name, shape, device, sync):
    """One forward + backward of op ``name`` in ``lib`` (minigrad or torch), synchronised."""
    lib.manual_seed(0)
    x = lib.randn(*shape, device=device, requires_grad=True)
    n = shape[-1]
    w = lib.ones(n, device=device, requires_grad=True)
    b = lib.zeros(n, device=device, requires_grad=True)
    target = lib.randint(0, n, (shape[0],), device=device)

    def forward():
        if name == "layer_norm":
            return functional.layer_norm(x, (n,), w, b)
        if name == "cross_entropy":
            return functional.cross_entropy(x, target, label_smoothing=0.1)
        return _OPS[name][1](functional, x)

    gy = None

    def step():
        nonlocal gy
        x.grad = w.grad = b.grad = None
        y = forward()
        if gy is None:
            gy = lib.ones_like(y)
        y.backward(gy)
        sync()

    return step


def _optimizer_step(lib, name, numel, device, sync):
    lib.manual_seed(0)
    params = [lib.randn(numel // 8, device=device, requires_grad=True) for _ in range(8)]
    for p in params:
        p.grad = lib.randn(*p.shape, device=device)
    opt = _OPTIMIZERS[name](lib.optim, params)

    def step():
        opt.step()
        sync()

    return step


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _time(steps: dict, repeats: int) -> dict:
    """Minimum seconds per call of each step, interleaved, after two warm-up calls."""
    for step in steps.values():
        step()
        step()
    times = {name: float("inf") for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name] = min(times[name], time.perf_counter() - start)
    return times


def run(device: str = "cuda", repeats: int = 20, small: bool = False) -> dict:
    """{workload: {"fused": s, "unfused": s, "torch": s or None, "ratio": fused / torch}}."""
    torch = _torch_cuda() if device.startswith("cuda") else None

    def mg_sync():
        if device.startswith("cuda"):
            minigrad.cuda.synchronize()

    scale = 64 if small else 1
    results = {}
    work = [(name, "op") for name in _OPS] + [(name, "optim") for name in _OPTIMIZERS]
    for name, kind in work:

        def make(lib, functional, sync, _name=name, _kind=kind):
            if _kind == "op":
                shape = _OPS[_name][0]
                shape = (max(2, shape[0] // scale), max(8, shape[1] // scale))
                return _op_step(lib, functional, _name, shape, device, sync)
            return _optimizer_step(lib, _name, 2**26 // scale**2, device, sync)

        fused = make(minigrad, F, mg_sync)
        with _fused.disabled():
            unfused = make(minigrad, F, mg_sync)
        steps = {"fused": fused, "unfused": _unfused_step(unfused)}
        if torch is not None:
            steps["torch"] = make(torch, torch.nn.functional, torch.cuda.synchronize)
        times = _time(steps, repeats)
        times.setdefault("torch", None)
        times["ratio"] = times["fused"] / times["torch"] if times["torch"] else None
        results[name] = times
    return results


def _unfused_step(step):
    def run_unfused():
        with _fused.disabled():
            step()

    return run_unfused


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fused_gpu", description=__doc__)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--small", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    results = run(args.device, args.repeats, args.small)
    print("| workload | fused ms | unfused ms | torch ms | fused / torch |")
    print("|---|---|---|---|---|")
    for name, t in results.items():
        torch_ms = f"{t['torch'] * 1e3:.3f}" if t["torch"] else "-"
        ratio = f"{t['ratio']:.2f}" if t["ratio"] else "-"
        print(
            f"| {name} | {t['fused'] * 1e3:.3f} | {t['unfused'] * 1e3:.3f} | {torch_ms} | {ratio} |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": args.device, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
