"""Train a LeNet-style CNN on the bundled 8x8 digits: about 98-99% test accuracy.

    python examples/cnn_digits.py
    python examples/cnn_digits.py --epochs 60 --device cuda

Writes into --out: metrics.json, curves.png, filters.png (the first layer's 3x3 kernels) and
model.mg (the state_dict).
"""

from __future__ import annotations

import _common
from minigrad.models import LeNet

from minigrad.datasets import Digits


def arguments(argv=None):
    p = _common.parser(__doc__, out="runs/cnn_digits")
    p.add_argument("--epochs", type=int, default=30, help="default: 30")
    p.add_argument("--batch-size", type=int, default=32, help="default: 32")
    p.add_argument("--lr", type=float, default=2e-3, help="AdamW learning rate (default: 2e-3)")
    p.add_argument("--label-smoothing", type=float, default=0.1, help="default: 0.1")
    return p.parse_args(argv)


def plot(history, model, out) -> None:
    plt = _common.pyplot()
    if plt is None:
        return
    _common.plot_curves(plt, history, out / "curves.png")

    kernels = model.features[0].weight.detach().cpu().numpy()[:, 0]  # (16, 3, 3)
    fig, axes = plt.subplots(2, len(kernels) // 2, figsize=(8, 2.3))
    for ax, k in zip(axes.flat, kernels):
        ax.imshow(k, cmap="RdBu_r", vmin=-abs(k).max(), vmax=abs(k).max())
        ax.axis("off")
    fig.suptitle("first-layer 3x3 filters (red +, blue -)", fontsize=9)
    _common.save_figure(fig, out / "filters.png")


def main(argv=None) -> dict:
    args = arguments(argv)
    device = _common.setup(args)
    train_set = Digits(train=True, seed=args.seed, flatten=False, device=device)
    test_set = Digits(train=False, seed=args.seed, flatten=False, device=device)
    model = LeNet(in_channels=1, num_classes=10, image_size=8).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"LeNet with {n_params:,} parameters; {len(train_set)} train / {len(test_set)} test")
    history = _common.train_classifier(model, train_set, test_set, args)
    metrics = _common.report_classifier(model, args, device, history)
    plot(history, model, args.out)
    return metrics


if __name__ == "__main__":
    main()
