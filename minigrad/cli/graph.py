"""``minigrad graph``: the compute graph of one training step of a model, as a picture."""

from __future__ import annotations

from pathlib import Path

import minigrad

from .. import viz
from ..nn import functional as F
from . import registry
from ._common import CLIError, check_device, one_line
from .train import model_from_checkpoint, read_checkpoint

_DIGITS_SHAPE = (1, 8, 8)


def run(args) -> int:
    """Build the model (a name or a checkpoint), run one step, save the picture."""
    device = check_device(args.device)
    minigrad.manual_seed(args.seed)
    model, input_shape, num_classes, label = _model(args.model, device)
    model.to(device)
    x = minigrad.rand(args.batch_size, *input_shape, device=device)
    y = minigrad.randint(0, num_classes, (args.batch_size,), device=device)
    with viz.trace_modules(model) as trace:
        loss = F.cross_entropy(model(x), y)
    loss.backward()
    out = Path(args.out or f"{label}.{args.format or 'svg'}")
    options = {
        "params": {"loss": loss, **dict(model.named_parameters())},
        "module": trace,
        "grad_heat": args.grad_heat,
        "depth": args.depth,
    }
    try:
        written = viz.save_graph(out, loss, format=args.format, **options)
    except (ImportError, viz.GraphvizNotFoundError) as e:
        raise CLIError(f"{one_line(e)} (--format dot needs no Graphviz)") from None
    except ValueError as e:
        raise CLIError(one_line(e)) from None
    print(f"wrote {written}")
    return 0


def _model(name: str, device: str):
    """(model, input shape, classes, label) for a registry name or a checkpoint path."""
    if name in registry.MODELS:
        return registry.build_model(name, _DIGITS_SHAPE, 10), _DIGITS_SHAPE, 10, name
    path = Path(name)
    if not path.exists():
        raise CLIError(
            f"{name!r} is neither a model ({', '.join(registry.MODELS)}) nor a checkpoint file"
        )
    ckpt = read_checkpoint(path, device)
    shape = tuple(int(d) for d in ckpt["input_shape"])
    return model_from_checkpoint(ckpt, path), shape, int(ckpt["num_classes"]), path.stem
