"""How batch size changes gradient noise, speed and accuracy: the same MLP trained on the
bundled digits with batch sizes from 8 to 512, the same learning rate and number of epochs.

    python examples/batch_size_study.py
    python examples/batch_size_study.py --batch-sizes 16 64 256 --epochs 20 --device cuda

Gradient noise: at the initial weights, the mean squared distance between a minibatch gradient
and the full-batch gradient, over many minibatches. Sampling without replacement predicts
E‖g_B − g‖² = (σ²/B)·(N − B)/(N − 1): it falls like 1/B until B nears the data set size N.

Writes into --out: batch_size.png (noise against batch size, test accuracy per epoch and
against time) and results.json.
"""

from __future__ import annotations

import copy

import _common
from minigrad.models import MLP

import minigrad
from minigrad.datasets import Digits
from minigrad.nn import functional as F
from minigrad.utils.data import DataLoader


def arguments(argv=None):
    p = _common.parser(__doc__, out="runs/batch_size_study")
    p.add_argument(
        "--batch-sizes",
        type=int,
        nargs="+",
        default=[8, 32, 128, 512],
        help="default: 8 32 128 512",
    )
    p.add_argument("--epochs", type=int, default=10, help="default: 10")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default: 1e-3)")
    p.add_argument(
        "--noise-samples",
        type=int,
        default=50,
        help="minibatches per batch size for the noise estimate (default: 50)",
    )
    return p.parse_args(argv)


def flat_grad(model, x, y):
    """The gradient of the mean cross-entropy on (x, y) as one vector."""
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    return minigrad.cat([p.grad.reshape(-1) for p in model.parameters()])


def gradient_noise(model, train_set, batch_size, samples, generator) -> float:
    """Mean of ‖g_B − g‖² over ``samples`` random minibatches of ``batch_size``."""
    x, y = train_set.data, train_set.targets
    full = flat_grad(model, x, y)
    total = 0.0
    for _ in range(samples):
        idx = minigrad.randperm(len(x), generator=generator)[:batch_size].to(x.device)
        total += float(((flat_grad(model, x[idx], y[idx]) - full) ** 2).sum().item())
    return total / samples


def train(model, train_set, test_set, batch_size, args) -> dict:
    optimizer = minigrad.optim.Adam(model.parameters(), lr=args.lr)
    generator = minigrad.Generator().manual_seed(args.seed)
    loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=generator)
    steps_per_epoch = min(3, len(loader)) if args.smoke else len(loader)
    accuracies, seconds, timer = [], [], _common.Timer()
    for _ in _common.progress(
        range(args.epochs), not args.no_progress, desc=f"batch {batch_size}", leave=False
    ):
        _common.train_epoch(model, loader, optimizer, steps_per_epoch)
        seconds.append(timer())
        accuracies.append(_common.accuracy(model, test_set.data, test_set.targets))
    return {
        "batch_size": batch_size,
        "steps": steps_per_epoch * args.epochs,
        "test_accuracy": accuracies,
        "seconds": seconds,
        "seconds_per_epoch": seconds[-1] / args.epochs,
    }


def plot(results, n_train, out) -> None:
    plt = _common.pyplot()
    if plt is None:
        return
    sizes = [r["batch_size"] for r in results]
    noise = [r["gradient_noise"] for r in results]
    b0, n = sizes[0], n_train
    predicted = [noise[0] * b0 / s * (n - s) / (n - b0) for s in sizes]  # fitted at the first B
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    a, b, c = axes
    a.loglog(sizes, noise, "o-", label="measured")
    a.loglog(sizes, predicted, "k--", lw=0.8, label="σ²/B·(N−B)/(N−1)")
    a.set(xlabel="batch size B", ylabel="E‖g_B − g‖²", title="Gradient noise at initialisation")
    a.legend(fontsize=8)
    for r in results:
        epochs = range(1, len(r["test_accuracy"]) + 1)
        acc = [100 * v for v in r["test_accuracy"]]
        b.plot(epochs, acc, "o-", ms=3, label=f"B={r['batch_size']} ({r['steps']} steps)")
        c.plot(r["seconds"], acc, "o-", ms=3, label=f"B={r['batch_size']}")
    b.set(xlabel="epoch", ylabel="test accuracy (%)", title="Accuracy per epoch")
    c.set(
        xlabel="seconds (log scale)",
        ylabel="test accuracy (%)",
        xscale="log",
        title="Accuracy against training time",
    )
    b.legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
    _common.save_figure(fig, out / "batch_size.png")


def main(argv=None) -> dict:
    args = arguments(argv)
    device = _common.setup(args)
    train_set = Digits(train=True, seed=args.seed, device=device)
    test_set = Digits(train=False, seed=args.seed, device=device)
    initial = MLP(64, hidden=(128, 128), out_features=10).to(device)
    generator = minigrad.Generator().manual_seed(args.seed)
    samples = 3 if args.smoke else args.noise_samples
    results = []
    for b in args.batch_sizes:
        noise = gradient_noise(copy.deepcopy(initial), train_set, b, samples, generator)
        results.append(
            {**train(copy.deepcopy(initial), train_set, test_set, b, args), "gradient_noise": noise}
        )
    print(f"\n{'batch':>5} {'grad noise':>11} {'steps':>6} {'s/epoch':>8} {'test acc':>9}")
    for r in results:
        print(
            f"{r['batch_size']:>5} {r['gradient_noise']:>11.4f} {r['steps']:>6} "
            f"{r['seconds_per_epoch']:>8.3f} {100 * r['test_accuracy'][-1]:>8.2f}%"
        )
    summary = {"device": device, "epochs": args.epochs, "lr": args.lr, "results": results}
    _common.save_json(summary, args.out / "results.json")
    plot(results, len(train_set), args.out)
    return summary


if __name__ == "__main__":
    main()
