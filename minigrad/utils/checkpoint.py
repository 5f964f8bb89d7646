"""Activation checkpointing, as ``torch.utils.checkpoint``: keep a segment's inputs, not its
activations, and recompute the segment in backward.

``checkpoint(fn, *args)`` runs ``fn`` without recording a graph while noting every tensor that
requires grad it reads (its arguments, and the parameters it closes over, seen as they enter
ops). Backward restores the random state of the forward (so dropout draws the same masks),
reruns ``fn`` with recording on, and differentiates it with respect to those tensors; the
result is the plain run's gradients, with one segment's activations alive at a time.
"""

from __future__ import annotations

import contextlib
import threading

from .. import backend
from .._public_name import public_path
from .._warnings import warn_user
from ..autograd import engine, grad_mode, graph
from ..autograd.function import Function
from ..func import _dispatch
from ._pytree import tree_map  # (also torch.utils.checkpoint.tree_map)
from ._selective_checkpoint import (  # noqa: F401 - torch.utils.checkpoint's names
    CheckpointPolicy,
    SelectiveCheckpointContext,
    create_selective_checkpoint_contexts,
)


class _Observed(threading.local):
    def __init__(self):
        self.stack = []  # one {id: tensor} per checkpointed forward in progress


_observed = _Observed()
_lock = threading.Lock()
_active = [0]


def _observe(op, args):
    seen = _observed.stack
    if seen:
        tensor_cls = graph.Tensor
        found = seen[-1]
        for a in args:
            if isinstance(a, tensor_cls) and a.requires_grad:
                found.setdefault(id(a), a)
    return False, args


def _devices(tensors) -> list:
    devices = [backend.CPU]
    for t in tensors:
        if t.device not in devices:
            devices.append(t.device)
    return devices


class _Checkpoint(Function):
    @staticmethod
    def forward(ctx, run, *tensors):
        ctx.run = run
        ctx.save_for_backward(*tensors[: run.n_explicit])
        return run.outputs

    @staticmethod
    def backward(ctx, *grads):
        run = ctx.run
        explicit = ctx.saved_tensors
        if grad_mode.is_grad_enabled():  # create_graph: stay connected to the real inputs
            inputs = [t.view_as(t) if t.requires_grad else t.detach() for t in explicit]
        else:
            inputs = [t.detach().requires_grad_(t.requires_grad) for t in explicit]
        it = iter(inputs)
        args = [next(it) if i in run.tensor_positions else a for i, a in enumerate(run.args)]
        states = None
        if run.rng_states is not None:
            states = [(d, backend.default_generator(d).get_state()) for d, _ in run.rng_states]
            for d, s in run.rng_states:
                backend.default_generator(d).set_state(s)
        try:
            with grad_mode.enable_grad(), run.recompute_context:
                out = run.fn(*args, **run.kwargs)
        finally:
            for d, s in states or ():
                backend.default_generator(d).set_state(s)
        outs = out if isinstance(out, tuple) else (out,)
        pairs = [
            (o, g)
            for o, g in zip(outs, grads)
            if isinstance(o, graph.Tensor) and g is not None and o.requires_grad
        ]
        targets = inputs + run.discovered
        wanted = [t for t in targets if t.requires_grad]
        result = [None] * len(targets)
        if pairs and wanted:
            found = engine.grad(
                [o for o, _ in pairs],
                wanted,
                grad_outputs=[g for _, g in pairs],
                create_graph=grad_mode.is_grad_enabled(),
                allow_unused=True,
            )
            it = iter(found)
            result = [next(it) if t.requires_grad else None for t in targets]
        return (None, *result)


class _Run:
    """What backward needs to rerun the segment."""

    __slots__ = (
        "fn", "args", "kwargs", "tensor_positions", "n_explicit", "discovered", "rng_states",
        "outputs", "recompute_context",
    )  # fmt: skip


def noop_context_fn():
    """``checkpoint``'s default ``context_fn``: two contexts that do nothing."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def checkpoint(
    function,
    *args,
    use_reentrant: bool | None = None,
    preserve_rng_state: bool = True,
    context_fn=noop_context_fn,
    determinism_check: str = "default",
    debug: bool = False,
    **kwargs,
):
    """``function(*args, **kwargs)``, with its activations recomputed in backward instead of kept.

    Gradients equal the plain run's (the random state of the forward is restored for the
    recomputation, so dropout masks match). Works with ``backward()``, ``autograd.grad``,
    parameters the function closes over, and ``create_graph``. ``context_fn`` returns two
    context managers, as in PyTorch: the forward runs inside the first, the recomputation in
    backward inside the second. minigrad has one implementation,
    with PyTorch's non-reentrant semantics; ``use_reentrant=True`` (the default when left out,
    with PyTorch's warning) adds the reentrant variant's rules: no keyword arguments for
    ``function``, and when no input tensor requires grad the output does not either (a warning
    says "Gradients will be None", and closed-over parameters get none).

    Example:
        >>> h = checkpoint(block, x, use_reentrant=False)   # block's activations are not kept
        >>> h.sum().backward()                               # block runs again here
    """
    reentrant = _check_reentrant_arguments(use_reentrant, kwargs, context_fn, debug)
    forward_context, recompute_context = (context_fn or noop_context_fn)()
    with forward_context:
        return _checkpoint(function, args, kwargs, preserve_rng_state, reentrant, recompute_context)


def _checkpoint(function, args, kwargs, preserve_rng_state, reentrant, recompute_context):
    tensor_cls = graph.Tensor
    run = _Run()
    run.fn, run.args, run.kwargs = function, args, kwargs
    run.recompute_context = recompute_context
    run.tensor_positions = {i for i, a in enumerate(args) if isinstance(a, tensor_cls)}
    explicit = [a for a in args if isinstance(a, tensor_cls)]
    run.n_explicit = len(explicit)
    run.rng_states = (
        [(d, backend.default_generator(d).get_state()) for d in _devices(explicit)]
        if preserve_rng_state
        else None
    )
    if reentrant and not any(a.requires_grad for a in explicit):
        warn_user("None of the inputs have requires_grad=True. Gradients will be None")
        with grad_mode.no_grad():  # PyTorch's reentrant variant: no input needs grad, so none
            return function(*args, **kwargs)
    if not grad_mode.is_grad_enabled():
        return function(*args, **kwargs)
    found: dict = {}
    _start()
    _observed.stack.append(found)
    try:
        with grad_mode.no_grad():
            out = function(*args, **kwargs)
    finally:
        _observed.stack.pop()
        _stop()
    mine = {id(a) for a in explicit}
    run.discovered = [t for k, t in found.items() if k not in mine]
    run.outputs = out
    if not (any(a.requires_grad for a in explicit) or run.discovered):
        return out
    return _Checkpoint.apply(run, *explicit, *run.discovered)


def _check_reentrant_arguments(use_reentrant, kwargs, context_fn, debug) -> bool:
    """PyTorch's checks on the variant: ``use_reentrant`` left out warns and means True; the
    reentrant variant takes no keyword arguments for ``function``, nor ``context_fn``/``debug``.
    Returns whether the call is reentrant."""
    if use_reentrant is None:
        warn_user(
            f"{public_path('minigrad.utils.checkpoint')}: the use_reentrant parameter should be "
            "passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants."
        )
        use_reentrant = True
    if not use_reentrant:
        return False
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if (context_fn is not None and context_fn is not noop_context_fn) or debug:
        raise ValueError(
            "Passing `context_fn` or `debug` is only supported when use_reentrant=False."
        )
    return True


def _start() -> None:
    with _lock:
        _active[0] += 1
        if _active[0] == 1:
            _dispatch.set_hook("checkpoint", _observe)


def _stop() -> None:
    with _lock:
        _active[0] -= 1
        if _active[0] == 0:
            _dispatch.set_hook("checkpoint", None)


def checkpoint_sequential(functions, segments: int, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (an ``nn.Sequential`` or a list of callables) in ``segments``
    checkpointed chunks, the last chunk without checkpointing, as PyTorch does.

    Example:
        >>> y = checkpoint_sequential(model, 4, x, use_reentrant=False)
    """
    funcs = list(functions.children()) if hasattr(functions, "children") else list(functions)
    if segments <= 0:
        raise ValueError(f"checkpoint_sequential: segments must be positive, got {segments}")
    size = max(len(funcs) // segments, 1)

    def run_range(start, end):
        def forward(x):
            for f in funcs[start : end + 1]:
                x = f(x)
            return x

        return forward

    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run_range(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run_range(end + 1, len(funcs) - 1)(input)


def get_device_states(*args) -> tuple[list, list]:
    """The indices of the GPUs the tensors in ``args`` (nested) are on, and those GPUs'
    generator states, as PyTorch's (sentence-transformers' GradCache losses keep them to
    replay a forward with the same dropout masks); CPU tensors add none."""
    ids = []

    def note(a):
        if isinstance(a, graph.Tensor) and a.device.type not in ("cpu", "meta"):
            if a.get_device() not in ids:
                ids.append(a.get_device())
        return a

    tree_map(note, args)
    return ids, [backend.default_generator(backend.device("cuda", i)).get_state() for i in ids]


def set_device_states(devices, states, *, device_type=None) -> None:
    """Restore the generator states :func:`get_device_states` returned."""
    for index, state in zip(devices, states, strict=True):
        backend.default_generator(backend.device(device_type or "cuda", index)).set_state(state)
