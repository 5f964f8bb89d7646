"""Selective activation checkpointing, as ``torch.utils.checkpoint``'s
``create_selective_checkpoint_contexts``: a policy picks the ops of a checkpointed segment whose
outputs the forward keeps, so that the recomputation in backward takes them from the cache
instead of running them again.

PyTorch asks the policy about each aten operator from a ``__torch_dispatch__`` mode. minigrad
has no aten layer; its primitive ops (and ``library.custom_op`` operators) play that part: the
policy is called once per op in the forward with ``SelectiveCheckpointContext(is_recompute=
False)``, the op named by PyTorch's ``OpOverload`` for it (``aten.mm.default`` for a matrix
product of matrices, ``aten.addmm.default`` for ``linear`` with a bias, ``aten.sin.default``,
... see :func:`overload_of`; a custom op by ``minigrad.ops.<namespace>.<name>.default``). In the
recomputation an op whose output was saved still records its graph node (so gradients flow
through it, and its inputs are recomputed if they were not saved), but its kernel does not run:
its output (and what its forward kept for backward) comes from the cache, in the order the
forward produced them, one use each, as PyTorch's. View ops are always recomputed (they cost
no kernel).
"""

from __future__ import annotations

import enum
import threading
from collections import defaultdict

from ..func import _dispatch
from ..ops import base as _base


class CheckpointPolicy(enum.Enum):
    """What selective activation checkpointing does with an op's output (PyTorch's values):
    save it in forward (``*_SAVE``), recompute it in backward (``*_RECOMPUTE``), or save it
    offloaded to the CPU (``*_CPU_OFFLOAD``: kept where it is here, as saved). See
    :func:`create_selective_checkpoint_contexts`."""

    MUST_SAVE = 0
    PREFER_SAVE = 1
    MUST_RECOMPUTE = 2
    PREFER_RECOMPUTE = 3
    MUST_CPU_OFFLOAD = 4
    PREFER_CPU_OFFLOAD = 5


_SAVED = {
    CheckpointPolicy.MUST_SAVE,
    CheckpointPolicy.PREFER_SAVE,
    CheckpointPolicy.MUST_CPU_OFFLOAD,
    CheckpointPolicy.PREFER_CPU_OFFLOAD,
}


class SelectiveCheckpointContext:
    """What the policy function is told besides the op and its arguments: ``is_recompute``
    (always False: the policy is asked in the forward only, as PyTorch's) and ``op_output``."""

    def __init__(self, *, is_recompute, op_output=None) -> None:
        self.is_recompute = is_recompute
        self.op_output = op_output


# -- the names PyTorch's dispatcher gives minigrad's ops -------------------------------------------

_ATEN_NAMES = {
    "Add": "add.Tensor",
    "Sub": "sub.Tensor",
    "Mul": "mul.Tensor",
    "Div": "div.Tensor",
    "Pow": "pow.Tensor_Scalar",
    "ReLU": "relu.default",
    "Softmax": "_softmax.default",
    "LogSoftmax": "_log_softmax.default",
    "Permute": "permute.default",
    "Reshape": "view.default",
    "LayerNorm": "native_layer_norm.default",
    "ScaledDotProductAttention": "_scaled_dot_product_flash_attention_for_cpu.default",
}


def _matmul_name(args) -> str:
    a, b = (getattr(x, "ndim", 0) for x in args[:2])
    if a == 1 and b == 1:
        return "dot.default"
    if b == 1:
        return "mv.default"
    if b == 2 and a >= 2:
        return "mm.default"
    return "bmm.default"


def overload_of(op, args):
    """PyTorch's ``OpOverload`` for the minigrad op ``op`` applied to ``args``."""
    from ..library._aten import aten

    label = type(op).label()
    if label == "MatMul":
        name = _matmul_name(args)
    elif label == "Linear":
        name = "mm.default" if len(args) < 3 or args[2] is None else "addmm.default"
    elif label == "Sum":
        name = "sum.default" if getattr(op, "dim", None) is None else "sum.dim_IntList"
    else:
        name = _ATEN_NAMES.get(label) or f"{label.lower()}.default"
    packet, overload = name.split(".")
    return getattr(getattr(aten, packet), overload)


def _custom_overload(op):
    from ..library import _OpPacket

    return _OpPacket(op)


# -- the two contexts --------------------------------------------------------------------------------

_RECOMPUTE, _CONSUMED = object(), object()
_MISMATCH = (
    "This can happen if the operations in the checkpointed region are nondeterministic or "
    "depend on global state that changed between forward and backward."
)
_EXTRA = (
    "Trying to backward an extra time. You are only allowed to backward once on any region "
    "computed under selective activation checkpoint."
)
# Op state that belongs to one call (set by Op.__call__), never carried from forward to replay
_PER_CALL = frozenset({"device", "xp", "edges", "input_meta", "trace", "forward"})


class _Active(threading.local):
    def __init__(self):
        self.caching = []  # the forward contexts entered in this thread, innermost last
        self.cached = []  # the recompute contexts entered in this thread, innermost last
        self.inside_custom = 0  # > 0 inside a custom op's kernel: its ops are not asked about


_active = _Active()
_lock = threading.Lock()
_installed = [0, None]  # contexts open in all threads; the tracer found when the first opened


def _trace(op, args, result):
    previous = _installed[1]
    if previous is not None:
        previous(op, args, result)
    active = _active
    if active.caching and not active.inside_custom and not type(op).is_view:
        active.caching[-1].record(overload_of(op, args), op, result, args)


def _interpose(op, args):
    active = _active
    if active.cached and not active.inside_custom and not type(op).is_view:
        active.cached[-1].replay(overload_of(op, args), op)
    return False, args


def _custom(op, values, call):
    """The hook of ``library.custom_op`` operators (see ``library._op.interceptor``)."""
    active = _active
    if active.inside_custom or not (active.cached or active.caching):
        return call(values)
    active.inside_custom += 1
    try:
        if active.cached:
            return active.cached[-1].replay_custom(_custom_overload(op), op, values, call)
        out = call(values)
    finally:
        active.inside_custom -= 1
    active.caching[-1].record(_custom_overload(op), None, out, values)
    return out


def _install(delta: int) -> None:
    from ..library import _op as library_op

    with _lock:
        _installed[0] += delta
        if delta > 0 and _installed[0] == 1:
            _installed[1], _base.tracer = _base.tracer, _trace
            _dispatch.set_hook("selective", _interpose)
            library_op.interceptor = _custom
        elif delta < 0 and _installed[0] == 0:
            _base.tracer, _installed[1] = _installed[1], None
            _dispatch.set_hook("selective", None)
            library_op.interceptor = None


def _versions(out) -> list:
    """The version counters of the tensors in ``out`` (a tensor or a tuple/list of them)."""
    items = out if isinstance(out, (tuple, list)) else (out,)
    return [t._version for t in items if hasattr(t, "_version")]


class _Context:
    def __init__(self, storage, stack: str):
        self.storage, self.stack = storage, stack
        self.counter = defaultdict(int)

    def __enter__(self):
        self.counter.clear()
        getattr(_active, self.stack).append(self)
        _install(1)
        return self

    def __exit__(self, *exc):
        getattr(_active, self.stack).remove(self)
        _install(-1)
        return False

    def _index(self, key) -> int:
        index = self.counter[key]
        self.counter[key] += 1
        return index


class _Caching(_Context):
    """The forward's context: asks the policy about each op and keeps the outputs it saves."""

    def __init__(self, policy_fn, storage):
        super().__init__(storage, "caching")
        self.policy_fn = policy_fn

    def record(self, overload, op, out, args):
        index = self._index(overload)
        context = SelectiveCheckpointContext(is_recompute=False, op_output=out)
        policy = self.policy_fn(context, overload, *args)
        if isinstance(policy, bool):
            policy = CheckpointPolicy.MUST_SAVE if policy else CheckpointPolicy.PREFER_RECOMPUTE
        if policy not in _SAVED:
            self.storage[overload][index] = _RECOMPUTE
        elif op is None:  # a custom op: its outputs
            self.storage[overload][index] = (out, out, _versions(out))
        else:  # an op: its output array and what its forward kept on the op for backward
            state = {k: v for k, v in op.__dict__.items() if k not in _PER_CALL}
            self.storage[overload][index] = ((out._data, state), out, _versions(out))


class _Cached(_Context):
    """The recomputation's context: ops whose outputs the forward saved take them from here."""

    def __init__(self, storage, allow_cache_entry_mutation):
        super().__init__(storage, "cached")
        self.allow_cache_entry_mutation = allow_cache_entry_mutation

    def _take(self, overload):
        index = self._index(overload)
        entries = self.storage.get(overload)
        if entries is None:
            raise RuntimeError(
                f"{overload} encountered during backward but not found in storage. {_MISMATCH}"
            )
        entry = entries.get(index)
        if entry is None:
            raise RuntimeError(
                f"{overload} invocation index {index} encountered during backward but not "
                f"found in storage. {_MISMATCH}"
            )
        if entry is _CONSUMED:
            raise RuntimeError(_EXTRA)
        if entry is _RECOMPUTE:
            return entry
        entries[index] = _CONSUMED
        value, out, versions = entry
        if not self.allow_cache_entry_mutation and _versions(out) != versions:
            raise RuntimeError(
                "Tensor cached during selective activation checkpoint has been mutated"
            )
        return value

    def replay(self, overload, op):
        entry = self._take(overload)
        if entry is _RECOMPUTE:
            return
        array, state = entry
        for k, v in state.items():  # what the forward's run kept on the op for backward
            if k not in op.__dict__:
                setattr(op, k, v)
        op.forward = lambda *arrays: array  # the op records its node; its kernel does not run

    def replay_custom(self, overload, op, values, call):
        entry = self._take(overload)
        if entry is _RECOMPUTE:
            return call(values)
        from ..library import _op as library_op

        library_op.substitute(op, entry)
        return call(values)


def create_selective_checkpoint_contexts(policy_fn_or_list, allow_cache_entry_mutation=False):
    """The two contexts ``checkpoint(..., context_fn=...)`` needs for selective activation
    checkpointing, as PyTorch's: ``policy_fn(ctx, op, *args, **kwargs)`` returns a
    :class:`CheckpointPolicy` (or a bool: True saves) for each op of the forward, or a list of
    ops (``OpOverload``\\ s) to save, the others recomputed. ``op`` is named as the module
    docstring says; ``args`` are the minigrad op's arguments.

    Example:
        >>> policy = partial(create_selective_checkpoint_contexts, [minigrad.ops.aten.mm.default])
        >>> y = checkpoint(block, x, use_reentrant=False, context_fn=policy)  # mm not rerun
    """
    from ..library import _OpPacket
    from ..library._aten import OpOverload, OpOverloadPacket

    if isinstance(policy_fn_or_list, list):
        for op in policy_fn_or_list:
            if not isinstance(op, (OpOverload, _OpPacket)):
                extra = (
                    "Please update the OpOverloadPacket to a specific OpOverload.For example, "
                    "if you have `torch.ops.aten.mm`, change it to `torch.ops.aten.mm.default`."
                    if isinstance(op, OpOverloadPacket)
                    else ""
                )
                raise ValueError(
                    f"Expected op in `op_list` to be an OpOverload but got: {op} of type "
                    f"{type(op)}. {extra}"
                )
        saved = list(policy_fn_or_list)

        def policy_fn(ctx, op, *args, **kwargs):
            return CheckpointPolicy.MUST_SAVE if op in saved else CheckpointPolicy.PREFER_RECOMPUTE

    elif callable(policy_fn_or_list):
        policy_fn = policy_fn_or_list
    else:
        raise TypeError("policy_fn_or_list must be either a function or a list of ops.")
    storage = defaultdict(dict)
    return _Caching(policy_fn, storage), _Cached(storage, allow_cache_entry_mutation)


for _public in (CheckpointPolicy, SelectiveCheckpointContext, create_selective_checkpoint_contexts):
    _public.__module__ = "minigrad.utils.checkpoint"  # where PyTorch's users find them
