"""Per-sample gradients with vmap(grad(...)), and DP-SGD with them, on the bundled 8x8 digits.

    python examples/per_sample_gradients.py                   # 20 epochs of DP-SGD
    python examples/per_sample_gradients.py --noise 0 --clip 1e9   # plain SGD, for comparison

Each step computes the gradient of every sample's loss separately, in one vectorized call:

    per_sample = vmap(grad(loss), in_dims=(None, 0, 0))   # params shared, x and y batched
    grads = per_sample(params, x, y)                      # {name: (batch, *param.shape)}

DP-SGD (Abadi et al., 2016) clips each sample's gradient to L2 norm ≤ --clip, sums them, adds
Gaussian noise of standard deviation --noise × --clip, and divides by the batch size. The
script first checks the per-sample gradients against a Python loop of ordinary backward
passes and times both, then trains. Writes metrics.json (and curves.png with matplotlib).
"""

from __future__ import annotations

import time

import _common

import minigrad
from minigrad import func, nn
from minigrad.datasets import Digits
from minigrad.nn import functional as F
from minigrad.utils.data import DataLoader


def arguments(argv=None):
    p = _common.parser(__doc__, out="runs/per_sample_gradients")
    p.add_argument("--epochs", type=int, default=20, help="default: 20")
    p.add_argument("--batch-size", type=int, default=64, help="default: 64")
    p.add_argument("--lr", type=float, default=0.5, help="SGD learning rate (default: 0.5)")
    p.add_argument("--clip", type=float, default=1.0, help="per-sample L2 norm bound (default: 1)")
    p.add_argument("--noise", type=float, default=0.5, help="noise multiplier σ (default: 0.5)")
    return p.parse_args(argv)


def make_loss(model):
    def loss(params, x, y):
        """One sample's loss, written as for a batch of one (vmap adds the batch)."""
        logits = func.functional_call(model, params, (x.unsqueeze(0),))
        return F.cross_entropy(logits, y.unsqueeze(0))

    return loss


def clipped_noisy_mean(grads: dict, clip: float, noise: float) -> dict:
    """DP-SGD's update direction from per-sample gradients {name: (B, *shape)}."""
    batch = next(iter(grads.values())).shape[0]
    norms = sum(g.reshape(batch, -1).pow(2).sum(1) for g in grads.values()).sqrt()  # (B,)
    scale = (clip / (norms + 1e-6)).clamp(max=1.0)
    out = {}
    for name, g in grads.items():
        clipped = g * scale.reshape((batch,) + (1,) * (g.ndim - 1))
        total = clipped.sum(0)
        if noise:
            total = total + minigrad.randn_like(total) * (noise * clip)
        out[name] = total / batch
    return out


def _cpu_ms(fn, repeats: int = 20) -> float:
    """Least CPU time of ``repeats`` calls, in ms (the machine may be shared)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return 1e3 * best


def check_against_loop(model, loss, x, y) -> dict:
    """Per-sample gradients from vmap vs a loop of backward passes: max difference and CPU
    times (each the least of several calls, after a warm-up)."""
    params = {k: v.detach() for k, v in model.named_parameters()}
    per_sample = func.vmap(func.grad(loss), in_dims=(None, 0, 0))
    fast = per_sample(params, x, y)
    slow = {k: [] for k in params}

    def loop(keep=False):
        for i in range(len(y)):
            model.zero_grad()
            loss(dict(model.named_parameters()), x[i], y[i]).backward()
            for k, p in model.named_parameters():
                if keep:
                    slow[k].append(p.grad.clone())

    def batched():
        model.zero_grad()
        F.cross_entropy(model(x), y).backward()

    loop(keep=True)
    diff = max(float((fast[k] - minigrad.stack(slow[k])).abs().max()) for k in params)
    batched()  # warm-up
    return {"max_abs_diff_vs_loop": diff, "vmap_ms": _cpu_ms(lambda: per_sample(params, x, y)),
            "loop_ms": _cpu_ms(loop, 3), "batched_backward_ms": _cpu_ms(batched)}  # fmt: skip


def main(argv=None) -> dict:
    args = arguments(argv)
    device = _common.setup(args)
    train_set = Digits(train=True, seed=args.seed, device=device)
    test_set = Digits(train=False, seed=args.seed, device=device)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)
    loss = make_loss(model)
    first = train_set.data[: args.batch_size], train_set.targets[: args.batch_size]
    check = check_against_loop(model, loss, *first)
    print(
        f"per-sample gradients of {args.batch_size} samples (CPU time): vmap(grad) "
        f"{check['vmap_ms']:.2f} ms, "
        f"a loop of backward passes {check['loop_ms']:.1f} ms, one batched backward "
        f"{check['batched_backward_ms']:.2f} ms; max |difference| "
        f"{check['max_abs_diff_vs_loop']:.1e}"
    )
    per_sample = func.vmap(func.grad(loss), in_dims=(None, 0, 0))
    generator = minigrad.Generator().manual_seed(args.seed)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, generator=generator)
    steps = 3 if args.smoke else len(loader)
    history = []
    for epoch in _common.progress(range(1, args.epochs + 1), not args.no_progress, desc="epochs"):
        model.train()
        total, count = 0.0, 0
        for step, (x, y) in enumerate(loader):
            if step == steps:
                break
            params = {k: v.detach() for k, v in model.named_parameters()}
            update = clipped_noisy_mean(per_sample(params, x, y), args.clip, args.noise)
            with minigrad.no_grad():
                for name, p in model.named_parameters():
                    p.sub_(update[name] * args.lr)
                total += float(F.cross_entropy(model(x), y)) * len(y)
            count += len(y)
        acc = _common.accuracy(model, test_set.data, test_set.targets)
        history.append({"epoch": epoch, "train_loss": total / count, "test_accuracy": acc})
    print(f"DP-SGD (clip {args.clip}, noise σ {args.noise}): test accuracy {acc:.1%}")
    metrics = {"per_sample_check": check, "test_accuracy": acc, "history": history,
               "clip": args.clip, "noise_multiplier": args.noise, "epochs": args.epochs}  # fmt: skip
    _common.save_json(metrics, args.out / "metrics.json")
    plt = _common.pyplot()
    if plt is not None:
        _common.plot_curves(plt, history, args.out / "curves.png")
    return metrics


if __name__ == "__main__":
    main()
