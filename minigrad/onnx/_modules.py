"""Layers exported as a whole (traced as one :class:`~minigrad.utils._tracing.ModuleCall`,
their inner ops hidden), as PyTorch's exporter maps them: ``nn.LSTM`` and ``nn.GRU`` to ONNX
``LSTM``/``GRU`` nodes (one per layer, both directions in one), an adaptive average pool to a
1x1 (or 1, 1x1x1) output to ``GlobalAveragePool``."""

from __future__ import annotations

import numpy as np

from ..nn.modules.pooling import AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d
from ..nn.modules.rnn import GRU, LSTM
from ..tensor import Tensor

# PyTorch's gate blocks in ONNX's order: LSTM [i f g o] -> [i o f c]; GRU [r z n] -> [z r h].
_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2)}


def is_leaf(module) -> bool:
    """Whether ``module`` is exported as a whole (see :func:`convert`)."""
    if isinstance(module, (LSTM, GRU)):
        return True
    return isinstance(module, AdaptiveAvgPool2d) and _global(module.output_size)


def _global(output_size) -> bool:
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,)
    return all(s == 1 for s in sizes)


def convert(g, call, args, result) -> None:
    """Bind the outputs of the leaf module call ``call`` to the nodes that compute them."""
    if isinstance(call.module, AdaptiveAvgPool2d):
        _global_pool(g, call, args, result)
    else:
        _recurrent(g, call, args, result)


def _global_pool(g, call, args, result) -> None:
    """``GlobalAveragePool`` (on a batch of one for an unbatched input)."""
    m = call.module
    spatial = (
        1 if isinstance(m, AdaptiveAvgPool1d) else 3 if isinstance(m, AdaptiveAvgPool3d) else 2
    )
    if call.kwargs or len(args) != 1 or not isinstance(args[0], Tensor):
        raise NotImplementedError(f"onnx export: {type(m).__name__} with these arguments")
    x = g.value(args[0])
    unbatched = args[0].ndim == spatial + 1
    if unbatched:
        x = g.node("Unsqueeze", [x, g.ints([0])])
    y = g.node("GlobalAveragePool", [x])
    g.bind(result, g.node("Squeeze", [y, g.ints([0])]) if unbatched else y)


def _recurrent(g, call, args, result) -> None:
    """``nn.LSTM``/``nn.GRU`` as ONNX nodes, one per layer, with PyTorch's gate reordering
    (and ``linear_before_reset=1`` for GRU, whose reset gate multiplies ``h·W_hnᵀ + b_hn``)."""
    m = call.module
    kind = m.mode
    _check_recurrent(m, kind, call, args)
    dirs, hidden = (2 if m.bidirectional else 1), m.hidden_size
    x = g.value(args[0])
    if m.batch_first:
        x = g.node("Transpose", [x], perm=[1, 0, 2])
    hx = args[1] if len(args) == 2 else None
    states = None if hx is None else [hx] if kind == "GRU" else list(hx)
    finals = [[] for _ in range(2 if kind == "LSTM" else 1)]
    attrs = {"linear_before_reset": 1} if kind == "GRU" else {}
    for layer in range(m.num_layers):
        ins = [x, *_layer_weights(g, m, kind, layer, dirs, hidden), ""]  # "": sequence_lens
        if states is not None:
            span = [g.ints([layer * dirs]), g.ints([(layer + 1) * dirs]), g.ints([0])]
            ins += [g.node("Slice", [g.value(s), *span]) for s in states]
        y, *last = g.node(
            kind,
            ins,
            outputs=1 + len(finals),
            hidden_size=hidden,
            direction="bidirectional" if dirs == 2 else "forward",
            **attrs,
        )
        for k, t in enumerate(last):
            finals[k].append(t)
        # Y is (L, D, N, H); the next layer (and the output) wants (L, N, D·H).
        if dirs == 1:
            x = g.node("Squeeze", [y, g.ints([1])])
        else:
            x = g.node("Transpose", [y], perm=[0, 2, 1, 3])
            x = g.node("Reshape", [x, g.ints([0, 0, -1])])
    if m.batch_first:
        x = g.node("Transpose", [x], perm=[1, 0, 2])
    out, state = result
    g.bind(out, x)
    for t, parts in zip([state] if kind == "GRU" else state, finals):
        g.bind(t, parts[0] if len(parts) == 1 else g.node("Concat", parts, axis=0))


def _check_recurrent(m, kind, call, args) -> None:
    if call.kwargs or len(args) not in (1, 2) or not isinstance(args[0], Tensor):
        raise NotImplementedError(f"onnx export: {kind} with a PackedSequence or keyword arguments")
    if args[0].ndim != 3:
        raise NotImplementedError(f"onnx export: {kind} on an unbatched (2-D) input")
    if getattr(m, "proj_size", 0):
        raise NotImplementedError(f"onnx export: {kind} with proj_size")
    if m.training and m.dropout:
        raise NotImplementedError(f"onnx export: {kind} with dropout in training mode")


def _layer_weights(g, m, kind, layer, dirs, hidden) -> list:
    """W, R, B of one layer as ONNX wants them: (D, G·H, in), (D, G·H, H), (D, 2·G·H)."""
    gates = _GATE_ORDER[kind]
    order = np.concatenate([np.arange(k * hidden, (k + 1) * hidden) for k in gates])
    ws, rs, bs = [], [], []
    for d in range(dirs):
        sfx = f"_l{layer}" + ("_reverse" if d else "")

        def param(name, sfx=sfx):
            return getattr(m, name + sfx).detach().cpu().numpy()[order]

        ws.append(param("weight_ih"))
        rs.append(param("weight_hh"))
        if m.bias:
            bs.append(np.concatenate([param("bias_ih"), param("bias_hh")]))
    return [g.const(np.stack(ws)), g.const(np.stack(rs)), g.const(np.stack(bs)) if bs else ""]
