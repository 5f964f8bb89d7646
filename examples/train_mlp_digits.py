"""Train an MLP on the bundled 8x8 digits: 97–99% test accuracy (by the seed) in a few seconds on a CPU.

    python examples/train_mlp_digits.py                 # default: 30 epochs
    python examples/train_mlp_digits.py --device cuda --epochs 50

Writes into --out: metrics.json, curves.png (loss and accuracy per epoch), confusion.png,
mistakes.png (misclassified test digits) and model.mg (minigrad.save of the state_dict).
"""

from __future__ import annotations

import _common
from minigrad.models import MLP

import minigrad
from minigrad.datasets import Digits


def arguments(argv=None):
    p = _common.parser(__doc__, out="runs/mlp_digits")
    p.add_argument("--epochs", type=int, default=30, help="default: 30")
    p.add_argument("--batch-size", type=int, default=32, help="default: 32")
    p.add_argument("--lr", type=float, default=2e-3, help="AdamW learning rate (default: 2e-3)")
    p.add_argument("--hidden", type=int, default=256, help="hidden width (default: 256)")
    p.add_argument("--label-smoothing", type=float, default=0.1, help="default: 0.1")
    return p.parse_args(argv)


def predictions(model, x):
    model.eval()
    with minigrad.no_grad():
        return model(x).argmax(dim=1).cpu().numpy()


def plot(history, test_set, predicted, out) -> None:
    """Learning curves, the confusion matrix, and the test digits the model got wrong."""
    plt = _common.pyplot()
    if plt is None:
        return
    import numpy as np

    _common.plot_curves(plt, history, out / "curves.png")

    labels = test_set.targets.cpu().numpy()
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (labels, predicted), 1)
    fig, ax = plt.subplots(figsize=(4.6, 4))
    ax.imshow(confusion, cmap="Blues")
    for (i, j), n in np.ndenumerate(confusion):
        if n:
            ax.text(
                j,
                i,
                n,
                ha="center",
                va="center",
                fontsize=7,
                color="white" if n > confusion.max() / 2 else "black",
            )
    ax.set(
        xlabel="predicted",
        ylabel="true",
        xticks=range(10),
        yticks=range(10),
        title="confusion matrix (test set)",
    )
    _common.save_figure(fig, out / "confusion.png")

    wrong = np.flatnonzero(predicted != labels)[:24]
    images = test_set.data.cpu().numpy().reshape(-1, 8, 8)
    rows = max(1, -(-len(wrong) // 8))
    fig, axes = plt.subplots(rows, 8, figsize=(8, 1.2 * rows + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong):
        ax.imshow(images[i], cmap="gray_r")
        ax.set_title(f"{labels[i]}→{predicted[i]}", fontsize=8)
    fig.suptitle("misclassified test digits (true→predicted)", fontsize=9)
    _common.save_figure(fig, out / "mistakes.png")


def main(argv=None) -> dict:
    args = arguments(argv)
    device = _common.setup(args)
    train_set = Digits(train=True, seed=args.seed, device=device)
    test_set = Digits(train=False, seed=args.seed, device=device)
    model = MLP(64, hidden=(args.hidden, args.hidden), out_features=10).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"MLP with {n_params:,} parameters; {len(train_set)} train / {len(test_set)} test digits")
    history = _common.train_classifier(model, train_set, test_set, args)
    metrics = _common.report_classifier(model, args, device, history)
    plot(history, test_set, predictions(model, test_set.data), args.out)
    return metrics


if __name__ == "__main__":
    main()
