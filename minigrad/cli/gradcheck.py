"""``minigrad gradcheck``: every op of the op table against finite differences, as a table."""

from __future__ import annotations

import fnmatch
import time
from dataclasses import dataclass, field

import numpy as np

import minigrad

from .. import creation
from ..autograd import gradcheck, gradgradcheck
from ..testing.op_db import OP_DB
from ..testing.samples import Index, Mask, Typed, make_arrays, wants_grad
from ._common import check_device, one_line


@dataclass
class OpResult:
    """The outcome of one op's samples: passes per check, and the first failure messages."""

    name: str
    samples: int = 0
    grad: list = field(default_factory=lambda: [0, 0])  # [passed, run]
    gradgrad: list = field(default_factory=lambda: [0, 0])
    failures: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures


def select_ops(patterns: list[str] | None) -> list:
    """The differentiable op-table rows whose names match any of ``patterns`` (all if None).

    Raises:
        ValueError: a pattern matches no differentiable op (the message lists the valid names).
    """
    rows = [op for op in OP_DB if op.grad]
    if not patterns:
        return rows
    chosen = []
    for pattern in patterns:
        hits = [op for op in rows if fnmatch.fnmatchcase(op.name, pattern)]
        if not hits:
            names = ", ".join(sorted(op.name for op in rows))
            raise ValueError(f"no differentiable op matches {pattern!r}; known ops: {names}")
        chosen += [op for op in hits if op not in chosen]
    return chosen


def build_args(op, index: int, device: str) -> list:
    """The sample's arguments as float64 tensors on ``device`` (as the tests build them)."""
    args = []
    for spec, a in zip(op.samples[index].args, make_arrays(op, index)):
        if not isinstance(a, np.ndarray):
            args.append(a)
        elif isinstance(spec, (Index, Mask, Typed)):
            args.append(creation.tensor(a, device=device))
        else:
            t = creation.tensor(a.astype("float64"), device=device)
            args.append(t.requires_grad_(True) if wants_grad(spec) else t)
    return args


def _flat(result) -> list:
    if isinstance(result, (tuple, list)):
        return [x for r in result for x in _flat(r)]
    return [result]


def check_op(op, device: str, second_order: bool = True) -> OpResult:
    """Run gradcheck (and gradgradcheck where the row allows it) on every sample of ``op``."""
    result, start = OpResult(op.name, samples=len(op.samples)), time.perf_counter()
    checks = [("grad", gradcheck)] + ([("gradgrad", gradgradcheck)] if second_order else [])
    for index, sample in enumerate(op.samples):
        for kind, check in checks:
            if kind == "gradgrad" and not op.gradgrad:
                continue
            counts = getattr(result, kind)
            counts[1] += 1
            try:
                args = build_args(op, index, device)
                check(lambda *a, s=sample: _flat(op.fn(minigrad, *a, **s.kwargs)), tuple(args))
                counts[0] += 1
            except Exception as e:  # a failed check or a crash: both are failures to report
                result.failures.append(f"{op.sample_id(index)} {kind}: {one_line(e)[:300]}")
    result.seconds = time.perf_counter() - start
    return result


def run(args) -> int:
    """Check the selected ops, print one row per op and a summary; 1 if anything failed."""
    device = check_device(args.device)
    ops = select_ops(args.op)
    print(f"gradcheck on {device}, float64, {len(ops)} ops")
    print(f"{'op':<28} {'samples':>7} {'grad':>7} {'gradgrad':>9} {'time':>7}  status")
    results = []
    for op in ops:
        r = check_op(op, device, second_order=not args.no_gradgrad)
        results.append(r)
        print(_row(r), flush=True)
    return _summary(results)


def _row(r: OpResult) -> str:
    grad = f"{r.grad[0]}/{r.grad[1]}"
    gg = f"{r.gradgrad[0]}/{r.gradgrad[1]}" if r.gradgrad[1] else "-"
    return (
        f"{r.name:<28} {r.samples:>7} {grad:>7} {gg:>9} {r.seconds:>6.2f}s  "
        f"{'ok' if r.ok else 'FAIL'}"
    )


def _summary(results: list[OpResult]) -> int:
    passed = sum(r.grad[0] + r.gradgrad[0] for r in results)
    run_ = sum(r.grad[1] + r.gradgrad[1] for r in results)
    failed = [r for r in results if not r.ok]
    print(f"{passed}/{run_} checks passed; {len(results) - len(failed)}/{len(results)} ops ok")
    for r in failed:
        for line in r.failures:
            print(f"  FAIL {line}")
    return 1 if failed else 0
