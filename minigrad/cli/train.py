"""``minigrad train`` and ``minigrad eval``: fit a small model, write metrics, plot, checkpoint."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import minigrad

from .. import cuda, nn
from ..nn import functional as F
from ..utils.data import DataLoader
from . import registry
from ._common import CLIError, check_device, has_tqdm, one_line, progress, set_threads

CHECKPOINT_KIND = "minigrad-cli-classifier"
CHECKPOINT_NAME = "checkpoint.mg"


# -- train ----------------------------------------------------------------------------------------
def run_train(args) -> int:
    """Train, evaluate after each epoch, then write metrics.json, loss_curve.png, checkpoint.mg.

    With ``--nproc-per-node N`` (N > 1) the command starts itself on N processes through the
    launcher; each rank trains a DistributedDataParallel copy of the model on its
    DistributedSampler shard, and rank 0 reports and writes the outputs.
    """
    nproc = getattr(args, "nproc_per_node", 1)
    if nproc > 1 and "WORLD_SIZE" not in os.environ:
        from ..distributed import run as launcher

        argv = getattr(args, "argv", None) or ["train"]
        return launcher.main(["--nproc-per-node", str(nproc), "-m", "minigrad", *argv])
    set_threads(args)
    dist = _start_distributed(nproc)
    rank = dist.get_rank() if dist else 0
    device = check_device(_rank_device(args.device, dist))
    minigrad.manual_seed(args.seed)
    train_set = _dataset(args.dataset, True, device, args.download, args.seed)
    test_set = _dataset(args.dataset, False, device, args.download, args.seed)
    input_shape, num_classes = tuple(train_set.data.shape[1:]), len(train_set.classes)
    model = registry.build_model(args.model, input_shape, num_classes).to(device)
    trained, sampler = model, None
    if dist:
        from ..nn.parallel import DistributedDataParallel
        from ..utils.data import DistributedSampler

        trained = DistributedDataParallel(model)
        sampler = DistributedSampler(train_set, shuffle=True, seed=args.seed)
    opt = registry.make_optimizer(args.optimizer, trained.parameters(), args.lr, args.weight_decay)
    lr = opt.param_groups[0]["lr"]
    n_params = sum(p.numel() for p in model.parameters())
    ranks = f" x {dist.get_world_size()} processes" if dist else ""
    if rank == 0:
        print(
            f"training {args.model} ({n_params:,} parameters) on {args.dataset} "
            f"({len(train_set)} train / {len(test_set)} test) with {args.optimizer} lr={lr:g}, "
            f"batch {args.batch_size}{ranks}, {args.epochs} epochs, {device}"
        )
    writer = _tensorboard_writer(getattr(args, "tensorboard", None)) if rank == 0 else None
    if writer is not None:
        writer.add_graph(model, train_set[0][0].unsqueeze(0))
    try:
        history, steps = fit(
            trained,
            opt,
            train_set,
            test_set,
            args,
            sampler=sampler,
            eval_model=model,
            report=rank == 0,
            writer=writer,
        )
    except BaseException:
        if writer is not None:
            writer.close()
        raise
    config = {**_config(args), "device": device, "lr": lr, "parameters": n_params}
    if dist:
        config["processes"] = dist.get_world_size()
    if rank == 0:
        out = Path(args.out or f"runs/{args.model}-{args.dataset}")
        _write_outputs(out, model, opt, config, history, steps, input_shape, num_classes)
        if writer is not None:
            _log_hparams(writer, config, history[-1])
            writer.close()
    if dist:
        dist.barrier()
        dist.destroy_process_group()
    return 0


def _start_distributed(nproc: int):
    """``minigrad.distributed`` with its process group started, when this is a rank of a
    ``--nproc-per-node`` job; else None."""
    if nproc <= 1 or "WORLD_SIZE" not in os.environ:
        return None
    from .. import distributed as dist

    dist.init_process_group()
    if dist.get_world_size() != nproc:
        raise CLIError(
            f"--nproc-per-node {nproc} but the job has {dist.get_world_size()} processes"
        )
    return dist


def _rank_device(name: str, dist) -> str:
    """With several processes on one machine, ``cuda`` means this process's own GPU."""
    if dist is None or name != "cuda":
        return name
    count = max(cuda.device_count(), 1)
    return f"cuda:{int(os.environ.get('LOCAL_RANK', 0)) % count}"


def _dataset(name, train, device, download, seed):
    try:
        return registry.load_dataset(name, train, device, download, seed)
    except FileNotFoundError as e:
        raise CLIError(f"{one_line(e)} (or run with --download)") from None
    except (RuntimeError, ValueError) as e:
        raise CLIError(one_line(e)) from None


def _tensorboard_writer(log_dir):
    if not log_dir:
        return None
    try:
        from ..utils.tensorboard import SummaryWriter
    except ImportError as e:
        raise CLIError(f"--tensorboard: {one_line(e)}") from None
    return SummaryWriter(log_dir)


def _log_hparams(writer, config: dict, final: dict) -> None:
    hparams = {k: v for k, v in config.items() if isinstance(v, (int, float, str, bool))}
    metrics = {
        "hparam/test_accuracy": final["test_accuracy"],
        "hparam/test_loss": final["test_loss"],
    }
    writer.add_hparams(hparams, metrics, run_name="hparams")


def fit(
    model,
    opt,
    train_set,
    test_set,
    args,
    sampler=None,
    eval_model=None,
    report=True,
    writer=None,
) -> tuple[list, list]:
    """The training loop; returns per-epoch metrics and the per-step training losses.

    ``sampler`` (a DistributedSampler) replaces the shuffle; ``eval_model`` is evaluated
    instead of ``model`` (the module inside a DistributedDataParallel); ``report`` prints.
    With a TensorBoard ``writer``: the loss of every step, and per epoch the metrics and a
    histogram of every parameter.
    """
    if sampler is None:
        generator = minigrad.Generator().manual_seed(args.seed)
        loader = DataLoader(
            train_set, batch_size=args.batch_size, shuffle=True, generator=generator
        )
    else:
        loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)
    history, steps, start = [], [], time.perf_counter()
    show_bar = report and not args.no_progress and has_tqdm()
    for epoch in range(1, args.epochs + 1):
        if sampler is not None:
            sampler.set_epoch(epoch)
        model.train()
        bar = progress(loader, len(loader), f"epoch {epoch}/{args.epochs}", show_bar)
        first = len(steps)
        for i, (xb, yb) in enumerate(bar):
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps.append(loss.item())
            if writer is not None:
                writer.add_scalar("train/loss", steps[-1], len(steps))
            if show_bar and i % 10 == 0:
                bar.set_postfix(loss=f"{steps[-1]:.4f}")
            if args.max_steps and i + 1 >= args.max_steps:
                break
        if show_bar:
            bar.close()
        history.append(_epoch_metrics(eval_model or model, test_set, epoch, steps[first:], start))
        if writer is not None:
            for key in ("train_loss", "test_loss", "test_accuracy"):
                writer.add_scalar(f"epoch/{key}", history[-1][key], epoch)
            for name, p in (eval_model or model).named_parameters():
                writer.add_histogram(name, p, epoch)
        if report:
            _report(history[-1], args.epochs)
    return history, steps


def _epoch_metrics(model, test_set, epoch, epoch_steps, start) -> dict:
    test_loss, test_acc = evaluate(model, test_set)
    return {
        "epoch": epoch,
        "train_loss": sum(epoch_steps) / max(len(epoch_steps), 1),
        "test_loss": test_loss,
        "test_accuracy": test_acc,
        "seconds": time.perf_counter() - start,
    }


def _report(m: dict, epochs: int) -> None:
    print(
        f"epoch {m['epoch']:>3}/{epochs}  train loss {m['train_loss']:.4f}  "
        f"test loss {m['test_loss']:.4f}  test accuracy {100 * m['test_accuracy']:.2f}%  "
        f"({m['seconds']:.1f}s)",
        flush=True,
    )


def evaluate(model: nn.Module, dataset, batch_size: int = 1000) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on ``dataset`` (eval mode, no grad)."""
    model.eval()
    total_loss, correct, n = 0.0, 0, 0
    with minigrad.no_grad():
        for xb, yb in DataLoader(dataset, batch_size=batch_size):
            logits = model(xb)
            total_loss += F.cross_entropy(logits, yb, reduction="sum").item()
            correct += int((logits.argmax(dim=1) == yb).sum().item())
            n += len(yb)
    return total_loss / n, correct / n


def _config(args) -> dict:
    keys = ("model", "dataset", "optimizer", "weight_decay", "batch_size", "epochs", "seed")
    return {k: getattr(args, k) for k in keys}


def _write_outputs(out, model, opt, config, history, steps, input_shape, num_classes) -> None:
    out.mkdir(parents=True, exist_ok=True)
    final = history[-1]
    metrics = {**config, "history": history, "final": final, "train_step_losses": steps}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    checkpoint = {
        "kind": CHECKPOINT_KIND,
        "minigrad_version": minigrad.__version__,
        "model": config["model"],
        "dataset": config["dataset"],
        "seed": config["seed"],
        "input_shape": list(input_shape),
        "num_classes": num_classes,
        "state_dict": model.state_dict(),
        "optimizer": opt.state_dict(),
        "final": final,
    }
    minigrad.save(checkpoint, out / CHECKPOINT_NAME)
    plotted = plot_losses(out / "loss_curve.png", steps, history)
    print(f"final test accuracy {100 * final['test_accuracy']:.2f}% in {final['seconds']:.1f}s")
    files = ["metrics.json", CHECKPOINT_NAME] + (["loss_curve.png"] if plotted else [])
    print(f"wrote {', '.join(str(out / f) for f in files)}")
    if not plotted:
        print("(no loss_curve.png: pip install matplotlib to get one)")


def plot_losses(path: Path, steps: list, history: list) -> bool:
    """Training loss per step (and its running mean), test loss and accuracy per epoch.

    Returns:
        False (and writes nothing) when matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    per_epoch = len(steps) / len(history)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8), dpi=110)
    x = range(1, len(steps) + 1)
    ax.plot(x, steps, color="#9ecae1", lw=0.8, label="train (each step)")
    ax.plot(
        x,
        _running_mean(steps, max(1, round(per_epoch))),
        color="#3182bd",
        lw=1.6,
        label="train (running mean over an epoch)",
    )
    epochs_x = [m["epoch"] * per_epoch for m in history]
    ax.plot(epochs_x, [m["test_loss"] for m in history], "o-", color="#e6550d", ms=4, label="test")
    ax.set(xlabel="step", ylabel="cross-entropy loss", yscale="log", title="Loss")
    ax.legend(fontsize=8)
    ax2.plot(
        [m["epoch"] for m in history],
        [100 * m["test_accuracy"] for m in history],
        "s-",
        color="#31a354",
        ms=4,
    )
    ax2.set(xlabel="epoch", ylabel="test accuracy (%)", title="Test accuracy")
    for a in (ax, ax2):
        a.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def _running_mean(values: list, window: int) -> list:
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v - (values[i - window] if i >= window else 0.0)
        out.append(total / min(i + 1, window))
    return out


# -- eval -----------------------------------------------------------------------------------------
def run_eval(args) -> int:
    """Load a checkpoint written by ``minigrad train`` and report its test accuracy."""
    set_threads(args)
    device = check_device(args.device)
    ckpt = read_checkpoint(args.checkpoint, device)
    model = model_from_checkpoint(ckpt, args.checkpoint)
    model.to(device)
    test_set = _dataset(ckpt["dataset"], False, device, args.download, int(ckpt.get("seed", 0)))
    loss, acc = evaluate(model, test_set, args.batch_size)
    result = {
        "checkpoint": str(args.checkpoint),
        "model": ckpt["model"],
        "dataset": ckpt["dataset"],
        "test_loss": loss,
        "test_accuracy": acc,
        "samples": len(test_set),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{ckpt['model']} on {ckpt['dataset']} test set: accuracy {100 * acc:.2f}% "
            f"({round(acc * len(test_set))}/{len(test_set)}), loss {loss:.4f}"
        )
    return 0


def read_checkpoint(path, device: str) -> dict:
    """The checkpoint dict at ``path``, or a :class:`CLIError` saying what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise CLIError(
            f"no checkpoint at {str(path)!r} ({'a folder' if path.is_dir() else 'no such file'})"
        )
    try:
        ckpt = minigrad.load(path, map_location=device)
    except (RuntimeError, ValueError, OSError, KeyError, TypeError) as e:
        raise CLIError(f"cannot read checkpoint: {one_line(e)}") from None
    if not isinstance(ckpt, dict) or ckpt.get("kind") != CHECKPOINT_KIND:
        raise CLIError(
            f"{str(path)!r} is a minigrad file but not a checkpoint written by `minigrad train`"
        )
    return ckpt


def model_from_checkpoint(ckpt: dict, path) -> nn.Module:
    """Rebuild the checkpoint's model and load its weights."""
    try:
        shape, classes = tuple(int(d) for d in ckpt["input_shape"]), int(ckpt["num_classes"])
        model = registry.build_model(ckpt["model"], shape, classes)
        model.load_state_dict(ckpt["state_dict"])
    except (KeyError, ValueError, TypeError, RuntimeError) as e:
        raise CLIError(
            f"checkpoint {str(path)!r} is incomplete or damaged: {one_line(e)}"
        ) from None
    return model
