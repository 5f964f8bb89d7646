"""Parameter-efficient fine-tuning: pretrain an MLP on the digits 0-4, then teach it the digits
5-9 four ways and compare what each trains and how well it does:

- full fine-tuning (every weight),
- head only (a linear probe on the frozen features),
- bottleneck adapters after each hidden layer (base frozen),
- LoRA: low-rank updates of each hidden layer's frozen weight.

Every method gets a fresh 5-way output layer for the new task.

    python examples/lora_finetune.py
    python examples/lora_finetune.py --rank 2 --bottleneck 4 --device cuda

Writes into --out: finetune.png (trainable parameters and accuracy per method), results.json,
and the LoRA and adapter weights alone (minigrad.save of adapter_state_dict plus the new head).
"""

from __future__ import annotations

import _common
from minigrad.models import METHODS, MLP, count_parameters, prepare_for_finetuning

import minigrad
from minigrad.datasets import Digits
from minigrad.nn import adapters
from minigrad.utils.data import DataLoader, TensorDataset

LEARNING_RATES = {"full": 1e-3, "head": 1e-2, "adapter": 3e-3, "lora": 3e-3}


def arguments(argv=None):
    p = _common.parser(__doc__, out="runs/lora_finetune")
    p.add_argument("--pretrain-epochs", type=int, default=30, help="default: 30")
    p.add_argument("--epochs", type=int, default=50, help="fine-tuning epochs (default: 50)")
    p.add_argument("--rank", type=int, default=4, help="LoRA rank (default: 4)")
    p.add_argument("--bottleneck", type=int, default=8, help="adapter width (default: 8)")
    return p.parse_args(argv)


def task(train: bool, digits: range, seed: int, device) -> TensorDataset:
    """The Digits split restricted to ``digits``, relabelled 0..len(digits)-1."""
    full = Digits(train=train, seed=seed, device=device)
    keep = (full.targets >= digits.start) & (full.targets < digits.stop)
    return TensorDataset(full.data[keep], full.targets[keep] - digits.start)


def fit(model, train_set, epochs, lr, args, desc) -> float:
    """Adam on the trainable parameters only; returns the training time in seconds."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = minigrad.optim.Adam(params, lr=lr)
    generator = minigrad.Generator().manual_seed(args.seed)
    loader = DataLoader(train_set, batch_size=32, shuffle=True, generator=generator)
    steps_per_epoch = 3 if args.smoke else len(loader)
    timer = _common.Timer()
    for _ in _common.progress(range(epochs), not args.no_progress, desc=desc, leave=False):
        _common.train_epoch(model, loader, optimizer, steps_per_epoch)
    return timer()


def small_state(model, method):
    """What must be stored for this fine-tuned model besides the shared base weights."""
    if method == "full":
        return model.state_dict()
    head = {f"net.{len(model.net) - 1}.{k}": v for k, v in model.head.state_dict().items()}
    return {**adapters.adapter_state_dict(model), **head}


def plot(results, out) -> None:
    plt = _common.pyplot()
    if plt is None:
        return
    names = [r["method"] for r in results]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    a.bar(names, [r["trainable"] for r in results], color="tab:blue")
    a.set(ylabel="trainable parameters", yscale="log", title="What trains")
    for i, r in enumerate(results):
        a.text(i, r["trainable"], f"{r['trainable']:,}", ha="center", va="bottom", fontsize=8)
    b.bar(names, [100 * r["test_accuracy"] for r in results], color="tab:green")
    low = min(80.0, min(100 * r["test_accuracy"] for r in results) - 5)
    b.set(ylabel="test accuracy on digits 5-9 (%)", ylim=(low, 101), title="How well")
    for i, r in enumerate(results):
        b.text(
            i,
            100 * r["test_accuracy"],
            f"{100 * r['test_accuracy']:.1f}",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    _common.save_figure(fig, out / "finetune.png")


def main(argv=None) -> dict:
    args = arguments(argv)
    device = _common.setup(args)
    old_train, old_test = (task(t, range(0, 5), args.seed, device) for t in (True, False))
    new_train, new_test = (task(t, range(5, 10), args.seed, device) for t in (True, False))
    base = MLP(64, hidden=(128, 128), out_features=5).to(device)
    fit(base, old_train, args.pretrain_epochs, 1e-3, args, "pretrain on 0-4")
    base_acc = _common.accuracy(base, *old_test.tensors)
    print(f"pretrained on digits 0-4: test accuracy {100 * base_acc:.2f}%")
    results = []
    for method in METHODS:
        model = prepare_for_finetuning(
            base, method, num_classes=5, bottleneck=args.bottleneck, rank=args.rank
        )
        seconds = fit(model, new_train, args.epochs, LEARNING_RATES[method], args, method)
        acc = _common.accuracy(model, *new_test.tensors)
        results.append(
            {
                "method": method,
                "trainable": count_parameters(model),
                "total": count_parameters(model, trainable_only=False),
                "test_accuracy": acc,
                "seconds": seconds,
                "lr": LEARNING_RATES[method],
            }
        )
        minigrad.save(small_state(model, method), args.out / f"{method}_weights.mg")
    base_total = count_parameters(base, trainable_only=False)
    print(f"\n{'method':<8} {'trainable':>10} {'of base':>8} {'test acc (5-9)':>15} {'time':>6}")
    for r in results:
        print(
            f"{r['method']:<8} {r['trainable']:>10,} {100 * r['trainable'] / base_total:>7.1f}% "
            f"{100 * r['test_accuracy']:>14.2f}% {r['seconds']:>5.1f}s"
        )
    summary = {
        "device": device,
        "pretrain_accuracy_0_4": base_acc,
        "base_parameters": base_total,
        "rank": args.rank,
        "bottleneck": args.bottleneck,
        "results": results,
    }
    _common.save_json(summary, args.out / "results.json")
    plot(results, args.out)
    return summary


if __name__ == "__main__":
    main()
