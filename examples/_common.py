"""Plumbing shared by the example scripts: arguments, devices, progress bars, plots, JSON.

The examples stay readable by keeping their training loops in view and this bookkeeping here.
tqdm and matplotlib are optional: without tqdm there is no progress bar, without matplotlib no
PNG files (the JSON metrics are always written).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a source checkout without installing: find models/
    sys.path.insert(0, str(ROOT))

# One BLAS thread unless the user says otherwise: these models' matrices are small, and a
# second OpenBLAS thread costs more than it gives — far more (10-30x slower steps, measured)
# when another process is busy on the same cores. Must be set before NumPy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import minigrad  # noqa: E402
from minigrad.nn import functional as F  # noqa: E402
from minigrad.optim.lr_scheduler import CosineAnnealingLR  # noqa: E402
from minigrad.utils.data import DataLoader  # noqa: E402


def parser(description: str, out: str) -> argparse.ArgumentParser:
    """An argument parser with the options every example has."""
    p = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--out", type=Path, default=Path(out), help=f"output folder (default: {out})")
    p.add_argument("--smoke", action="store_true", help="a few batches only (for tests)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def setup(args) -> str:
    """Seed everything, create ``args.out``, and check the device; returns the device name.

    With ``--smoke`` the epoch counts drop to 2 (each epoch already stops after a few batches).
    """
    if args.smoke:
        for name in ("epochs", "pretrain_epochs"):
            if hasattr(args, name):
                setattr(args, name, min(getattr(args, name), 2))
    device = str(minigrad.device(args.device))
    if device.startswith("cuda") and not minigrad.cuda.is_available():
        sys.exit(f"error: device {device!r} needs CuPy and an NVIDIA GPU (see `minigrad info`)")
    minigrad.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    return device


def progress(iterable, enabled: bool = True, **kwargs):
    """``tqdm(iterable, **kwargs)`` if tqdm is installed and ``enabled``; else ``iterable``."""
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, file=sys.stderr, dynamic_ncols=True, **kwargs)


def set_postfix(bar, **values) -> None:
    """Show ``values`` on a tqdm bar (no-op for a plain iterable)."""
    if hasattr(bar, "set_postfix"):
        bar.set_postfix({k: f"{v:.4g}" if isinstance(v, float) else v for k, v in values.items()})


def pyplot():
    """matplotlib.pyplot with the file-only Agg backend, or None if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib is not installed: no PNG files; pip install matplotlib)")
        return None
    return plt


def save_figure(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    print(f"wrote {path}")


def plot_curves(plt, history: list[dict], path: Path) -> None:
    """Training loss and test accuracy per epoch, side by side, saved to ``path``."""
    epochs = [h["epoch"] for h in history]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.5))
    a.plot(epochs, [h["train_loss"] for h in history], "o-", ms=3)
    a.set(xlabel="epoch", ylabel="training loss (label-smoothed CE)", yscale="log")
    b.plot(epochs, [100 * h["test_accuracy"] for h in history], "o-", ms=3, color="tab:green")
    b.set(xlabel="epoch", ylabel="test accuracy (%)")
    for ax in (a, b):
        ax.grid(alpha=0.3)
    save_figure(fig, path)


def save_json(obj, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def accuracy(model, x, y, batch_size: int = 1024) -> float:
    """Fraction of rows of ``x`` that ``model`` classifies as ``y`` (eval mode, no grad)."""
    model.eval()
    correct = 0
    with minigrad.no_grad():
        for i in range(0, len(x), batch_size):
            pred = model(x[i : i + batch_size]).argmax(dim=1)
            correct += int((pred == y[i : i + batch_size]).sum().item())
    return correct / len(x)


class Timer:
    """Seconds since creation, synchronising the GPU first so that timings are honest."""

    def __init__(self):
        self.start = time.perf_counter()

    def __call__(self) -> float:
        minigrad.cuda.synchronize()
        return time.perf_counter() - self.start


def train_epoch(model, loader, optimizer, max_steps, loss_fn=F.cross_entropy, scheduler=None):
    """One epoch of training on at most ``max_steps`` batches; returns ``(loss, batch size)``
    per step, the losses as detached tensors (reading them is the caller's host sync)."""
    model.train()
    losses = []
    for step, (x, y) in enumerate(loader):
        if step == max_steps:
            break
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append((loss.detach(), len(y)))
    return losses


def train_classifier(model, train_set, test_set, args) -> list[dict]:
    """AdamW with a cosine learning-rate decay; returns one metrics dict per epoch."""
    optimizer = minigrad.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    generator = minigrad.Generator().manual_seed(args.seed)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, generator=generator)
    steps_per_epoch = 3 if args.smoke else len(loader)
    scheduler = CosineAnnealingLR(optimizer, T_max=args.epochs * steps_per_epoch)
    history, timer = [], Timer()
    bar = progress(range(1, args.epochs + 1), not args.no_progress, desc="epochs")
    for epoch in bar:
        losses = train_epoch(
            model,
            loader,
            optimizer,
            steps_per_epoch,
            lambda out, y: F.cross_entropy(out, y, label_smoothing=args.label_smoothing),
            scheduler,
        )
        train_loss = sum(loss.item() * n for loss, n in losses) / sum(n for _, n in losses)
        test_acc = accuracy(model, test_set.data, test_set.targets)
        history.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "test_accuracy": test_acc,
                "seconds": timer(),
            }
        )
        set_postfix(bar, loss=train_loss, test_acc=test_acc)
    return history


def report_classifier(model, args, device: str, history: list[dict]) -> dict:
    """Print the final accuracy; write metrics.json and the weights (model.mg) into args.out."""
    final = history[-1]
    print(f"test accuracy {100 * final['test_accuracy']:.2f}% after {final['seconds']:.1f}s")
    metrics = {
        "device": device,
        "parameters": sum(p.numel() for p in model.parameters()),
        **vars(args),
        "history": history,
        "test_accuracy": final["test_accuracy"],
        "seconds": final["seconds"],
        "out": str(args.out),
    }
    save_json(metrics, args.out / "metrics.json")
    minigrad.save(model.state_dict(), args.out / "model.mg")
    return metrics
