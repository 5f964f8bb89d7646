"""Graph passes run on the exported ONNX nodes, as PyTorch's exporter runs its own: constant
folding, Conv+BatchNorm fusion, a resize of one dim at a time as one Resize, sum/count as ReduceMean, unused nodes dropped, outputs named
by the nodes that make them (no trailing Identity)."""

from __future__ import annotations

import numpy as np

# Ops whose value is not a function of their inputs alone: never folded.
_NOT_FOLDABLE = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                 "Multinomial", "Bernoulli", "Dropout"}  # fmt: skip


def optimize(g, outputs: list, fold: bool) -> None:
    """Rewrite ``g.nodes``/``g.initializers`` in place; ``outputs`` are the graph outputs'
    value names. ``fold``: eval-mode export with ``do_constant_folding`` (PyTorch's
    constant folding and ``_jit_pass_onnx_eval_peephole``)."""
    _reduce_mean(g)
    _merge_resizes(g, set(outputs))
    if fold:
        _fold_constants(g, set(outputs))
    _conv1d(g, set(outputs))
    if fold:
        _fuse_conv_scale_shift(g, set(outputs))
    _drop_unused(g, outputs)


def _values(g) -> dict:
    return {t.name: t for t in g.initializers}


def _array(g, t):
    return g.onnx.numpy_helper.to_array(t)


def _consumers(g) -> dict:
    uses = {}
    for n in g.nodes:
        for i in n.input:
            uses[i] = uses.get(i, 0) + 1
    return uses


def _readers(g) -> dict:
    """value name -> the nodes that read it, in order."""
    readers = {}
    for n in g.nodes:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    return readers


def _reduce_mean(g) -> None:
    """``ReduceSum(x)/n`` with n the number of summed elements (minigrad's mean) as one
    ``ReduceMean``, the node PyTorch emits for ``mean``."""
    consts = _values(g)
    for k, n in enumerate(g.nodes):
        if n.op_type != "Div" or n.input[0] not in g.sum_counts or n.input[1] not in consts:
            continue
        x, axes, keepdims, count = g.sum_counts[n.input[0]]
        d = _array(g, consts[n.input[1]])
        if d.shape != () or float(d) != count:
            continue
        g.reduce("ReduceMean", x, axes, keepdims, outputs=list(n.output))
        g.nodes[k] = g.nodes.pop()


def _merge_resizes(g, outputs: set) -> None:
    """A nearest ``Resize`` of one spatial dim feeding only another one of the next (how
    ``F.interpolate`` is traced, a dim at a time) as one ``Resize`` of both, as PyTorch emits."""
    consts, uses = _values(g), _consumers(g)
    made = {n.output[0]: n for n in g.nodes if n.op_type == "Resize"}
    drop = set()
    for n in g.nodes:
        first = made.get(n.input[0]) if n.op_type == "Resize" else None
        if first is None or uses.get(first.output[0]) != 1 or first.output[0] in outputs:
            continue
        if first.attribute != n.attribute or not {first.input[2], n.input[2]} <= set(consts):
            continue
        scales = _array(g, consts[first.input[2]]) * _array(g, consts[n.input[2]])
        n.input[0], n.input[2] = first.input[0], g.const(scales.astype(np.float32))
        drop.add(id(first))
        consts = _values(g)
    g.nodes[:] = [n for n in g.nodes if id(n) not in drop]


def _conv1d(g, outputs: set) -> None:
    """``Unsqueeze(2) → Conv (height-1 kernel) → Squeeze/Reshape to rank 3`` (how minigrad's
    ``conv1d`` runs, as a 2-D convolution of height 1) as one 1-D ``Conv``, as PyTorch emits."""
    consts, uses = _values(g), _consumers(g)
    made = {o: n for n in g.nodes for o in n.output}
    by_input = _readers(g)
    drop = set()
    for conv in g.nodes:
        attrs = {a.name: g.helper.get_attribute_value(a) for a in conv.attribute}
        if conv.op_type != "Conv" or len(attrs.get("kernel_shape", ())) != 2:
            continue
        x = _unsqueezed_at_2(g, made.get(conv.input[0]), consts)
        w = _unsqueezed_at_2(g, made.get(conv.input[1]), consts)
        if w is None and conv.input[1] in consts:  # a weight folded to (C_out, C_in, 1, k)
            w = _array(g, consts[conv.input[1]])
            w = g.initializer(g.fresh("conv_weight"), w[:, :, 0]) if w.shape[2] == 1 else None
        after = by_input.get(conv.output[0], [])
        if x is None or w is None or uses.get(conv.output[0]) != 1 or conv.output[0] in outputs:
            continue
        if not _back_to_rank_3(g, after[0], consts) or not _height_one(attrs):
            continue
        conv.input[0], conv.input[1] = x, w
        conv.output[0] = after[0].output[0]
        pads = attrs["pads"]
        del conv.attribute[:]
        conv.attribute.extend(
            g.helper.make_attribute(k, v[1:] if k != "pads" else [pads[1], pads[3]])
            if isinstance(v, list)
            else g.helper.make_attribute(k, v)
            for k, v in attrs.items()
        )
        drop.add(id(after[0]))
    g.nodes[:] = [n for n in g.nodes if id(n) not in drop]


def _unsqueezed_at_2(g, node, consts):
    """The rank-3 value that ``node`` unsqueezes at axis 2, or None."""
    if node is not None and node.op_type == "Unsqueeze" and node.input[1] in consts:
        return node.input[0] if _array(g, consts[node.input[1]]).tolist() == [2] else None
    return None


def _back_to_rank_3(g, node, consts) -> bool:
    if node.op_type == "Squeeze" and len(node.input) > 1 and node.input[1] in consts:
        return _array(g, consts[node.input[1]]).tolist() == [2]
    if node.op_type == "Reshape" and node.input[1] in consts:
        return len(_array(g, consts[node.input[1]])) == 3
    return False


def _height_one(attrs) -> bool:
    pads = attrs.get("pads", [0, 0, 0, 0])
    firsts = [attrs.get(k, [1, 1])[0] for k in ("kernel_shape", "strides", "dilations")]
    return firsts == [1, 1, 1] and pads[0] == pads[2] == 0


def _fold_constants(g, outputs: set) -> None:
    """Evaluate every node whose inputs are all initializers; its outputs become initializers
    (parameters reshaped or transposed ahead of time, batch norm's scale and shift)."""
    from onnx.reference import ReferenceEvaluator

    consts, kept = _values(g), []
    for n in g.nodes:
        ins = [i for i in n.input if i]
        foldable = ins and n.op_type not in _NOT_FOLDABLE and not outputs.intersection(n.output)
        if not foldable or any(i not in consts for i in ins):
            kept.append(n)
            continue
        feeds = {i: _array(g, consts[i]) for i in ins}
        for name, value in zip(n.output, ReferenceEvaluator(n).run(None, feeds)):
            g.initializers.append(g.onnx.numpy_helper.from_array(np.asarray(value), name))
            consts[name] = g.initializers[-1]
    g.nodes[:] = kept


def _fuse_conv_scale_shift(g, outputs: set) -> None:
    """``Conv → Mul(s) → Add(t)`` with per-channel constants (an eval-mode BatchNorm after
    folding) as one ``Conv`` with weight ``W·s`` and bias ``b·s + t``."""
    consts, uses = _values(g), _consumers(g)
    by_input = _readers(g)
    drop = set()
    for conv in g.nodes:
        if conv.op_type != "Conv" or conv.input[1] not in consts or uses.get(conv.output[0]) != 1:
            continue
        if conv.output[0] in outputs:
            continue
        if len(conv.input) > 2 and conv.input[2] not in consts:
            continue
        mul = by_input[conv.output[0]][0]
        if mul.op_type != "Mul" or uses.get(mul.output[0]) != 1 or mul.output[0] in outputs:
            continue
        add = by_input[mul.output[0]][0]
        w = _array(g, consts[conv.input[1]])
        s = _channel(g, consts, mul, conv.output[0], w)
        t = _channel(g, consts, add, mul.output[0], w) if add.op_type == "Add" else None
        if s is None or t is None:
            continue
        b = _array(g, consts[conv.input[2]]) if len(conv.input) > 2 else np.zeros_like(t)
        shape = (-1,) + (1,) * (w.ndim - 1)
        conv.input[1] = g.initializer(
            g.fresh("conv_weight"), (w * s.reshape(shape)).astype(w.dtype)
        )
        bias = g.initializer(g.fresh("conv_bias"), (b * s + t).astype(w.dtype))
        del conv.input[2:]
        conv.input.append(bias)
        conv.output[0] = add.output[0]
        drop.update((id(mul), id(add)))
    g.nodes[:] = [n for n in g.nodes if id(n) not in drop]


def _channel(g, consts, node, x, w):
    """The per-output-channel constant that ``node`` applies to ``x`` (shape (C,)), or None."""
    others = [i for i in node.input if i != x]
    if len(others) != 1 or others[0] not in consts or list(node.input).count(x) != 1:
        return None
    v = _array(g, consts[others[0]])
    channels, rank = w.shape[0], w.ndim
    if v.ndim > rank or v.dtype != w.dtype:
        return None
    full = (1,) * (rank - v.ndim) + v.shape
    if any(d != 1 for k, d in enumerate(full) if k != 1) or full[1] not in (1, channels):
        return None
    return np.broadcast_to(v.reshape(-1), (channels,)).copy()


def _drop_unused(g, outputs: list) -> None:
    """Keep only the nodes (and initializers) the outputs depend on."""
    needed, keep = set(outputs), []
    for n in reversed(g.nodes):
        if any(o in needed for o in n.output):
            keep.append(n)
            needed.update(i for i in n.input if i)
    g.nodes[:] = keep[::-1]
    g.initializers[:] = [t for t in g.initializers if t.name in needed]


def name_outputs(g, values: list, names: list, inputs: set) -> None:
    """Give each graph output the name the user chose: the node making it writes that name
    directly (as PyTorch's graphs do); an input or initializer passed through, or a value
    given as two outputs, still goes through an ``Identity``."""
    made = {o: n for n in g.nodes for o in n.output}
    renamed = {}
    for value, name in zip(values, names):
        node = made.get(value)
        if node is None or value in inputs or value in renamed or value == name:
            g.nodes.append(g.helper.make_node("Identity", [renamed.get(value, value)], [name]))
            continue
        renamed[value] = name
        node.output[list(node.output).index(value)] = name
        for n in g.nodes:
            for k, i in enumerate(n.input):
                if i == value:
                    n.input[k] = name
