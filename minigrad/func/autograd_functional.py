"""Higher-level derivatives of functions, as ``torch.autograd.functional``: vjp, jvp,
jacobian, hessian, vhp, hvp.

Each runs ``func`` on fresh copies of ``inputs`` that require grad and differentiates with
:func:`minigrad.autograd.grad`; ``jvp`` runs ``func`` once on dual tensors (forward mode,
:mod:`minigrad.autograd.forward_ad`) and ``hvp`` is forward-over-reverse (the forward-mode
derivative of the gradient). PyTorch computes these two by the double-vjp identity; the values
are the same.
``vectorize=True`` is accepted and computes the same values row by row.

The module lives with the transforms (it stacks rows with ``minigrad.stack``, above the autograd
layer) and is registered as ``minigrad.autograd.functional``, PyTorch's path.
"""

from __future__ import annotations

from ..autograd import forward_ad, grad_mode, graph
from ..autograd.engine import grad as _grad
from ..ops.joining import stack


def _tupled(x, name: str, fn: str):
    single = not isinstance(x, tuple)
    items = (x,) if single else x
    for i, t in enumerate(items):
        if not isinstance(t, graph.Tensor):
            raise TypeError(
                f"The {name} given to {fn} must be either a Tensor or a tuple of Tensors but the "
                f"value at index {i} has type {type(t).__name__}."
            )
    return single, items


# PyTorch's private helpers of this module, with its semantics (pytorch-minimize imports them)
def _as_tuple(inp, arg_name=None, fn_name=None):
    """``(was_tuple, tuple_of_tensors)``, checked; without names only the tuple, unchecked."""
    if arg_name is None and fn_name is None:
        return inp if isinstance(inp, tuple) else tuple(inp) if isinstance(inp, list) else (inp,)
    single, items = _tupled(inp, arg_name, fn_name)
    return not single, items


def _tuple_postprocess(res, to_unpack):
    """Undo :func:`_as_tuple` on ``res``: ``to_unpack`` is its flag, or the (outer, inner)
    pair of flags of a tuple of tuples."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_postprocess(inputs, create_graph: bool):
    """``inputs`` (a tuple, or a tuple of tuples) detached unless ``create_graph``."""
    if isinstance(inputs[0], graph.Tensor):
        return inputs if create_graph else tuple(t.detach() for t in inputs)
    return tuple(_grad_postprocess(t, create_graph) for t in inputs)


def _construct_standard_basis_for(tensors, tensor_numels):
    """The N×N identity (N = sum of ``tensor_numels``) cut into column blocks, one per tensor
    with its dtype and device: the rows are the standard basis, each block one tensor's part."""
    total, chunks, start = sum(tensor_numels), [], 0
    for tensor, numel in zip(tensors, tensor_numels):
        chunk = tensor.new_zeros(total, numel)
        chunk.diagonal(start).fill_(1)
        chunks.append(chunk)
        start -= numel
    return tuple(chunks)


def _prepare(inputs, create_graph: bool):
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t))
        else:
            fresh = t.detach().requires_grad_()
            if forward_ad.active:  # a dual input stays dual
                forward_ad.copy_tangents(t, fresh)
            out.append(fresh)
    return tuple(out)


def _finish(tensors, create_graph: bool):
    return tuple(t if t is None or create_graph else t.detach() for t in tensors)


def _fill(grads, refs, strict: bool, kind: str, fn: str):
    out = []
    for i, (g, r) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"The {kind} {i} of the user-provided function is independent of the inputs "
                    f"({fn}). This is not allowed in strict mode."
                )
            g = r.new_zeros(r.shape)
        out.append(g)
    return tuple(out)


def _out(value, single: bool):
    return value[0] if single else value


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), vᵀ·J)``. ``v`` may be omitted when the output has one element.

    Example:
        >>> out, g = vjp(lambda x: x ** 2, minigrad.tensor([1.0, 2.0]), minigrad.ones(2))
        >>> g
        tensor([2., 4.])
    """
    single_in, ins = _tupled(inputs, "inputs", "vjp")
    with grad_mode.enable_grad():
        ins = _prepare(ins, create_graph)
        outputs = func(*ins)
        single_out, outs = _tupled(outputs, "outputs of the user-provided function", "vjp")
        if v is None:
            if any(o.numel() != 1 for o in outs):
                raise RuntimeError(
                    "The vector v can only be None if the user-provided function returns a single "
                    "Tensor with a single element."
                )
            vs = tuple(o.new_ones(o.shape) for o in outs)
        else:
            _, vs = _tupled(v, "v", "vjp")
        live = [(o, w) for o, w in zip(outs, vs) if o.requires_grad]
        grads = (
            _grad(
                [o for o, _ in live],
                ins,
                [w for _, w in live],
                create_graph=create_graph,
                allow_unused=True,
            )  # fmt: skip
            if live
            else (None,) * len(ins)
        )
    grads = _fill(grads, ins, strict, "input", "vjp")
    return _out(_finish(outs, create_graph), single_out), _out(
        _finish(grads, create_graph), single_in
    )


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), J·v)``, by forward mode: one pass of ``func`` on dual tensors.

    Example:
        >>> out, t = jvp(lambda x: x ** 2, minigrad.tensor([1.0, 2.0]), minigrad.ones(2))
        >>> t
        tensor([2., 4.])
    """
    single_in, ins = _tupled(inputs, "inputs", "jvp")
    vs = _directions(ins, v, "jvp")
    with forward_ad._nested_level() as level, grad_mode.set_grad_enabled(create_graph):
        ins = _prepare(ins, create_graph)
        duals = [forward_ad.make_dual(t, w, level=level) for t, w in zip(ins, vs)]
        outputs = func(*duals)
        single_out, outs = _tupled(outputs, "outputs of the user-provided function", "jvp")
        jvps = [forward_ad.tangent_of(o, level) for o in outs]
    jvps = _fill(jvps, outs, strict, "output", "jvp")
    return _out(_finish(outs, create_graph), single_out), _out(
        _finish(jvps, create_graph), single_out
    )


def _directions(ins, v, fn: str):
    """``v`` as a tuple matching ``ins`` (ones when omitted, for one-element inputs)."""
    if v is None:
        if any(t.numel() != 1 for t in ins):
            raise RuntimeError(
                f"The vector v can only be None if the input to the user-provided function is a "
                f"single Tensor with a single element ({fn})."
            )
        return tuple(t.new_ones(t.shape) for t in ins)
    _, vs = _tupled(v, "v", fn)
    if len(vs) != len(ins):
        raise RuntimeError(
            f"{fn}: v has {len(vs)} tensors but there are {len(ins)} inputs; they must match"
        )
    for i, (t, w) in enumerate(zip(ins, vs)):
        if tuple(t.shape) != tuple(w.shape):
            raise RuntimeError(
                f"{fn}: the shape of v ({list(w.shape)}) at index {i} does not match the shape of "
                f"the input ({list(t.shape)})"
            )
    return vs


def _check_jacobian_options(strategy, create_graph, strict, vectorize):
    """PyTorch's refusals, in its order: its forward mode needs ``vectorize=True`` and takes
    neither ``create_graph`` nor ``strict``; ``strict`` does not go with ``vectorize``. (The
    Jacobian computed here is the same whichever strategy PyTorch would have used.)"""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode" and create_graph:
        raise NotImplementedError(
            "torch.autograd.functional.jacobian: `create_graph=True` and "
            '`strategy="forward-mode"` are not supported together (yet). Please either set '
            '`create_graph=False` or `strategy="reverse-mode"`.'
        )
    if strategy == "forward-mode" and strict:
        raise RuntimeError(
            'torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` '
            "are not supported together (yet). Please either set `strict=False` or "
            '`strategy="reverse-mode"`.'
        )
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError(
            "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
            "only implemented for `vectorize=True`."
        )
    if vectorize and strict:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
            "supported together. Please either set `strict=False` or `vectorize=False`."
        )


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):  # fmt: skip
    """The Jacobian of ``func`` at ``inputs``: shape ``output.shape + input.shape``; a tuple per
    input and/or per output when those are tuples (``[output][input]``).

    Example:
        >>> jacobian(lambda x: x.sin(), minigrad.zeros(2))    # diag(cos 0)
    """
    _check_jacobian_options(strategy, create_graph, strict, vectorize)
    single_in, ins = _tupled(inputs, "inputs", "jacobian")
    with grad_mode.enable_grad():
        ins = _prepare(ins, create_graph)
        outputs = func(*ins)
        single_out, outs = _tupled(outputs, "outputs of the user-provided function", "jacobian")
        rows = []
        for i, o in enumerate(outs):
            per_input = [[] for _ in ins]
            flat = o.reshape(-1)
            for k in range(flat.numel()):
                if o.requires_grad:
                    gs = _grad(flat[k], ins, retain_graph=True, create_graph=create_graph,
                               allow_unused=True)  # fmt: skip
                else:
                    gs = (None,) * len(ins)
                for j, (g, t) in enumerate(zip(gs, ins)):
                    if g is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of "
                                f"input {j}. This is not allowed in strict mode."
                            )
                        g = t.new_zeros(t.shape)
                    per_input[j].append(g)
            jac = []
            for j, t in enumerate(ins):
                block = (
                    stack(per_input[j]).reshape(tuple(o.shape) + tuple(t.shape))
                    if per_input[j]
                    else t.new_zeros(tuple(o.shape) + tuple(t.shape))
                )
                jac.append(block if create_graph else block.detach())
            rows.append(_out(tuple(jac), single_in))
    return _out(tuple(rows), single_out)


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):  # fmt: skip
    """The Hessian of a function returning one element: shape ``input.shape * 2``; for a tuple
    of inputs a tuple of tuples ``[i][j]``.

    Example:
        >>> hessian(lambda x: (x ** 3).sum(), minigrad.tensor([1.0, 2.0]))   # diag(6x)
    """
    single_in, ins = _tupled(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, graph.Tensor) or out.numel() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a single "
                "element"
            )
        gs = _grad(out.reshape(()), xs, create_graph=True, allow_unused=True)
        return tuple(x.new_zeros(x.shape) if g is None else g for x, g in zip(xs, gs))

    result = jacobian(gradient, ins, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)  # fmt: skip
    return result[0][0] if single_in else result


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), vᵀ·H)`` for a function returning one element."""
    single_in, ins = _tupled(inputs, "inputs", "vhp")
    _, vs = _tupled(v, "v", "vhp") if v is not None else (None, None)
    with grad_mode.enable_grad():
        ins = _prepare(ins, create_graph)
        out = func(*ins)
        if not isinstance(out, graph.Tensor) or out.numel() != 1:
            raise RuntimeError(
                "The function given to vhp should return a single Tensor with a single element"
            )
        gs = _grad(out.reshape(()), ins, create_graph=True, allow_unused=True)
        if vs is None:
            vs = tuple(t.new_ones(t.shape) for t in ins)
        pairs = [(g, w) for g, w in zip(gs, vs) if g is not None and g.requires_grad]
        res = (None,) * len(ins)
        if pairs:
            res = _grad([g for g, _ in pairs], ins, [w for _, w in pairs],
                        create_graph=create_graph, allow_unused=True)  # fmt: skip
    res = _fill(res, ins, strict, "input", "vhp")
    return _finish((out,), create_graph)[0], _out(_finish(res, create_graph), single_in)


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), H·v)`` for a function returning one element, by forward-over-reverse:
    the gradient is taken on dual inputs whose tangent is ``v``, and its tangent is ``H·v``
    (equal to :func:`vhp`'s ``vᵀ·H``: the Hessian is symmetric)."""
    single_in, ins = _tupled(inputs, "inputs", "hvp")
    vs = _directions(ins, v, "hvp")
    with forward_ad._nested_level() as level, grad_mode.enable_grad():
        ins = _prepare(ins, create_graph)
        duals = [forward_ad.make_dual(t, w, level=level) for t, w in zip(ins, vs)]
        out = func(*duals)
        if not isinstance(out, graph.Tensor) or out.numel() != 1:
            raise RuntimeError(
                "The function given to hvp should return a single Tensor with a single element"
            )
        gs = _grad(out.reshape(()), ins, create_graph=True, allow_unused=True)
        res = [None if g is None else forward_ad.tangent_of(g, level) for g in gs]
    res = _fill(res, ins, strict, "input", "hvp")
    return _finish((out,), create_graph)[0], _out(_finish(res, create_graph), single_in)
