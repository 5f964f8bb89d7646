"""Train a small GPT on Shakespeare's sonnets, one character at a time, and sample from it.

The corpus (about 95 KB, public domain) is bundled with minigrad. The first 90% trains, the
rest measures the validation loss, which should fall well below the unigram baseline (the
entropy of the character frequencies: what a model that ignores context can reach).

    python examples/train_gpt_chars.py                     # about 1,500 steps
    python examples/train_gpt_chars.py --device cuda --steps 5000 --n-layer 4 --n-embd 128
    python examples/train_gpt_chars.py --device cuda --amp   # float16 autocast + GradScaler
    python examples/train_gpt_chars.py --amp                 # CPU: bfloat16 autocast

Writes into --out: loss.png, samples.txt, metrics.json and gpt.mg (config and weights).
"""

from __future__ import annotations

import math
from dataclasses import asdict

import _common
from minigrad.models import GPT, GPTConfig

import minigrad
from minigrad.datasets import CharDataset, shakespeare_sonnets
from minigrad.optim.lr_scheduler import LambdaLR


def arguments(argv=None):
    p = _common.parser(__doc__, out="runs/gpt_chars")
    p.add_argument("--steps", type=int, default=1500, help="training steps (default: 1500)")
    p.add_argument("--batch-size", type=int, default=32, help="default: 32")
    p.add_argument("--block-size", type=int, default=64, help="context length (default: 64)")
    p.add_argument("--n-layer", type=int, default=2, help="default: 2")
    p.add_argument("--n-head", type=int, default=4, help="default: 4")
    p.add_argument("--n-embd", type=int, default=64, help="default: 64")
    p.add_argument("--dropout", type=float, default=0.0, help="default: 0")
    p.add_argument("--lr", type=float, default=3e-3, help="peak AdamW learning rate (3e-3)")
    p.add_argument("--eval-every", type=int, default=100, help="default: 100 steps")
    p.add_argument("--temperature", type=float, default=0.8, help="sampling (default: 0.8)")
    p.add_argument("--top-k", type=int, default=10, help="sampling (default: 10)")
    p.add_argument("--sample-chars", type=int, default=600, help="default: 600")
    p.add_argument(
        "--amp",
        action="store_true",
        help="mixed precision: matmuls in float16 under autocast with a GradScaler on a GPU, "
        "bfloat16 autocast on the CPU (PyTorch's defaults)",
    )
    return p.parse_args(argv)


def unigram_entropy(data) -> float:
    """Cross-entropy (nats) of predicting each character by its frequency alone."""
    import numpy as np

    p = np.bincount(data) / len(data)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def warmup_cosine(steps: int, warmup: int):
    """Linear warm-up, then cosine decay to 10% of the peak learning rate."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return 0.1 + 0.45 * (1 + math.cos(math.pi * min(progress, 1.0)))

    return factor


@minigrad.no_grad()
def estimate_loss(model, dataset, batches, device, seed=1234) -> float:
    """Mean loss over the same ``batches`` random windows each time (a fixed generator)."""
    model.eval()
    generator = minigrad.Generator().manual_seed(seed)
    total = 0.0
    for _ in range(batches):
        x, y = dataset.get_batch(32, generator=generator, device=device)
        total += model(x, y)[1].item()
    model.train()
    return total / batches


def train(model, train_set, val_set, args, device) -> list[dict]:
    optimizer = minigrad.optim.AdamW(
        model.parameters(), lr=args.lr, weight_decay=0.1, betas=(0.9, 0.99)
    )
    scheduler = LambdaLR(optimizer, warmup_cosine(args.steps, max(1, args.steps // 20)))
    eval_batches = 2 if args.smoke else 20
    history, timer = [], _common.Timer()
    device_type = minigrad.device(device).type
    # with --amp off both are pass-throughs, as in PyTorch programs that always call them;
    # bfloat16 (the CPU's autocast dtype) has float32's range, so it needs no loss scaling
    amp_dtype = minigrad.bfloat16 if device_type == "cpu" else minigrad.float16
    scaler = minigrad.amp.GradScaler(
        device_type, enabled=args.amp and amp_dtype is minigrad.float16
    )
    bar = _common.progress(range(1, args.steps + 1), not args.no_progress, desc="training")
    for step in bar:
        x, y = train_set.get_batch(args.batch_size, device=device)
        with minigrad.autocast(device_type, dtype=amp_dtype, enabled=args.amp):
            _, loss = model(x, y)
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
        minigrad.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)  # skipped when a gradient overflowed
        scaler.update()
        scheduler.step()
        if step % args.eval_every == 0 or step == args.steps:
            val = estimate_loss(model, val_set, eval_batches, device)
            history.append(
                {"step": step, "train_loss": loss.item(), "val_loss": val, "seconds": timer()}
            )
            _common.set_postfix(bar, loss=loss.item(), val=val)
    return history


def plot(history, baseline, out) -> None:
    plt = _common.pyplot()
    if plt is None:
        return
    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(steps, [h["train_loss"] for h in history], "o-", ms=3, label="train (one batch)")
    ax.plot(steps, [h["val_loss"] for h in history], "o-", ms=3, label="validation")
    ax.axhline(baseline, color="gray", ls="--", label=f"unigram baseline ({baseline:.2f})")
    ax.set(
        xlabel="step",
        ylabel="cross-entropy (nats per character)",
        title="Character-level GPT on the sonnets",
    )
    ax.grid(alpha=0.3)
    ax.legend()
    _common.save_figure(fig, out / "loss.png")


def main(argv=None) -> dict:
    args = arguments(argv)
    if args.smoke:
        args.steps, args.eval_every, args.sample_chars = 3, 3, 40
    device = _common.setup(args)
    text = shakespeare_sonnets()
    cut = int(0.9 * len(text))
    chars = sorted(set(text))  # one vocabulary for both parts
    train_set = CharDataset(text[:cut], args.block_size, chars=chars)
    val_set = CharDataset(text[cut:], args.block_size, chars=chars)
    config = GPTConfig(
        vocab_size=train_set.vocab_size,
        block_size=args.block_size,
        n_layer=args.n_layer,
        n_head=args.n_head,
        n_embd=args.n_embd,
        dropout=args.dropout,
    )
    model = GPT(config).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    baseline = unigram_entropy(val_set.data)
    print(
        f"GPT with {n_params:,} parameters, vocabulary {config.vocab_size}, "
        f"{len(train_set.data):,} training characters; unigram baseline {baseline:.3f} nats"
    )
    history = train(model, train_set, val_set, args, device)
    prompt = minigrad.tensor([train_set.encode("\n")], device=device)
    generator = minigrad.Generator(device=device).manual_seed(args.seed)
    tokens = model.generate(
        prompt,
        args.sample_chars,
        temperature=args.temperature,
        top_k=args.top_k,
        generator=generator,
    )
    sample = train_set.decode(tokens[0].cpu())
    final = history[-1]
    print(
        f"\nvalidation loss {final['val_loss']:.3f} nats (baseline {baseline:.3f}) after "
        f"{final['step']} steps, {final['seconds']:.1f}s\n--- sample ---{sample}\n---"
    )
    (args.out / "samples.txt").write_text(sample + "\n", encoding="utf-8")
    metrics = {
        "device": device,
        "amp": args.amp,
        "parameters": n_params,
        "config": asdict(config),
        "unigram_baseline": baseline,
        "history": history,
        "final": final,
    }
    _common.save_json(metrics, args.out / "metrics.json")
    minigrad.save(
        {
            "config": asdict(config),
            "chars": "".join(train_set.chars),
            "state_dict": model.state_dict(),
        },
        args.out / "gpt.mg",
    )
    plot(history, baseline, args.out)
    return metrics


if __name__ == "__main__":
    main()
