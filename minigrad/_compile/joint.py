"""Forward and backward captured together: a compiled call whose outputs a later backward needs.

As PyTorch's AOTAutograd: ``model = minigrad.compile(model)`` in an eager loop returns outputs
whose graph ``loss.backward()`` needs after the call. The traced call runs the forward eagerly,
then the backward of its outputs with placeholder gradients (to the parameters and to the
inputs that require grad), both recorded (:class:`JointTrace`). A replay runs the forward part
of the program and hands out its outputs attached to autograd through ONE node,
``CompiledFunctionBackward`` (:class:`Joint`), whose backward copies the incoming gradients
into the placeholders, runs the backward part and returns the parameters' and inputs'
gradients: ``.backward()`` outside, parameter hooks, ``.grad`` accumulation, ``retain_graph``
and outputs left out of the loss behave as eagerly.

The arrays the backward reads from the forward (saved activations) live in the program's
buffers, owned by the call whose values they hold. A forward replay while an earlier call may
still run its backward copies that call's saved arrays aside first, and its backward copies
them back: the common loop (forward, backward, forward, ...) copies nothing.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import weakref

import numpy as np

from .. import backend, dtypes
from ..autograd import engine, grad_mode
from ..autograd.function import Function, FunctionCtx
from ..autograd.graph import AccumulateGrad, gradient_edge, modified_error, version_counter
from ..tensor import Tensor
from .arrays import plain
from .capture import raw
from .recorder import _arrays_in, root
from .symbolic import contains

_DOUBLE_BACKWARD = "torch.compile with aot_autograd does not currently support double backward"


class NotJointError(Exception):
    """Why a call's outputs cannot be captured with their backward (the call ran eagerly)."""


def tensor_leaves(obj, inputs, found=None) -> list:
    """The tensors in ``obj`` (tuples, lists, named tuples, dict values, dataclass fields, in
    the order ``program.output_spec`` walks them) that are not input tensors returned as they
    are."""
    found = [] if found is None else found
    if isinstance(obj, Tensor):
        if not any(obj is t for t in inputs):
            found.append(obj)
    elif isinstance(obj, (tuple, list)):
        for o in obj:
            tensor_leaves(o, inputs, found)
    elif type(obj) is dict:
        for o in obj.values():
            tensor_leaves(o, inputs, found)
    else:
        for f in dataclass_fields(obj) or ():
            tensor_leaves(getattr(obj, f), inputs, found)
    return found


def dataclass_fields(obj) -> tuple | None:
    """The field names of a dataclass instance that its constructor takes (a model's output
    record, as transformers' ``ModelOutput``), or None for anything else (or a dataclass with
    fields set outside ``__init__``, which cannot be rebuilt from them)."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        return None
    fields = dataclasses.fields(obj)
    return tuple(f.name for f in fields) if all(f.init for f in fields) else None


def _rebuild(obj, new: dict):
    """``obj`` with each tensor ``t`` whose id is in ``new`` replaced by ``new[id(t)]``."""
    if isinstance(obj, Tensor):
        return new.get(id(obj), obj)
    if type(obj) in (tuple, list):
        return type(obj)(_rebuild(o, new) for o in obj)
    if isinstance(obj, tuple):  # a named tuple
        return type(obj)(*(_rebuild(o, new) for o in obj))
    if type(obj) is dict:
        return {k: _rebuild(v, new) for k, v in obj.items()}
    fields = dataclass_fields(obj)
    if fields:
        return type(obj)(**{f: _rebuild(getattr(obj, f), new) for f in fields})
    return obj


def _reachable(nodes) -> set:
    """Every node reachable from ``nodes`` through their edges (``nodes`` included)."""
    seen, stack = set(), list(nodes)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(e[0] for e in node.edges if e is not None)
    return seen


def released(fn) -> bool:
    """Whether a backward without ``retain_graph`` went through the graph of node ``fn``: a
    node in it freed what it saved (``sum``'s node saves nothing, so it is never marked)."""
    return fn._released or any(n._released for n in _reachable([fn]))


class JointTrace:
    """The outputs, parameters and inputs of one traced call whose graph outlives it; made
    inside the capture, after the forward (raises :class:`NotJointError`)."""

    def __init__(self, result, inputs, state_tensors):
        leaves = tensor_leaves(result, inputs)
        self.differentiable = tuple(t.requires_grad for t in leaves)
        self.outputs = [t for t in leaves if t.requires_grad]
        if any(t.grad_fn is None for t in self.outputs):
            raise NotJointError("it returns a leaf tensor that requires grad (a parameter)")
        self.input_targets = tuple(i for i, t in enumerate(inputs) if t.requires_grad)
        boundary = {gradient_edge(inputs[i])[0] for i in self.input_targets}
        # nodes made before the call: the inputs' history, and that of non-leaf state tensors
        upstream = _reachable(e[0] for n in boundary for e in n.edges if e is not None)
        before = upstream | _reachable(t.grad_fn for t in state_tensors if t.grad_fn is not None)
        params, seen, stack = [], set(), [t.grad_fn for t in self.outputs]
        while stack:
            node = stack.pop()
            if node in seen or node in boundary:
                continue
            seen.add(node)
            if node in before:
                raise NotJointError(
                    "its outputs' graph reaches a tensor with history made before the call "
                    "that is not one of its arguments (pass it as an argument), or one "
                    "argument's history reaches another's"
                )
            if type(node) is AccumulateGrad:
                params.append(node.variable)
                continue
            if node.pre_hooks or node.post_hooks:
                raise NotJointError(
                    "a hook on its graph (Tensor.register_hook, retain_grad, module backward "
                    "hooks) would not run when the backward replays"
                )
            stack.extend(e[0] for e in node.edges if e is not None)
        if boundary & upstream:
            raise NotJointError("one argument that requires grad is computed from another")
        self.params = tuple(params)
        self.targets = [inputs[i] for i in self.input_targets] + params
        # which outputs each target's gradient flows from: one whose outputs all went unused
        # gets None (its .grad stays None), as eagerly
        nodes = [gradient_edge(t)[0] for t in self.targets]
        reached = [_reachable([t.grad_fn]) for t in self.outputs]
        self.reach = tuple(tuple(j for j, r in enumerate(reached) if node in r) for node in nodes)

    def record(self, rec) -> None:
        """Run the outputs' backward with zero placeholder gradients while ``rec`` records
        (the hooks of the parameters and inputs silenced: they run on the real backward)."""
        self.start = len(rec.instrs)
        holders = [
            Tensor._make(rec.fresh(np.zeros(t.shape, raw(t).dtype)), t.device) for t in self.outputs
        ]
        silenced = []
        for t in self.targets:
            node = gradient_edge(t)[0]
            silenced.append((node, node.pre_hooks, node.post_hooks, t, t._hooks))
            node.pre_hooks = node.post_hooks = t._hooks = None
        try:
            grads = engine.grad(
                self.outputs, self.targets, holders, retain_graph=True, allow_unused=True
            )
        finally:
            for node, pre, post, t, hooks in silenced:
                node.pre_hooks, node.post_hooks, t._hooks = pre, post, hooks
        self.end = len(rec.instrs)
        self.holders = tuple(plain(raw(h)) for h in holders)
        self.grads = tuple(None if g is None else plain(raw(g)) for g in grads)
        self.outputs = None  # (the graph is the eager result's; not kept by the program)

    def roots(self) -> set:
        """Roots of the arrays a replay reads or hands out besides the forward's."""
        arrays = self.holders + tuple(g for g in self.grads if g is not None)
        return {id(root(a)) for a in arrays}


def saved_roots(rec, joint: JointTrace, input_bufs) -> set:
    """Roots that the forward writes (inputs' copies included) and the backward reads: the
    saved activations, kept out of memory planning. Raises :class:`NotJointError` for a
    backward that cannot replay on its own (host reads, random draws, writes to them)."""
    written = {id(root(b)) for b in input_bufs}
    for ins in rec.instrs[: joint.start]:
        if ins[0] != "guard":
            written |= ins[5]
    read, wrote, seeded, drawn = set(), set(), set(), set()
    for ins in rec.instrs[joint.start : joint.end]:
        if ins[0] == "guard":
            raise NotJointError("its backward reads a value on the host")
        kind, func, args, kwargs, _, dests = ins
        gen = _generator_set(kind, func, args)
        if gen is not None:
            seeded.add(id(gen))
            drawn.discard(id(gen))
        if args and isinstance(args[0], backend.Generator):
            # draws between a set of the generator's state from the trace and a set back (as
            # checkpoint's recompute under fork_rng) replay the same numbers and leave the
            # generator as they found it (the capture's own backward ran at forward time)
            if id(args[0]) not in seeded:
                raise NotJointError("its backward draws random numbers")
            drawn.add(id(args[0]))
        if contains(args) or contains(kwargs):
            raise NotJointError("its backward reads an optimizer's step counter")
        read |= {id(root(a)) for a in _arrays_in((args, kwargs), [])}
        wrote |= dests
    if drawn:
        raise NotJointError("its backward draws random numbers")
    saved = written & read
    if saved & wrote:
        raise NotJointError("its backward writes into arrays its forward saved")
    return saved


def _generator_set(kind, func, args):
    """The generator whose state the instruction sets from a traced array (the recorder's
    ``set_generator_state``: a ``partial(write, gen)`` call), else None."""
    if kind != "call" or not args or not isinstance(func, functools.partial) or not func.args:
        return None
    gen = func.args[0]
    return gen if isinstance(gen, backend.Generator) else None


class Joint:
    """A program's backward part and the bookkeeping that hands out outputs attached to it."""

    def __init__(self, trace: JointTrace, calls, saved, read_roots, capture, output_roots):
        self.holders, self.grads, self.calls = trace.holders, trace.grads, tuple(calls)
        self.saved = tuple(saved)  # the saved activations' arrays, stashed per call on need
        self.input_targets, self.params = trace.input_targets, trace.params
        self.differentiable, self.reach = trace.differentiable, trace.reach
        self.devices = tuple(t.device for t in trace.targets)
        # tensors the backward reads: an in-place change before it is PyTorch's error
        self.checked_inputs = tuple(
            i for i, b in enumerate(capture.input_bufs) if id(root(b)) in read_roots
        )
        self.checked_state = tuple(
            t for t, arr, _ in capture.externals.values() if id(root(arr)) in read_roots
        )
        self.checked_outputs = tuple(k for k, r in enumerate(output_roots) if r in read_roots)
        self.owner = None  # weak reference to the Call whose values self.saved hold
        self.compiled = None  # weak reference to the CompiledFunction (set by attach)
        self.stash_count = 0  # how many times a call's saved arrays were copied aside

    # -- ownership of the saved arrays -------------------------------------------------------
    def _stash_owner(self) -> None:
        call = self.owner() if self.owner is not None else None
        if call is not None and not call.done and call.stash is None:
            call.stash = [a.copy() for a in self.saved]
            self.stash_count += 1
        self.owner = None

    def before_forward(self) -> None:
        """A forward replay is about to overwrite the saved arrays: keep the owner's aside."""
        if self.owner is not None:
            self._stash_owner()

    def attach(self, out, inputs, compiled):
        """``out`` (a forward's fresh outputs) attached to autograd through one node."""
        targets = [inputs[i] for i in self.input_targets] + list(self.params)
        call = Call(self, inputs, targets)
        self.owner = weakref.ref(call)
        self.compiled = weakref.ref(compiled)
        leaves = tensor_leaves(out, inputs)
        call.leaves = leaves
        attached = _ReplayedCall.apply(call, *targets)
        call.leaves = None
        for k in self.checked_outputs:  # (outputs the backward reads, as tanh's)
            t = attached[k]
            counter = version_counter(t)
            call.outputs.append((counter, counter.value, t._data, t.device, t.grad_fn, k))
        return _rebuild(out, {id(t): a for t, a in zip(leaves, attached)})

    def backward(self, call, grads):
        """The gradients of the targets for ``grads`` (one per output of the call)."""
        for t, v in zip(call.checked, call.versions):
            if version_counter(t).value != v:
                saved = types.SimpleNamespace(counter=version_counter(t), version=v)
                raise modified_error(t._data, t.device, t.grad_fn, t._output_nr, saved)
        for counter, v, array, device, fn, k in call.outputs:
            if counter.value != v:
                saved = types.SimpleNamespace(counter=counter, version=v)
                raise modified_error(array, device, fn, k, saved)
        if self.owner is None or self.owner() is not call:
            if self.owner is not None:
                self._stash_owner()
            for a, s in zip(self.saved, call.stash):
                np.copyto(a, s)
            call.stash = None
            self.owner = weakref.ref(call)
        mine = [g for g, d in zip(grads, self.differentiable) if d]
        for h, g in zip(self.holders, mine):
            if g is None:  # an output left out of the loss
                h.fill(0)
            else:
                np.copyto(h, g._data)
        for c in self.calls:
            c()
        return tuple(
            None if a is None or all(mine[j] is None for j in reach) else Tensor._make(a.copy(), d)
            for a, d, reach in zip(self.grads, self.devices, self.reach)
        )


class Call:
    """One call's claim on a program's saved arrays (held by its node)."""

    __slots__ = ("joint", "stash", "done", "leaves", "targets", "checked", "versions", "outputs")
    __slots__ += ("__weakref__",)

    def __init__(self, joint: Joint, inputs, targets):
        self.joint, self.stash, self.done, self.leaves = joint, None, False, None
        self.targets = targets  # the parameters and inputs its gradients are for
        self.checked = [inputs[i] for i in joint.checked_inputs] + list(joint.checked_state)
        self.versions = [version_counter(t).value for t in self.checked]
        self.outputs = []  # (version counter, version, array, device, node, index) per output


class _ReplayedCall(Function):
    """The node of a replayed call's outputs (PyTorch's ``CompiledFunctionBackward``)."""

    backward_name = "CompiledFunctionBackward"

    @staticmethod
    def forward(ctx, call, *targets):
        ctx.call = call
        ctx._kept = {}  # (so that the engine releases the node after a backward)
        ctx.set_materialize_grads(False)  # (None for an output left out of the loss)
        ctx.mark_non_differentiable(
            *(t for t, d in zip(call.leaves, call.joint.differentiable) if not d)
        )
        return tuple(call.leaves)

    @staticmethod
    def backward(ctx, *grads):
        call = ctx.call
        if call.done:
            ctx._raise_released()
        joint = call.joint
        results = joint.backward(call, grads)
        if grad_mode.is_grad_enabled():  # create_graph=True: not differentiable again
            compiled = joint.compiled() if joint.compiled is not None else None
            if compiled is not None and compiled.eager_reason is None:
                compiled._give_up(
                    "a backward with create_graph=True went through a replayed call (double "
                    "backward through a replay is not supported)"
                )
            tracked = [g for g in grads if isinstance(g, Tensor) and g.requires_grad]
            tracked += [t for t in call.targets if t.requires_grad]
            if tracked:
                results = tuple(
                    r
                    if r is None or not dtypes.is_differentiable(r._data.dtype)
                    else _NoDoubleBackward.apply(r, *tracked)
                    for r in results
                )
        return (None,) + results


class _Node(FunctionCtx):
    """``CompiledFunctionBackward``: released (its call done) after a backward without
    ``retain_graph``, so that a second backward raises as eagerly."""

    __slots__ = ()
    fresh_results = True  # its gradients are new copies nobody else holds: .grad may adopt them

    def release(self) -> None:
        call = self.__dict__.get("call")
        if call is not None:
            call.done, call.stash = True, None
        self._kept = None
        self._released = True


_Node.__name__ = _Node.__qualname__ = "CompiledFunctionBackward"
_Node._node_base = _Node
_ReplayedCall._backward_cls = _Node


class _NoDoubleBackward(Function):
    """Identity on a gradient made by a replayed backward under ``create_graph=True``: its
    own backward raises PyTorch's error."""

    @staticmethod
    def forward(ctx, output, *inputs):
        return output.clone()

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise RuntimeError(_DOUBLE_BACKWARD)
