"""``FlopCounterMode``, as ``torch.utils.flop_counter``: the floating-point operations of the
matrix products, convolutions and attention a block of code runs, forward and backward, per
module and per op, counted with PyTorch's formulas (a multiply-add is 2 FLOPs).

Forward ops are seen through the op tracer (:data:`minigrad.ops.base.tracer`), backward
nodes through the engine's node hook (as :mod:`minigrad.profiler` times them): a plain
backward computes gradients on arrays without calling ops, so each counted op has a backward
rule, which counts only the gradients its inputs need (as PyTorch's autograd runs only those
products). Ops are named as PyTorch's aten ops (``aten.mm``, ``aten.addmm``, ``aten.bmm``,
``aten.convolution``, ``aten.convolution_backward``; ``einsum`` as the pairwise ``aten.bmm``
PyTorch runs it through); matrix-vector and dot products are not
counted, as in PyTorch. Modules are found on the Python stack (the ``forward`` methods running
when an op runs), named as PyTorch names them: the outermost module by its class name, the
others by their path under it (``MLP.fc1``); backward FLOPs go to the modules of the forward.

Where PyTorch's CPU kernels hide their products from its counter, minigrad still counts them:
recurrent layers (``nn.LSTM``/``GRU``/``RNN``, 0 in PyTorch) and attention that PyTorch runs
through its fused flash kernel (``nn.MultiheadAttention(need_weights=False)``,
``nn.TransformerEncoderLayer``). A linear layer on a non-contiguous input is ``aten.addmm``
where PyTorch reports ``aten.mm``.

Example:
    >>> with FlopCounterMode(display=False) as counter:
    ...     model(x).sum().backward()
    >>> counter.get_total_flops()
"""

from __future__ import annotations

import math
import sys
import threading
from collections import defaultdict

from ..autograd import engine
from ..nn.modules.module import Module
from ..ops import base
from ._pytree import tree_map  # noqa: F401  (as torch.utils.flop_counter.tree_map)

__all__ = ["FlopCounterMode", "conv_flop", "mm_flop"]


def mm_flop(m: int, k: int, n: int, batch: int = 1) -> int:
    """FLOPs of ``batch`` products of (m, k) by (k, n) matrices."""
    return 2 * batch * m * k * n


def conv_flop(x_shape, w_shape, out_shape, transposed: bool = False) -> int:
    """FLOPs of a convolution (PyTorch's count): 2 · batch · |weight| · output positions (input
    positions for a transposed one)."""
    positions = (x_shape if transposed else out_shape)[2:]
    return 2 * x_shape[0] * math.prod(w_shape) * math.prod(positions)


def _swap01(shape) -> tuple:
    return (shape[1], shape[0], *shape[2:])


def _conv_backward(gy, x, w, need_x: bool, need_w: bool) -> int:
    flops = conv_flop(gy, w, x, True) if need_x else 0
    if need_w:
        flops += conv_flop(_swap01(x), _swap01(gy), _swap01(w), False)
    return flops


def _batch(a, b) -> int:
    return math.prod(_broadcast(tuple(a[:-2]), tuple(b[:-2])))


def _broadcast(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    return tuple(max(x, y) for x, y in zip(a, b))


# -- one rule per counted op: forward (label, flops, backward_state) from the input shapes ----


def _matmul(args, out):
    a, b = args[0].shape, args[1].shape
    if len(a) < 2 or len(b) < 2:
        return None  # mv / dot: PyTorch counts neither
    flops = mm_flop(a[-2], a[-1], b[-1], _batch(a, b))
    label = "aten.mm" if len(b) == 2 else "aten.bmm"
    return label, flops, (label, flops, flops)


def _linear(args, out):
    x, w, b = args[0].shape, args[1].shape, args[2]
    rows = math.prod(x[:-1])
    flops = mm_flop(rows, w[-1], w[-2])
    if len(w) == 3:  # vmap's per-sample weights
        return "aten.bmm", flops, ("aten.bmm", flops, flops)
    return ("aten.mm" if b is None else "aten.addmm"), flops, ("aten.mm", flops, flops)


def _convolution(args, out):
    x, w, y = args[0].shape, args[1].shape, out.shape
    flops = conv_flop(x, w, y)
    return "aten.convolution", flops, ("conv", x, w, y)


def _attention_sizes(q, k, v=None) -> tuple:
    batch = math.prod(_broadcast(tuple(q[:-2]), tuple(k[:-2])))
    return batch, q[-2], k[-2], q[-1], (v[-1] if v is not None else 0)


def _sdpa(args, out):
    b, sq, sk, d, dv = _attention_sizes(args[0].shape, args[1].shape, args[2].shape)
    flops = mm_flop(sq, d, sk, b) + mm_flop(sq, sk, dv, b)
    return "aten.bmm", flops, ("sdpa", b, sq, sk, d, dv)


def _attention_weights(args, out):
    b, sq, sk, d, _ = _attention_sizes(args[0].shape, args[1].shape)
    flops = mm_flop(sq, d, sk, b)
    return "aten.bmm", flops, ("aten.bmm", flops, flops)


def _expand_ellipsis(inputs, output, shapes) -> tuple:
    """Subscripts with ``...`` written out as digits (right-aligned, as broadcasting)."""
    ndims = [len(shape) - len(subs.replace("...", "")) for subs, shape in zip(inputs, shapes)]
    width = max([n for n, subs in zip(ndims, inputs) if "..." in subs], default=0)
    fill = "".join(str(i) for i in range(width))

    def expand(subs, n):
        return subs.replace("...", fill[width - n :]) if "..." in subs else subs

    return [expand(s, n) for s, n in zip(inputs, ndims)], expand(output, width)


def _einsum(args, out, op):
    """PyTorch's einsum contracts the operands pairwise, left to right, each pair as a bmm over
    the letters both share or keep (letters only one operand has and drops are summed first, not
    counted); a pair with nothing contracted is a plain product: 0 FLOPs."""
    shapes = [tuple(a.shape) for a in args]
    inputs, output = _expand_ellipsis(op.inputs, op.output, shapes)
    sizes = {}
    for subs, shape in zip(inputs, shapes):
        for c, n in zip(subs, shape):
            sizes[c] = max(sizes.get(c, 1), n)
    steps, left = [], inputs[0]
    for k, right in enumerate(inputs[1:], start=1):
        needed = set(output).union(*inputs[k + 1 :])
        shared, kept_l, kept_r = set(left) & set(right), set(left) & needed, set(right) & needed
        letters = shared | kept_l | kept_r
        contracted = shared - needed
        steps.append(2 * math.prod(sizes[c] for c in letters) if contracted else 0)
        left = "".join(sorted(kept_l | kept_r))
    flops = sum(steps)
    return ("aten.bmm", flops, ("einsum", steps)) if flops else None


_TRANSPOSED = {"conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}
_RULES = {
    "MatMul": _matmul,
    "Linear": _linear,
    "Convolution": _convolution,
    "ScaledDotProductAttention": _sdpa,
    "AttentionWeights": _attention_weights,
    "Einsum": _einsum,
}
_WITH_OP = {_einsum}  # rules that read the op's own attributes (its subscripts)


def _backward_flops(state, needs: tuple) -> tuple:
    """``(label, flops)`` of a counted node's backward, given which inputs need gradients."""
    kind = state[0]
    if kind == "conv":
        _, x, w, y = state
        return "aten.convolution_backward", _conv_backward(y, x, w, needs[0], needs[1])
    if kind == "sdpa":  # dP = dy·vᵀ, dv = Pᵀ·dy, dq = dS·k, dk = dSᵀ·q
        _, b, sq, sk, d, dv = state
        flops = mm_flop(sq, dv, sk, b) if needs[0] or needs[1] else 0
        flops += mm_flop(sk, sq, dv, b) if needs[2] else 0
        flops += mm_flop(sq, sk, d, b) * (int(needs[0]) + int(needs[1]))
        return "aten.bmm", flops
    if kind == "einsum":  # each pairwise product: one per side whose operands need gradients
        steps = state[1]
        return "aten.bmm", sum(
            f * (int(any(needs[: k + 1])) + int(needs[k + 1])) for k, f in enumerate(steps)
        )
    label, first, second = state  # a product: one product per input that needs a gradient
    return label, (first if needs[0] else 0) + (second if needs[1] else 0)


# -- the mode ----------------------------------------------------------------------------------


def _suffix(total: int) -> tuple:
    suffixes = ["", "K", "M", "B", "T"]
    index = max(0, min(len(suffixes) - 1, (len(str(int(total))) - 1) // 3))
    return index, suffixes[index]


class FlopCounterMode:
    """Count FLOPs while the ``with`` block runs; ``display=True`` prints a table per module (to
    ``depth`` levels) at the end.

    ``get_total_flops()`` is the sum; ``get_flop_counts()`` maps ``"Global"`` and each module
    name to ``{op name: FLOPs}``; ``get_table(depth)`` is the printed table.
    """

    def __init__(self, mods=None, depth: int = 2, display: bool = True, custom_mapping=None):
        if custom_mapping:
            raise NotImplementedError(
                "FlopCounterMode(custom_mapping=...): minigrad counts only its built-in "
                f"formulas ({', '.join(sorted(_RULES))})"
            )
        self.depth, self.display = depth, display
        self.flop_counts: dict = defaultdict(lambda: defaultdict(int))
        self._names: dict = {}  # id(root module) -> {id(module): name}
        self._prev_tracer = self._prev_node_hook = None
        self._in_backward = 0
        self._thread = None  # only the entering thread's ops count, as PyTorch's mode is per thread

    # -- entering and leaving: chain with whatever tracer / node hook was installed --------------
    def __enter__(self) -> FlopCounterMode:
        self.flop_counts.clear()
        self._thread = threading.get_ident()
        self._prev_tracer, base.tracer = base.tracer, self._trace
        self._prev_node_hook, engine.node_hook = engine.node_hook, self._node
        return self

    def __exit__(self, *exc) -> None:
        base.tracer, engine.node_hook = self._prev_tracer, self._prev_node_hook
        if self.display:
            print(self.get_table(self.depth))

    def _trace(self, op, args, result) -> None:
        if self._prev_tracer is not None:
            self._prev_tracer(op, args, result)
        rule = _RULES.get(type(op).label())
        if rule is None or self._in_backward or threading.get_ident() != self._thread:
            return  # (a create_graph backward's ops are counted by the node's rule)
        counted = rule(args, result, op) if rule in _WITH_OP else rule(args, result)
        if counted is None:
            return
        label, flops, state = counted
        modules, transposed_conv = self._module_names()
        if transposed_conv and label != "aten.convolution":  # its product, named as PyTorch
            # (grouped weights · input): PyTorch counts the weight gradient once per group
            groups = args[0].shape[0] if len(args[0].shape) == 3 else 1
            label, state = (
                "aten.convolution",
                ("aten.convolution_backward", state[1] * groups, state[2]),
            )
        self._add(modules, label, flops)
        if getattr(result, "grad_fn", None) is op:
            op._flop_counter_state = (self, state, modules)

    def _node(self, node, grads):
        record = getattr(node, "_flop_counter_state", None)
        if record is not None and record[0] is self and threading.get_ident() == self._thread:
            needs = tuple(e is not None for e in node.edges)
            label, flops = _backward_flops(record[1], needs)
            if flops:
                self._add(record[2], label, flops)
        self._in_backward += 1
        try:
            if self._prev_node_hook is not None:
                return self._prev_node_hook(node, grads)
            return node.apply(grads)
        finally:
            self._in_backward -= 1

    def _add(self, modules, label: str, flops: int) -> None:
        for name in ("Global", *modules):
            self.flop_counts[name][label] += flops

    def _module_names(self) -> tuple:
        """The names of the modules whose ``forward`` is running, outermost first, and whether
        a transposed convolution is (its matrix product is PyTorch's ``aten.convolution``)."""
        found, seen, transposed = [], set(), False
        frame = sys._getframe(2)
        while frame is not None:
            code = frame.f_code
            transposed = transposed or code.co_name in _TRANSPOSED
            if code.co_name == "forward" and code.co_argcount:
                owner = frame.f_locals.get(code.co_varnames[0])  # (self, by whatever name)
                if isinstance(owner, Module) and id(owner) not in seen:
                    seen.add(id(owner))
                    found.append(owner)
            frame = frame.f_back
        if not found:
            return (), transposed
        found.reverse()
        root = found[0]
        names = self._names.get(id(root))
        if names is None:
            prefix = type(root).__name__
            names = {id(m): (f"{prefix}.{n}" if n else prefix) for n, m in root.named_modules()}
            self._names[id(root)] = names
        return tuple(names.get(id(m), type(m).__name__) for m in found), transposed

    # -- results ---------------------------------------------------------------------------------
    def get_total_flops(self) -> int:
        """All FLOPs counted."""
        return sum(self.flop_counts["Global"].values()) if "Global" in self.flop_counts else 0

    def get_flop_counts(self) -> dict:
        """``{module name: {op name: FLOPs}}`` with ``"Global"`` for everything."""
        return {k: dict(v) for k, v in self.flop_counts.items()}

    def get_table(self, depth: int | None = None) -> str:
        """The counts as a table: each module (to ``depth`` levels) and its ops, with the share
        of the total."""
        depth = self.depth if depth is None else depth
        total = self.get_total_flops()
        index, suffix = _suffix(total)
        rows = [("Module", "FLOP", "% Total")]

        def add(name, indent, counts):
            flops = sum(counts.values())
            rows.append((" " * indent + name, _fmt(flops, index, suffix), _share(flops, total)))
            for op, f in counts.items():
                rows.append((" " * indent + " - " + op, _fmt(f, index, suffix), _share(f, total)))

        if "Global" in self.flop_counts:
            add("Global", 0, self.flop_counts["Global"])
        for name, counts in self.flop_counts.items():
            level = name.count(".") + 1
            if name != "Global" and level <= depth:
                add(name, level, counts)
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)


def _fmt(flops: int, index: int, suffix: str) -> str:
    return f"{flops / 1000**index:.3f}{suffix}"


def _share(flops: int, total: int) -> str:
    return f"{100 * flops / total:.2f}%" if total else "0.00%"
