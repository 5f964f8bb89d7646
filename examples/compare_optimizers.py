"""Compare optimizers on one model and one data order: SGD, SGD with momentum, Nesterov, Adam,
RMSprop and AdaGrad training the same MLP (same initial weights) on the bundled digits.

    python examples/compare_optimizers.py
    python examples/compare_optimizers.py --epochs 30 --device cuda

Writes into --out: losses.png (training loss per step, smoothed, and test accuracy per epoch for
every optimizer in one figure), results.json, and prints a table of final accuracy and time.
"""

from __future__ import annotations

import copy

import _common
from minigrad.models import MLP

import minigrad
from minigrad import optim
from minigrad.datasets import Digits
from minigrad.utils.data import DataLoader

# name -> a factory of the optimizer, with learning rates that suit each one here
OPTIMIZERS = {
    "SGD (lr 0.1)": lambda p: optim.SGD(p, lr=0.1),
    "SGD+momentum (lr 0.02, 0.9)": lambda p: optim.SGD(p, lr=0.02, momentum=0.9),
    "Nesterov (lr 0.02, 0.9)": lambda p: optim.SGD(p, lr=0.02, momentum=0.9, nesterov=True),
    "Adam (lr 1e-3)": lambda p: optim.Adam(p, lr=1e-3),
    "RMSprop (lr 1e-3)": lambda p: optim.RMSprop(p, lr=1e-3),
    "AdaGrad (lr 0.03)": lambda p: optim.Adagrad(p, lr=0.03),
}


def arguments(argv=None):
    p = _common.parser(__doc__, out="runs/compare_optimizers")
    p.add_argument("--epochs", type=int, default=15, help="default: 15")
    p.add_argument("--batch-size", type=int, default=32, help="default: 32")
    return p.parse_args(argv)


def run(name, make_optimizer, initial_model, data, args) -> dict:
    """Train a copy of ``initial_model`` with one optimizer; the data order is the same for all."""
    train_set, test_set = data
    model = copy.deepcopy(initial_model)
    optimizer = make_optimizer(model.parameters())
    generator = minigrad.Generator().manual_seed(args.seed)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, generator=generator)
    steps_per_epoch = 3 if args.smoke else len(loader)
    losses, accuracies, timer = [], [], _common.Timer()
    bar = _common.progress(range(args.epochs), not args.no_progress, desc=name, leave=False)
    for _ in bar:
        steps = _common.train_epoch(model, loader, optimizer, steps_per_epoch)
        losses.extend(loss.item() for loss, _ in steps)
        accuracies.append(_common.accuracy(model, test_set.data, test_set.targets))
        _common.set_postfix(bar, test_acc=accuracies[-1])
    seconds = timer()
    return {
        "optimizer": name,
        "step_losses": losses,
        "test_accuracy": accuracies,
        "final_test_accuracy": accuracies[-1],
        "seconds": seconds,
    }


def smooth(values, window):
    """Running mean over ``window`` steps (how noisy each optimizer is stays visible in the
    raw curve; the mean shows the trend)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v - (values[i - window] if i >= window else 0.0)
        out.append(total / min(i + 1, window))
    return out


def plot(results, steps_per_epoch, out) -> None:
    plt = _common.pyplot()
    if plt is None:
        return
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for r in results:
        a.plot(smooth(r["step_losses"], max(1, steps_per_epoch // 2)), lw=1.4, label=r["optimizer"])
        epochs = range(1, len(r["test_accuracy"]) + 1)
        b.plot(epochs, [100 * v for v in r["test_accuracy"]], "o-", ms=3, label=r["optimizer"])
    a.set(xlabel="step", ylabel="training loss (running mean)", yscale="log", title="Training loss")
    b.set(xlabel="epoch", ylabel="test accuracy (%)", title="Test accuracy", ylim=(80, 100))
    for ax in (a, b):
        ax.grid(alpha=0.3)
    a.legend(fontsize=8)
    _common.save_figure(fig, out / "losses.png")


def main(argv=None) -> dict:
    args = arguments(argv)
    device = _common.setup(args)
    data = (
        Digits(train=True, seed=args.seed, device=device),
        Digits(train=False, seed=args.seed, device=device),
    )
    initial = MLP(64, hidden=(128, 128), out_features=10).to(device)
    results = [run(name, make, initial, data, args) for name, make in OPTIMIZERS.items()]
    print(f"\n{'optimizer':<30} {'test accuracy':>13} {'time':>7}")
    for r in results:
        print(
            f"{r['optimizer']:<30} {100 * r['final_test_accuracy']:>12.2f}% {r['seconds']:>6.1f}s"
        )
    steps_per_epoch = len(results[0]["step_losses"]) // args.epochs
    summary = {
        "device": device,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "results": results,
    }
    _common.save_json(summary, args.out / "results.json")
    plot(results, steps_per_epoch, args.out)
    return summary


if __name__ == "__main__":
    main()
