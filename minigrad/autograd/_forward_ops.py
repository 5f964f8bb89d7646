"""Forward AD at work: the op hook, the double-vjp fallback, custom Functions, saved outputs.

:mod:`.forward_ad` holds the levels and the tangent tables; this module computes tangents.
"""

from __future__ import annotations

import copy

from .. import dtypes
from . import engine, grad_mode, graph
from .forward_ad import _find, _get, _hidden, _set, _state


# -- ops -------------------------------------------------------------------------------------------
def interpose(op, args):
    """The op hook: run ``op`` and give its output the JVP as tangent when an input is dual."""
    if not _state.visible:
        return False, args
    found = _find(args)
    if found is None:
        return False, args
    level, tangents = found
    pristine = copy.copy(op)  # the op before it runs: rules call copies of it on tangents
    with _hidden(level):
        out = op(*args)
        if not (
            op.differentiable
            and isinstance(out, graph.Tensor)
            and dtypes.is_differentiable(out._data.dtype)
        ):
            return True, out
        tangent = jvp_of(pristine, args, tangents, out, level)
    if tangent is not None and not any(out is a for a in args):
        store, tangent = _state.stack[level], _fit(tangent, out)
        _set(store, out, tangent)
        if op.save_output and out.grad_fn is op:
            _follow_saved_output(out, store, tangent)
    return True, out


def _fit(tangent, out):
    """The tangent with the output's shape (a rule may leave broadcasting to the end)."""
    if tuple(tangent.shape) != tuple(out.shape):
        tangent = tangent.expand(out.shape)
    return tangent


def jvp_of(op, args, tangents, out, level: int):
    """The tangent of ``op(*args) = out`` given the inputs' ``tangents`` (None: no tangent)."""
    from ._jvp_rules import RULES

    rule = RULES.get(graph.op_class(op).__name__)  # (a copy of a recorded node: its op's rule)
    if rule is not None:
        return rule(op, args, tangents, out)
    return double_vjp(lambda *a: copy.copy(op)(*a), args, tangents, level)


def _alias(a, level: int):
    """A new graph node over ``a`` to differentiate with respect to, keeping ``a``'s tangents at
    the levels below ``level`` (a leaf view when ``a`` needs no grad, else an identity op)."""
    if a.requires_grad:
        return a.view_as(a)
    x = a.detach().requires_grad_()
    for store in _state.stack[:level]:
        t = _get(store, a)
        if t is not None:
            _set(store, x, t)
    return x


def double_vjp(fn, args, tangents, level: int):
    """``J·t`` of ``fn(*args)`` by differentiating the vjp ``u ↦ Jᵀu`` in ``u`` (exact: it is
    linear in ``u``). ``fn`` returns a tensor (the result is its tangent) or a tuple of tensors
    (a list of tangents, None for an output that does not depend on the dual inputs)."""
    tensor_cls = graph.Tensor
    outer = grad_mode.is_grad_enabled() and any(
        (isinstance(a, tensor_cls) and a.requires_grad) or (t is not None and t.requires_grad)
        for a, t in zip(args, tangents)
    )
    with grad_mode.enable_grad():
        ins, wrt, ts = list(args), [], []
        for i, (a, t) in enumerate(zip(args, tangents)):
            if t is not None:
                ins[i] = _alias(a, level)
                wrt.append(ins[i])
                ts.append(t)
        ys = fn(*ins)
        single = not isinstance(ys, tuple)
        ys = (ys,) if single else ys
        live = [k for k, y in enumerate(ys) if isinstance(y, tensor_cls) and y.requires_grad]
        results = [None] * len(ys)
        if live:
            us = []
            for k in live:
                y = ys[k]
                u = graph.Tensor._make(y.device.xp.zeros(y.shape, dtype=y._data.dtype), y.device)
                us.append(u.requires_grad_())
            gs = engine.grad([ys[k] for k in live], wrt, us, create_graph=True, allow_unused=True)
            pairs = [(g, t) for g, t in zip(gs, ts) if g is not None and g.requires_grad]
            if pairs:
                jts = engine.grad(
                    [g for g, _ in pairs],
                    us,
                    [t if t.dtype == g.dtype else t.to(g.dtype) for g, t in pairs],
                    create_graph=outer,
                    allow_unused=True,
                )
                for k, jt in zip(live, jts):
                    results[k] = jt if jt is None or outer else jt.detach()
    return results[0] if single else results


# -- custom Functions ------------------------------------------------------------------------------
def function_call(cls, args, kwargs, run):
    """``cls.apply(*args)`` when an input is dual: ``run`` does the ordinary apply with the level
    hidden and returns ``(outputs, ctx)``; ``cls.jvp(ctx, *tangents)`` gives the outputs'
    tangents (as PyTorch, an error when the Function has no ``jvp``)."""
    found = _find(args)
    if found is None:
        return run(cls, args, kwargs)[0]
    level, tangents = found
    from .function import Function

    if cls.__module__.startswith("minigrad."):  # built-in Functions: through their backward
        return _builtin_function_call(cls, args, kwargs, run, level, tangents)
    if getattr(cls, "jvp", None) is None or cls.jvp is Function.jvp:
        raise NotImplementedError(
            f"You must implement the jvp function for custom autograd.Function to use it with "
            f"forward mode AD ({cls.__name__} has no jvp staticmethod)."
        )
    tensor_cls = graph.Tensor
    with _hidden(level):
        result, ctx = run(cls, args, kwargs)
        ins = [
            t
            if t is not None
            else (
                graph.Tensor._make(a.device.xp.zeros_like(a._data), a.device)
                if isinstance(a, tensor_cls) and dtypes.is_differentiable(a._data.dtype)
                else None
            )
            for a, t in zip(args, tangents)
        ]
        if ctx.to_save_forward is not None:
            ctx.forward_saved = ctx.to_save_forward
        elif ctx.to_save:  # not recorded: save_for_backward's tensors are still pending
            ctx.forward_saved = tuple(ctx.to_save)
        try:
            outs_t = cls.jvp(ctx, *ins)
        finally:
            ctx.forward_saved = None
    single = not isinstance(result, tuple)
    outs = (result,) if single else result
    outs_t = (outs_t,) if not isinstance(outs_t, tuple) else outs_t
    if len(outs_t) != len(outs):
        raise RuntimeError(
            f"{cls.__name__}.jvp returned {len(outs_t)} tangents, but forward returned "
            f"{len(outs)} outputs"
        )
    store = _state.stack[level]
    for o, t in zip(outs, outs_t):
        if t is None or not isinstance(o, tensor_cls):
            continue
        if not dtypes.is_differentiable(o._data.dtype):
            continue
        if tuple(t.shape) != tuple(o.shape):
            raise RuntimeError(
                f"{cls.__name__}.jvp returned a tangent of shape {list(t.shape)} for an output "
                f"of shape {list(o.shape)}"
            )
        if any(o is a for a in args):
            raise RuntimeError(
                f"{cls.__name__}: forward returned an input as is; forward mode AD needs a new "
                f"tensor (return x.view_as(x) or a copy)"
            )
        _set(store, o, t)
    return result


def _builtin_function_call(cls, args, kwargs, run, level, tangents):
    with _hidden(level):
        result, _ = run(cls, args, kwargs)
        outs_t = double_vjp(lambda *a: run(cls, a, kwargs)[0], args, tangents, level)
    single = not isinstance(result, tuple)
    outs, outs_t = ((result,), (outs_t,)) if single else (result, outs_t)
    store = _state.stack[level]
    for o, t in zip(outs, outs_t):
        if t is not None and isinstance(o, graph.Tensor) and not any(o is a for a in args):
            _set(store, o, t)
    return result


# -- saved outputs ---------------------------------------------------------------------------------
def _follow_saved_output(out, store, tangent) -> None:
    """A node that saved its output keeps it as a bare array (graph.SavedTensor) and rebuilds a
    tensor for backward: that tensor must carry the output's tangent too (while the level is
    open), or a backward run on dual tensors would lose it (forward-over-reverse)."""
    node = out.grad_fn
    if node is None:
        return
    for saved in node._saved:
        if (
            isinstance(saved, graph.SavedTensor)
            and saved.output_nr is not None
            and saved.array is out._data
        ):
            previous = saved.tangents

            def restore(rebuilt, previous=previous, store=store, tangent=tangent):
                if previous is not None:
                    previous(rebuilt)
                if any(store is s for s in _state.stack):
                    _set(store, rebuilt, tangent)

            saved.tangents = restore
