"""``vmap``: run a function written for one sample over a batch, with batching rules per op."""

from __future__ import annotations

import functools
import threading

from .. import backend
from ..autograd import engine as _engine
from ..autograd import function as _function
from ..autograd import graph
from ..ops.joining import cat
from . import _dispatch, _function_rules, _rules
from ._batched import BatchedTensor, levels_of, make_batched
from ._pytree import broadcast_prefix, tree_flatten, tree_unflatten


class _Levels(threading.local):
    def __init__(self):
        self.stack = []  # (level, batch size) of the vmaps running in this thread, outermost first
        self.randomness = []  # the randomness of each, in the same order
        self.drawing = False  # a per-sample draw is being made (its generator calls are fine)


_levels = _Levels()
_lock = threading.Lock()
_active = 0
_counter = [0]


def active_levels() -> list:
    """``[(level, batch_size), ...]`` of the vmaps this thread is inside, outermost first."""
    return list(_levels.stack)


class _RandomHook:
    """What random draws see while vmaps run (``minigrad.backend.random_hook``): each vmap of
    this thread says whether a draw may happen and whether it is one per sample."""

    @staticmethod
    def check() -> None:
        if _levels.drawing:
            return
        modes = _levels.randomness
        if "error" in modes:
            _random_error()
        if "different" in modes:
            raise NotImplementedError(
                "vmap: randomness='different' is not supported by this random function (it "
                "draws through the generator directly); rand, randn, randint, their _like forms, "
                "normal, bernoulli and dropout draw per sample, or use randomness='same'"
            )

    @staticmethod
    def check_inputs(tensors) -> None:
        same = {lv for (lv, _), m in zip(_levels.stack, _levels.randomness) if m == "same"}
        if any(same.intersection(levels_of(t)) for t in tensors):
            raise RuntimeError(
                "vmap: randomness='same' cannot draw from a batched tensor input (one draw for "
                "all samples, from values that differ per sample), as PyTorch: use "
                "randomness='different', or pass the tensor with in_dims=None"
            )

    @staticmethod
    def draw(make, shape):
        modes = _levels.randomness
        if "error" in modes:
            _random_error()
        different = [lv for lv, m in zip(_levels.stack, modes) if m == "different"]
        if not different:  # "same" (or no vmap in this thread): one draw serves the batch
            return make(shape)
        _levels.drawing = True
        try:
            out = make(tuple(size for _, size in different) + shape)
        finally:
            _levels.drawing = False
        for level, _ in different:  # outermost first: its batch dim is the first
            out = make_batched(out, level)
        return out


def _random_error():
    raise RuntimeError(
        "vmap: called random operation while in randomness error mode. Please either use the "
        "'same' or 'different' randomness flags on vmap or perform the randomness operation out "
        "of vmap"
    )


def _interpose(op, args):
    level = -1
    for a in args:
        if type(a) is BatchedTensor and a._level > level:
            level = a._level
    index_level = _rules.index_level(op)
    if index_level > level:  # only the index is batched (gather from one tensor per sample)
        level = index_level
    if level < 0:
        return False, args
    return True, _rules.batched_call(op, args, level)


def _interpose_function(cls, args, kwargs):
    level = -1
    for a in args:
        if type(a) is BatchedTensor and a._level > level:
            level = a._level
    if level < 0:
        return False, None
    randomness = _levels.randomness[[lv for lv, _ in _levels.stack].index(level)]
    return True, _function_rules.batched_function_call(cls, args, kwargs, level, randomness)


def vmap(func, in_dims=0, out_dims=0, randomness: str = "error", *, chunk_size=None):
    """Vectorize ``func`` over a batch dimension of its inputs, as ``torch.func.vmap``.

    ``func`` is written for one sample; ``vmap(func)`` runs it on a whole batch at once: each op
    applies its batching rule (a reduction over ``dim`` of a sample reduces over ``dim + 1`` of
    the batch, a matrix product becomes a batched one, ...), so no Python loop runs over the
    batch. Ops without a rule fall back to a loop and warn once.

    Args:
        func: takes tensors (possibly in tuples, lists, dicts) and returns tensors.
        in_dims: the batch dim of each input: an int for all, None for inputs that are the same
            for every sample, or a structure matching the positional arguments.
        out_dims: where the batch dim goes in each output (same forms).
        randomness: what random functions inside ``func`` do, as in PyTorch: "error" (the
            default) raises; "same" draws once, for one sample, and every sample sees those
            numbers; "different" gives each sample numbers of its own (rand, randn, randint,
            their ``_like`` forms, normal, bernoulli, multinomial with replacement and dropout;
            other random functions raise NotImplementedError under "different").
        chunk_size: run ``func`` on at most this many samples at a time (None: all at once),
            to bound the memory of large batches; the results are those of one run.

    Example:
        >>> dot = lambda a, b: (a * b).sum()
        >>> vmap(dot)(minigrad.randn(8, 3), minigrad.randn(8, 3)).shape   # 8 dot products
        (8,)
        >>> vmap(dot, in_dims=(0, None))(minigrad.randn(8, 3), minigrad.randn(3)).shape
        minigrad.Size([8])
    """
    if randomness not in ("error", "same", "different"):
        raise RuntimeError(
            f"Only allowed values for randomness are 'error', 'different', or 'same'. Got "
            f"{randomness}"
        )
    if not callable(func):
        raise TypeError(f"vmap(func): func must be callable, got {type(func).__name__}")
    if not (in_dims is None or isinstance(in_dims, (int, tuple))):
        raise ValueError(
            f"vmap: expected in_dims to be an int or a (possibly nested) tuple matching the "
            f"structure of the inputs, got {type(in_dims).__name__}"
        )
    if chunk_size is not None:
        if not isinstance(chunk_size, int) or isinstance(chunk_size, bool):
            raise TypeError(f"vmap: chunk_size must be an int or None, got {chunk_size!r}")
        if chunk_size <= 0:
            raise ValueError(
                f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})"
            )

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        flat, spec = tree_flatten(args)
        dims = broadcast_prefix(in_dims, args, "in_dims")
        size = _batch_size(flat, dims)

        def run(inputs, n):
            return _run(func, inputs, spec, kwargs, dims, n, out_dims, randomness)

        if chunk_size is None or chunk_size >= size:
            flat_out, out_spec, _ = run(flat, size)
        else:
            flat_out, out_spec = _chunked(run, flat, dims, size, chunk_size, randomness)
        return tree_unflatten(flat_out, out_spec)

    return wrapped


def _batch_size(flat, dims) -> int:
    """The size of the mapped dims (the same for every batched input), checking each input."""
    size = None
    for x, d in zip(flat, dims):
        if d is None:
            continue
        if not isinstance(x, graph.Tensor):
            raise ValueError(
                f"vmap: in_dims={d} was given for an input of type {type(x).__name__}; "
                f"only tensors can be batched (use None for other inputs)"
            )
        n = x.ndim
        if not -n <= d < n:
            raise ValueError(
                f"vmap: Tried to map over dim {d} for an input with {n} dims; in_dims must be "
                f"in [-{n}, {n})"
            )
        if size is None:
            size = x.shape[d]
        elif x.shape[d] != size:
            raise ValueError(
                f"vmap: Expected all tensors to have the same size in the mapped dimension, "
                f"got sizes {size} and {x.shape[d]} for the mapped dimension"
            )
    if size is None:
        raise ValueError(
            "vmap: at least one input must be a tensor with a mapped dim (in_dims not None)"
        )
    return size


def _run(func, flat, spec, kwargs, dims, size, out_dims, randomness):
    """``func`` on the batch (its inputs flattened, with their structure ``spec``):
    ``(flat outputs, their structure, their out dims)``."""
    level = _enter(size, randomness)
    try:
        batched = [
            x if d is None else make_batched(x.movedim(d, 0) if d else x, level)
            for x, d in zip(flat, dims)
        ]
        out = func(*tree_unflatten(batched, spec), **kwargs)
        flat_out, out_spec = tree_flatten(out)
        odims = broadcast_prefix(out_dims, out, "out_dims")
        results = [_unbatch(o, d, level, size) for o, d in zip(flat_out, odims)]
    finally:
        _exit()
    return results, out_spec, odims


def _chunked(run, flat, dims, size: int, chunk_size: int, randomness: str):
    """``run`` on consecutive pieces of ``chunk_size`` samples, the outputs joined along their
    out dims (as ``torch.func.vmap``'s ``chunk_size``: the same results, less memory at once).
    With randomness="same" every chunk starts from the same generator states, so that all
    samples see one draw; with "different" the draws follow one another as without chunks."""
    states = _generator_states() if randomness == "same" else None
    pieces = []
    for start in range(0, size, chunk_size):
        n = min(chunk_size, size - start)
        part = [x if d is None else x.narrow(d, start, n) for x, d in zip(flat, dims)]
        if states is not None:
            for gen, state in states:
                gen.set_state(state)
        pieces.append(run(part, n))
    _, out_spec, odims = pieces[0]
    joined = [
        pieces[0][0][i] if d is None else cat([p[0][i] for p in pieces], d)
        for i, d in enumerate(odims)
    ]
    return joined, out_spec


def _generator_states() -> list:
    backend.default_generator(backend.CPU)  # the one random functions use by default
    return [(g, g.get_state()) for g in backend.default_generators()]


def _unbatch(o, d, level, size):
    if not isinstance(o, graph.Tensor):
        raise ValueError(
            f"vmap: the function must return tensors (in tuples, lists, dicts), got "
            f"{type(o).__name__}"
        )
    if type(o) is BatchedTensor and o._level == level:
        value = o._value
        if d is None:
            raise ValueError(
                "vmap: out_dims=None was given for an output that is batched; None is only valid "
                "for outputs that do not depend on the batched inputs"
            )
    elif d is None:
        return o
    else:  # the same for every sample: repeat it along the batch (a view)
        value = o.unsqueeze(0).expand((size,) + tuple(o.shape))
    return value.movedim(0, d) if d else value


def _grad_of_batched(grad, outputs, inputs, grad_outputs, options):
    """``autograd.grad`` inside a vmap with the cotangents batched (as PyTorch's vmap over the
    backward): run once with ``is_grads_batched`` and batch the results at the same level.
    None where no cotangent is batched (the plain call)."""
    flat = (grad_outputs,) if isinstance(grad_outputs, graph.Tensor) else tuple(grad_outputs)
    levels = {t._level for t in flat if type(t) is BatchedTensor}
    if not levels:
        return None
    level = max(levels)
    nested = any(len(levels_of(t)) > 1 for t in flat if t is not None)
    if len(levels) > 1 or nested or any(levels_of(t) for t in [*outputs, *inputs]):
        raise NotImplementedError(
            "vmap over autograd.grad: only cotangents (grad_outputs) batched by one vmap are "
            "supported, not batched outputs or inputs or nested vmaps"
        )
    size = dict(_levels.stack)[level]
    cotangents = [
        t._value if type(t) is BatchedTensor else None if t is None else t.expand(size, *t.shape)
        for t in flat
    ]
    results = grad(outputs, inputs, cotangents, is_grads_batched=True, **options)
    return tuple(None if r is None else make_batched(r, level) for r in results)


def _enter(size: int, randomness: str) -> int:
    global _active
    with _lock:
        _counter[0] += 1
        level = _counter[0]
        _active += 1
        if _active == 1:
            _dispatch.set_vmap(_interpose)
            _function.interposer = _interpose_function
            backend.random_hook = _RandomHook
            _engine.batched_grad_hook = _grad_of_batched
    _levels.stack.append((level, size))
    _levels.randomness.append(randomness)
    return level


def _exit() -> None:
    global _active
    _levels.stack.pop()
    _levels.randomness.pop()
    with _lock:
        _active -= 1
        if _active == 0:
            _dispatch.set_vmap(None)
            _function.interposer = None
            backend.random_hook = None
            _engine.batched_grad_hook = None
