"""The ``minigrad`` command (also ``python -m minigrad``): info, gradcheck, train, eval, graph.

Examples:
    minigrad info
    minigrad gradcheck --op add --op 'soft*'
    minigrad train                          # MLP on the bundled digits, about 97% in seconds
    minigrad train cnn --optimizer sgd --lr 0.05 --epochs 10 --out runs/cnn
    minigrad eval runs/mlp-digits/checkpoint.mg
    minigrad graph mlp --format svg --grad-heat --out mlp.svg
    minigrad train --nproc-per-node 2      # data-parallel on 2 processes (MPI)
    minigrad run -n 2 my_training_script.py  # any script on 2 processes (like torchrun)
"""

from __future__ import annotations

import argparse
import os
import sys

from .. import __version__
from ._common import CLIError, one_line
from .registry import DATASETS, MODELS, OPTIMIZERS

__all__ = ["CLIError", "build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code.

    Exit codes: 0 success, 1 a check failed (``gradcheck``) or a picture could not be rendered,
    2 bad arguments (argparse) or a user-facing error such as a missing or corrupted checkpoint,
    printed as one line on stderr.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "run":  # the launcher parses its own options (and the script's)
        from ..distributed import run as launcher

        try:
            return launcher.main(argv[1:], prog="minigrad run")
        except RuntimeError as e:
            print(f"minigrad run: error: {one_line(e)}", file=sys.stderr)
            return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    if args.command is None:
        parser.print_help()
        return 0
    try:
        code = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return code
    except CLIError as e:
        print(f"minigrad {args.command}: error: {one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"minigrad {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_went_away()


def _reader_went_away() -> int:
    """The reader of our output closed the pipe (``minigrad info --json | head -3``): stop
    quietly with the shell's code for SIGPIPE, as ``cat`` or ``yes`` would, instead of a
    traceback. Standard output is pointed at /dev/null first, so that the interpreter's own
    flush at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``minigrad`` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="minigrad",
        description="minigrad: a small autograd framework with PyTorch's API.",
        epilog="Run 'minigrad COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"minigrad {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_info(commands)
    _add_gradcheck(commands)
    _add_train(commands)
    _add_eval(commands)
    _add_graph(commands)
    commands.add_parser(
        "run",
        help="run a script on N processes over MPI (like torchrun)",
        description="minigrad run -n N script.py [args]: see 'minigrad run --help'.",
        add_help=False,
    )
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        help="BLAS threads (default: minigrad's policy, 1 unless MINIGRAD_NUM_THREADS or "
        "OMP/OPENBLAS/MKL_NUM_THREADS is set; more pays only for big matrices on idle cores)",
    )


def _add_info(commands) -> None:
    from . import info

    p = commands.add_parser(
        "info",
        help="versions, backends, GPUs and BLAS",
        description="Show versions, backends, CUDA devices and BLAS.",
    )
    p.add_argument("--json", action="store_true", help="print the facts as JSON")
    p.set_defaults(run=info.run)


def _add_gradcheck(commands) -> None:
    from . import gradcheck

    p = commands.add_parser(
        "gradcheck",
        help="check every op's gradients against finite differences",
        description="Check the analytic gradients of every op in the op table against central "
        "finite differences in float64 (gradcheck and gradgradcheck). Exit code 1 if any fails.",
    )
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    p.add_argument(
        "--op",
        action="append",
        metavar="NAME",
        help="only ops matching NAME (a glob such as 'soft*'); repeatable",
    )
    p.add_argument("--no-gradgrad", action="store_true", help="skip second-order checks")
    p.set_defaults(run=lambda args: _run_gradcheck(gradcheck, args, p))


def _run_gradcheck(module, args, parser) -> int:
    try:
        module.select_ops(args.op)
    except ValueError as e:
        parser.error(str(e))
    return module.run(args)


def _add_train(commands) -> None:
    from . import train

    p = commands.add_parser(
        "train",
        help="train a model and write metrics, a loss curve and a checkpoint",
        description="Train a small classifier. With no arguments: the MLP on the bundled digits "
        "(about 96% test accuracy in a few seconds). Writes metrics.json, loss_curve.png "
        "(with matplotlib) and checkpoint.mg into --out.",
    )
    p.add_argument(
        "model",
        nargs="?",
        default="mlp",
        choices=list(MODELS),
        help="; ".join(f"{k}: {v}" for k, v in MODELS.items()) + " (default: mlp)",
    )
    p.add_argument(
        "--dataset",
        default="digits",
        choices=list(DATASETS),
        help="; ".join(f"{k}: {v}" for k, v in DATASETS.items()) + " (default: digits)",
    )
    p.add_argument("--optimizer", default="adam", choices=list(OPTIMIZERS), help="default: adam")
    p.add_argument(
        "--lr",
        type=_positive_float,
        default=None,
        help="learning rate (default: per optimizer, e.g. adam 1e-3, sgd 0.1)",
    )
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 penalty (adamw: 0.01)")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="default: 32")
    p.add_argument("--epochs", type=_positive_int, default=20, help="default: 20")
    p.add_argument(
        "--max-steps",
        type=_non_negative_int,
        default=0,
        help="stop each epoch after this many batches (0: no limit)",
    )
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    p.add_argument("--seed", type=int, default=0, help="default: 0")
    _add_threads(p)
    p.add_argument("--out", default=None, help="output folder (default: runs/MODEL-DATASET)")
    p.add_argument("--download", action="store_true", help="download MNIST-like data if missing")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--nproc-per-node",
        type=_positive_int,
        default=1,
        help="train data-parallel on this many processes (MPI; --batch-size is per process)",
    )
    p.add_argument(
        "--tensorboard",
        metavar="DIR",
        default=None,
        help="also log losses, accuracy, weight histograms, the graph and hparams to DIR for "
        "TensorBoard (needs the tensorboard package)",
    )
    p.set_defaults(run=train.run_train)


def _add_eval(commands) -> None:
    from . import train

    p = commands.add_parser(
        "eval",
        help="test accuracy of a checkpoint from 'minigrad train'",
        description="Evaluate a checkpoint written by 'minigrad train' on "
        "its dataset's test split.",
    )
    p.add_argument("checkpoint", help="the checkpoint file (e.g. runs/mlp-digits/checkpoint.mg)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    p.add_argument("--batch-size", type=_positive_int, default=1000, help="default: 1000")
    _add_threads(p)
    p.add_argument("--download", action="store_true", help="download MNIST-like data if missing")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=train.run_eval)


def _add_graph(commands) -> None:
    from . import graph

    p = commands.add_parser(
        "graph",
        help="draw the compute graph of one training step",
        description="Draw the autograd graph of one forward and backward pass of a model (a "
        f"name: {', '.join(MODELS)}; or a checkpoint file), ops boxed by module.",
    )
    p.add_argument("model", help="a model name or a checkpoint file")
    p.add_argument(
        "--format",
        choices=["svg", "png", "pdf", "dot"],
        help="default: the suffix of --out, else svg (dot needs no Graphviz)",
    )
    p.add_argument("--out", help="the file to write (default: MODEL.FORMAT)")
    p.add_argument("--grad-heat", action="store_true", help="colour parameters by gradient norm")
    p.add_argument(
        "--depth",
        type=_non_negative_int,
        default=None,
        help="draw modules deeper than this as single boxes",
    )
    p.add_argument("--batch-size", type=_positive_int, default=4, help="default: 4")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    p.add_argument("--seed", type=int, default=0, help="default: 0")
    p.set_defaults(run=graph.run)
