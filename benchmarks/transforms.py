"""Function transforms and checkpointing: time and memory.

``python -m benchmarks.transforms`` prints two measurements:

* per-sample gradients of an MLP over a batch of 64 with ``vmap(grad(loss))``, against one
  ordinary batched backward of the same MLP (the issue's bar: within 2×), in CPU time, with
  ``torch.func.vmap``'s figure beside it when PyTorch is installed (run with
  ``OPENBLAS_NUM_THREADS=1``: both then use one thread), and the same two computations written
  by hand in NumPy (the floor: no framework has less to do);
* peak memory (``tracemalloc``, which sees NumPy's buffers) of forward + backward through a
  16-block MLP, plain and with every block checkpointed.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import minigrad
from minigrad import func, nn
from minigrad.nn import functional as F
from minigrad.utils.checkpoint import checkpoint

from . import numpy_ref


def _mlp(width: int = 128, depth: int = 2, classes: int = 10):
    layers, d = [], 64
    for _ in range(depth):
        layers += [nn.Linear(d, width), nn.ReLU()]
        d = width
    return nn.Sequential(*layers, nn.Linear(d, classes))


def per_sample_grads(batch: int = 64, repeats: int = 40, calls: int = 5) -> dict:
    """CPU seconds per call: vmap(grad) per-sample gradients vs one batched backward.

    The variants run interleaved, ``calls`` calls in a row (so that each finds its own data in
    the caches), and each keeps its least disturbed figure (the machine may be shared); CPU
    time (``time.process_time``) leaves out the time other processes hold the CPU.
    With PyTorch installed, ``torch_ratio`` is the same measurement of ``torch.func.vmap``.
    """
    minigrad.manual_seed(0)
    model = _mlp()
    x, y = minigrad.randn(batch, 64), minigrad.randint(0, 10, (batch,))
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, xi, yi):
        return F.cross_entropy(func.functional_call(model, p, (xi.unsqueeze(0),)), yi.unsqueeze(0))

    per_sample = func.vmap(func.grad(loss), in_dims=(None, 0, 0))

    def batched():
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()

    def vectorized():
        per_sample(params, x, y)

    def loop():  # what vmap replaces: one backward pass per sample
        for i in range(batch):
            model.zero_grad()
            loss(dict(model.named_parameters()), x[i], y[i]).backward()

    weights = [(w.detach().numpy().T.copy(), b.detach().numpy()) for w, b in _layers(model)]
    xa, ya = x.numpy(), y.numpy()
    variants = {
        "batched_backward": batched,
        "vmap_grad": vectorized,
        "loop": loop,
        "numpy_batched": lambda: numpy_ref.mlp_gradients(weights, xa, ya, per_sample=False),
        "numpy_per_sample": lambda: numpy_ref.mlp_gradients(weights, xa, ya, per_sample=True),
    }
    torch_variants = _torch_per_sample_grads(batch)
    variants.update(torch_variants)
    timings = {name: float("inf") for name in variants}
    for fn in variants.values():
        fn()  # warm-up
    for i in range(repeats):
        for name, fn in variants.items():
            if name == "loop" and i % 8:  # the slow reference needs fewer samples
                continue
            n = 1 if name == "loop" else calls
            start = time.process_time()
            for _ in range(n):
                fn()
            timings[name] = min(timings[name], (time.process_time() - start) / n)
    timings["ratio"] = timings["vmap_grad"] / timings["batched_backward"]
    timings["numpy_ratio"] = timings["numpy_per_sample"] / timings["numpy_batched"]
    if torch_variants:
        timings["torch_ratio"] = timings["torch_vmap_grad"] / timings["torch_batched_backward"]
    return timings


def _layers(model):
    """(weight, bias) of each Linear of ``model``, in order."""
    return [(m.weight, m.bias) for m in model if isinstance(m, nn.Linear)]


def _torch_per_sample_grads(batch: int) -> dict:
    """The same two measurements in PyTorch (one thread), for reference; {} without torch."""
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(1)
    torch.manual_seed(0)
    lin = torch.nn.Linear
    model = torch.nn.Sequential(
        lin(64, 128), torch.nn.ReLU(), lin(128, 128), torch.nn.ReLU(), lin(128, 10)
    )
    x, y = torch.randn(batch, 64), torch.randint(0, 10, (batch,))
    params = {k: v.detach() for k, v in model.named_parameters()}
    ce = torch.nn.functional.cross_entropy

    def loss(p, xi, yi):
        return ce(torch.func.functional_call(model, p, (xi.unsqueeze(0),)), yi.unsqueeze(0))

    per_sample = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))

    def batched():
        model.zero_grad()
        ce(model(x), y).backward()

    return {
        "torch_batched_backward": batched,
        "torch_vmap_grad": lambda: per_sample(params, x, y),
    }


def checkpoint_memory(blocks: int = 16, width: int = 128, batch: int = 1024) -> dict:
    """Peak bytes allocated during forward + backward, plain and checkpointed per block."""
    minigrad.manual_seed(0)
    model = nn.ModuleList(
        [
            nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, width))
            for _ in range(blocks)
        ]
    )
    x = minigrad.randn(batch, width, requires_grad=True)

    def run(use_checkpoint: bool) -> int:
        model.zero_grad(set_to_none=False)  # gradient buffers stay: only activations count
        x.grad = None
        tracemalloc.start()
        h = x
        for block in model:
            h = checkpoint(block, h, use_reentrant=False) if use_checkpoint else block(h)
        h.pow(2).mean().backward()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    run(False)  # warm-up (gradient buffers exist in both measured runs)
    plain, ckpt = run(False), run(True)
    return {"plain_bytes": plain, "checkpoint_bytes": ckpt, "ratio": ckpt / plain}


def torch_version() -> str:
    import torch

    return torch.__version__


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.transforms",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.parse_args(argv)  # no options: --help describes the two measurements
    t = per_sample_grads()
    print(
        f"per-sample gradients, MLP 64-128-128-10, batch 64: vmap(grad) "
        f"{t['vmap_grad'] * 1e3:.2f} ms, one batched backward {t['batched_backward'] * 1e3:.2f} ms "
        f"({t['ratio']:.2f}x), a loop of backward passes {t['loop'] * 1e3:.1f} ms (CPU time)"
    )
    if "torch_ratio" in t:
        print(
            f"  PyTorch {torch_version()} on the same machine: torch.func.vmap(grad) "
            f"{t['torch_vmap_grad'] * 1e3:.2f} ms, one batched backward "
            f"{t['torch_batched_backward'] * 1e3:.2f} ms ({t['torch_ratio']:.2f}x)"
        )
    print(
        f"  hand-written NumPy, the same arithmetic with no framework: per-sample gradients "
        f"{t['numpy_per_sample'] * 1e3:.2f} ms (writing the 64 x 25,856 per-sample weight "
        f"gradients), batch gradients {t['numpy_batched'] * 1e3:.2f} ms "
        f"({t['numpy_ratio']:.2f}x)"
    )
    m = checkpoint_memory()
    print(
        f"16-block MLP (128 wide, batch 1024), peak memory of forward + backward: plain "
        f"{m['plain_bytes'] / 2**20:.1f} MiB, checkpointed {m['checkpoint_bytes'] / 2**20:.1f} MiB "
        f"({m['ratio']:.2f}x)"
    )


if __name__ == "__main__":
    main()
