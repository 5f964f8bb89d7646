"""vmap for custom autograd Functions: the Function's own ``vmap`` staticmethod (as PyTorch's
custom Functions may define), a rule of ours, or a loop over the batch with a warning."""

from __future__ import annotations

from ..autograd import function as _function
from ..autograd import graph
from ._batched import make_batched
from ._rules import stack_samples, unwrap_level, warn_slow

FUNCTION_RULES: dict = {}


def batched_function_call(cls, args, kwargs, level: int, randomness: str = "error"):
    """``cls.apply(*args)`` with some args batched at ``level``: the Function's own rule (a
    ``vmap(info, in_dims, *args)`` staticmethod, as PyTorch's custom Functions may define), one
    of ours, or a loop over the batch."""
    if getattr(cls, "generate_vmap_rule", False) and not _any_requires_grad(args, kwargs):
        # PyTorch's generated rule: forward runs once on the batched tensors, each of its ops
        # by its own batching rule (no graph to record: no input requires grad)
        return _function.run_forward(cls, args, kwargs)
    vals, flags, size = unwrap_level(args, level)
    own = cls.__dict__.get("vmap")
    if own is not None:
        info = _VmapInfo(size, randomness)
        outs, out_dims = own.__func__(info, tuple(0 if f else None for f in flags), *vals, **kwargs)
        single = not isinstance(outs, tuple)
        outs = (outs,) if single else outs
        out_dims = (out_dims,) * len(outs) if isinstance(out_dims, (int, type(None))) else out_dims
        wrapped = tuple(
            o if d is None else make_batched(o.movedim(d, 0) if d else o, level)
            for o, d in zip(outs, out_dims)
        )
        return wrapped[0] if single else wrapped
    rule_fn = FUNCTION_RULES.get(cls.__name__)
    if rule_fn is not None:
        outs = rule_fn(cls, vals, flags, size, kwargs)
    else:
        outs = _function_fallback(cls, vals, flags, size, kwargs)
    if isinstance(outs, tuple):
        return tuple(make_batched(o, level) for o in outs)
    return make_batched(outs, level)


def _any_requires_grad(args, kwargs) -> bool:
    return any(isinstance(a, graph.Tensor) and a.requires_grad for a in (*args, *kwargs.values()))


class _VmapInfo:
    """What a Function's ``vmap`` staticmethod is told: the batch size and the randomness."""

    def __init__(self, batch_size: int, randomness: str = "error"):
        self.batch_size, self.randomness = batch_size, randomness


def _function_fallback(cls, vals, flags, size, kwargs):
    if getattr(cls, "generate_vmap_rule", False):  # PyTorch vectorizes forward; we loop
        warn_slow(f"the custom Function {cls.__name__}'s generate_vmap_rule=True is run per sample")
    else:
        warn_slow(f"the custom Function {cls.__name__} has no vmap staticmethod")
    outs = [
        cls.apply(*[v[i] if f else v for v, f in zip(vals, flags)], **kwargs) for i in range(size)
    ]
    if isinstance(outs[0], tuple):
        return tuple(stack_samples([o[k] for o in outs]) for k in range(len(outs[0])))
    return stack_samples(outs)


def _split_rule(cls, vals, flags, size, kwargs):
    x, dim, sizes, squeeze = vals
    return cls.apply(x, dim + 1, sizes, squeeze)  # the pieces keep the batch in front


FUNCTION_RULES["Split"] = FUNCTION_RULES["Unbind"] = _split_rule
