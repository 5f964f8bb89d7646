"""Draw the compute graph of one training step of a small MLP (or of a second-order graph).

Ops are drawn inside a box for the module that ran them, parameters are coloured by the size of
their gradient (log scale), and every box shows its shape:

    python examples/visualize_graph.py --out docs/mlp_step.svg
    python examples/visualize_graph.py --second-order --out docs/second_order.svg
    python examples/visualize_graph.py --format dot       # DOT text, needs no Graphviz

Rendering needs the graphviz package (pip install 'minigrad[viz]') and the Graphviz programs
(apt-get install graphviz, or brew install graphviz).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import minigrad
import minigrad.viz
from minigrad import nn


class MLP(nn.Module):
    """Three linear layers with sigmoids: gradients shrink on the way back to ``fc1``."""

    def __init__(self, n_in=4, hidden=8, n_out=1):
        super().__init__()
        self.fc1, self.act1 = nn.Linear(n_in, hidden), nn.Sigmoid()
        self.fc2, self.act2 = nn.Linear(hidden, hidden), nn.Sigmoid()
        self.fc3 = nn.Linear(hidden, n_out)

    def forward(self, x):
        return self.fc3(self.act2(self.fc2(self.act1(self.fc1(x)))))


def mlp_step(args):
    """One training step of the MLP; returns the loss and the module trace."""
    minigrad.manual_seed(args.seed)
    model = MLP()
    x = minigrad.randn(16, 4)
    y = x.sum(dim=1, keepdim=True).sin()
    with minigrad.viz.trace_modules(model) as trace:
        loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    names = {"loss": loss, **dict(model.named_parameters())}
    return (loss,), {"params": names, "module": trace}


def second_order(args):
    """y = sum(tanh(x) * x), its gradient made with create_graph=True, and a backward of it."""
    x = minigrad.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = (x.tanh() * x).sum()
    (dy_dx,) = minigrad.autograd.grad(y, x, create_graph=True)
    (dy_dx**2).sum().backward()  # differentiates the gradient: fills x.grad
    return (y, dy_dx), {"params": {"x": x, "y": y, "dy/dx": dy_dx}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--out", type=pathlib.Path, help="output file (default: graph.FORMAT)")
    add("--format", choices=["svg", "png", "pdf", "dot"], help="default: --out's suffix, or svg")
    add("--second-order", action="store_true", help="draw a create_graph=True gradient graph")
    add("--grad-heat", action=argparse.BooleanOptionalAction, default=True,
        help="colour parameters by gradient norm (default: on)")  # fmt: skip
    add("--depth", type=int, help="draw modules deeper than this as one box each")
    add("--show-saved", action="store_true", help="show the tensors saved for backward")
    add("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args(argv)
    out = args.out or pathlib.Path(f"graph.{args.format or 'svg'}")

    outputs, options = second_order(args) if args.second_order else mlp_step(args)
    if args.depth is not None and "module" in options:
        options["depth"] = args.depth
    options.update(grad_heat=args.grad_heat, show_saved=args.show_saved)
    try:
        minigrad.viz.save_graph(out, *outputs, format=args.format, **options)
    except (ImportError, minigrad.viz.GraphvizNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
