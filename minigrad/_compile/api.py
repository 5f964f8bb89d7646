"""``minigrad.compile``: record the array calls of one call of a function and replay them."""

from __future__ import annotations

import functools
import types
import weakref
from collections import OrderedDict

from .._warnings import warn_user
from ..autograd import engine, grad_mode
from ..nn.modules.module import Module
from ..tensor import Tensor
from . import arrays, guards, stance
from .capture import Capture, raw
from .joint import JointTrace, NotJointError, released, tensor_leaves
from .module import OptimizedModule
from .program import MISS, NotReplayableError, Program, build_outputs, output_spec
from .symbolic import Sym

_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
_BACKENDS = ("inductor", "minigrad", "eager")
_default_backend = "inductor"  # compile()'s backend when none is given (set_default_backend)


def set_default_backend(backend) -> None:
    """The backend :func:`compile` uses when none is given (``None``: back to ``"inductor"``),
    as ``torch.compiler.set_default_backend``; a name is checked when ``compile`` uses it."""
    global _default_backend
    if backend is not None and not isinstance(backend, str) and not callable(backend):
        raise TypeError(f"backend must be a string or callable, got {type(backend)}")
    _default_backend = "inductor" if backend is None else backend


def get_default_backend():
    """The backend :func:`compile` uses when none is given (initially ``"inductor"``)."""
    return _default_backend


_CACHE_SIZE = 8  # traces kept per compiled function (torch's cache_size_limit is 8 too)
_GIVE_UP_AFTER = 4  # traces in a row that cannot replay (or guards that fail) before eager
# a guard miss traces again (once the function has replayed) unless it is the third in a row
_RETRACE_MISSES = 2
_LIVE: weakref.WeakSet = weakref.WeakSet()  # every compiled function, for reset()


def reset() -> None:
    """Forget every compiled function's traces and any decision to run it eagerly, so that
    each records again on its next call (``torch.compiler.reset``)."""
    for compiled in list(_LIVE):
        compiled._traces.clear()
        compiled._fast = compiled._eager_reason = None
        compiled._failures, compiled._replayed, compiled._wasted = 0, False, 0


def compile(
    fn=None,
    *,
    fullgraph: bool = False,
    dynamic: bool | None = None,
    backend: str | None = None,
    mode: str | None = None,
    options: dict | None = None,
    disable: bool = False,
):
    """Capture the array calls of a function (forward, backward, optimizer step) and replay them.

    As ``torch.compile``, also usable as a decorator (``@minigrad.compile`` or
    ``@minigrad.compile(fullgraph=True)``). The first call with a new *signature* runs ``fn``
    eagerly while recording every NumPy call made on tensor data; later calls with the same
    signature skip Python and replay the recorded calls into the same preallocated arrays.
    The signature is: the input tensors' shapes, dtypes, devices and ``requires_grad``, grad
    mode, the default dtype and device, autocast's state and deterministic mode, and every
    Python value reachable from ``fn`` (its arguments, closure, the globals it names, modules'
    attributes such as ``training``, optimizers' hyperparameters and state, the code of the
    custom ``autograd.Function`` classes it uses): a change (a new learning rate from a
    scheduler, ``model.eval()``) traces again. Random draws are replayed as new draws from the
    same generator, so a seeded compiled run equals a seeded eager run. Results equal eager's.

    What cannot be replayed falls back to eager execution, with one warning, for the rest of
    the function's life (never a stale result): a floating-point number read on the host after
    the state changed (``loss.item()`` after ``optimizer.step()``), host transfers
    (``.numpy()``, ``print()``, a tensor made from a list or NumPy array inside the step),
    Python state changed by a custom ``autograd.Function`` (its Python runs only when traced),
    a global mode the call leaves changed, 8 traces dropped from the cache unreplayed, a
    tensor read that the walk cannot find again (one an iterator hands out), replacing an input
    tensor's data (``x.data = ...``), an input tensor that shares memory with state the
    function reaches, input tensors that require grad in a call whose outputs carry no graph,
    a graph that a later backward needs but that cannot be captured with it (see below),
    state that changes on every call (other than optimizers'
    step counters, which are traced as expressions), tensors on a GPU (CUDA-graph replay is
    not implemented). Other host reads become guards: flags, counts and indices (``bool()``,
    ``int()``, ``.tolist()`` of a small integer tensor, the shape of ``x[mask]``) anywhere,
    floating-point numbers before any lasting change; a replay that reads a different value
    puts back what it changed and runs the call eagerly (traces it again once the function
    has replayed). A read of a value computed from shapes and Python numbers alone needs no
    guard. Inputs written in place (running statistics passed as arguments) are written back
    after each replay. Python numbers from sources the walk cannot see (Python's ``random``,
    the clock, files) are baked in: pass them as arguments.

    Outputs are fresh tensors (copies), detached from autograd, unless they carry a graph that
    a backward outside the call needs (``model = compile(model)`` in an eager loop): then the
    traced call also records that backward (to the parameters and to the inputs that require
    grad), and replays return outputs attached through one ``CompiledFunctionBackward`` node
    whose backward replays it (PyTorch's AOTAutograd; see :mod:`minigrad._compile.joint`).
    That falls back to eager, with the one warning, for a hook set on the graph inside the
    call, a graph reaching tensors computed before the call other than its arguments, a host
    read inside the backward; ``create_graph=True`` through a replay gives gradients that
    cannot be differentiated again (PyTorch's error) and makes the function run eagerly. A
    module's key leaves out tensors' ``.grad`` and hooks (they act outside its call).

    Args:
        fn: the function (or module) to compile; omitted, returns a decorator.
        fullgraph: raise ``RuntimeError`` instead of falling back to eager (as torch's
            ``fullgraph=True`` errors on graph breaks); the failing call has run eagerly.
        dynamic: accepted, with the same results as PyTorch's; differs on purpose in cost only:
            shapes are always specialised (no symbolic shapes), so each new input shape traces
            again (up to 8 traces kept), with ``True`` as with ``None``/``False``.
        backend: ``"inductor"`` (torch's default name) or ``"minigrad"`` capture and replay;
            ``"eager"`` runs ``fn`` unchanged (as torch's debugging backend); None: the
            default of :func:`set_default_backend` (``"inductor"`` unless set).
        mode: accepted for torch compatibility (``"default"``, ``"reduce-overhead"``,
            ``"max-autotune"``, ...); all replay the same way on the CPU.
        options: must be empty (no backend options exist).
        disable: return ``fn`` unchanged.

    Example:
        >>> @minigrad.compile
        ... def step(x, y):
        ...     opt.zero_grad()
        ...     loss = F.cross_entropy(model(x), y)
        ...     loss.backward()
        ...     opt.step()
        ...     return loss
    """
    backend = _default_backend if backend is None else backend
    if mode not in _MODES:
        raise ValueError(f"compile(): unknown mode {mode!r}; valid: {_MODES}")
    if backend not in _BACKENDS:
        raise ValueError(f"compile(): unknown backend {backend!r}; valid: {_BACKENDS}")
    if dynamic not in (None, False, True):
        raise TypeError(f"compile(): dynamic must be None, False or True, got {dynamic!r}")
    if options:
        raise NotImplementedError(f"compile(): no backend options exist, got {options!r}")

    def wrap(f):
        if disable:
            return f
        if not callable(f):
            raise TypeError(f"compile(): expected a callable, got {type(f).__name__}")
        call = f if backend == "eager" else CompiledFunction(f, fullgraph)
        if isinstance(f, Module):  # an nn.Module around it, as PyTorch's OptimizedModule
            return OptimizedModule(f, call)
        return call

    return wrap if fn is None else wrap(fn)


class CompiledFunction:
    """A function with its traces: call it as the function (see :func:`compile`)."""

    # Met in a walk (a module's compiled call, ``Module.compile``), it is keyed by identity:
    # its traces are its own cache, not state the traced code reads.
    _walk_by_identity = True

    def __init__(self, fn, fullgraph: bool = False):
        self._orig_mod = fn  # torch's name for the wrapped callable
        self._fullgraph = fullgraph
        self._traces: OrderedDict = OrderedDict()
        self._eager_reason = None  # set once: the function runs eagerly from then on
        self._failures = 0
        self._wasted = 0  # traces dropped from the cache that never replayed
        self._replayed = False  # whether a replay ran to the end (then a guard miss traces)
        self._counters = ()  # walk positions of the step counters (see symbolic.py)
        self._fast = None
        self._called_under_stance = False  # (set_stance("eager_then_compile"): first call)
        self._roots = [fn]
        # a module's call (compile(model), Module.compile): its outputs' backward and the
        # optimizer step run outside it, so tensors' .grad and hooks are not part of its key
        self._outside = _module_call(fn)
        if not isinstance(fn, (types.FunctionType, types.MethodType)):
            self._roots.append(getattr(type(fn), "forward", type(fn).__call__))
        functools.update_wrapper(self, fn, updated=())
        _LIVE.add(self)

    @property
    def eager_reason(self) -> str | None:
        """Why this function now runs eagerly (None while it is captured)."""
        return self._eager_reason

    def __getattr__(self, name):  # as torch's OptimizedModule: the module's own attributes
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._orig_mod, name)

    def __get__(self, obj, objtype=None):  # a compiled method binds as a function does
        return self if obj is None else types.MethodType(self, obj)

    def __call__(self, *args, **kwargs):
        if self._eager_reason is not None or arrays.active is not None:
            return self._orig_mod(*args, **kwargs)  # inside another trace: part of it
        if stance.eager_now(self):
            return self._orig_mod(*args, **kwargs)
        inputs, arg_tokens, others = [], [], []
        _split((args, kwargs), inputs, arg_tokens, others)
        arg_key = (tuple(arg_tokens), guards.modes())
        roots = self._roots + others
        fast = self._fast  # (arg_key, program, snapshot, slots, state roots) of the last replay
        if fast is not None and fast[0] == arg_key and fast[2].check(roots):
            if fast[1].valid(()) and _apart(inputs, fast[4], fast[1].written_inputs):
                return self._replay(fast[1], inputs, fast[3], args, kwargs)
        self._fast = None
        snapshot = guards.Snapshot(roots)
        state, tensors, slots = guards.signature(roots, self._counters, snapshot, self._outside)
        state_roots = frozenset(_root_id(raw(t)) for t in tensors)
        if not _apart(inputs, state_roots, ()):
            self._give_up(
                "an input tensor shares memory with a tensor it also reaches as state (a "
                "parameter, buffer or global tensor), so a trace would bake in which one it reads"
            )
            return self._orig_mod(*args, **kwargs)
        key = arg_key + (state,)
        program = self._traces.get(key)
        if program is not None and program.valid(tensors):
            if not _apart(inputs, frozenset(), program.written_inputs):
                self._failed(_ALIASED_WRITE)
                return self._orig_mod(*args, **kwargs)
            self._traces.move_to_end(key)
            self._fast = (arg_key, program, snapshot, slots, state_roots)
            return self._replay(program, inputs, slots, args, kwargs)
        return self._trace(args, kwargs, inputs, key, tensors, slots)

    # -- internals ----------------------------------------------------------------------------
    def _replay(self, program, inputs, slots, args, kwargs):
        joint = program.joint
        if joint is not None:
            joint.before_forward()  # (an earlier call's saved activations are kept aside)
        out = program.replay(inputs, slots)
        if out is not MISS:
            self._failures, self._replayed, program.replayed = 0, True, True
            return out if joint is None else joint.attach(out, inputs, self)
        self._fast = None
        self._failed("a value read on the host (bool(), .item()) changes between calls")
        if (
            self._eager_reason is not None
            or not self._replayed  # (its values may change on every call: no new trace)
            or self._failures > _RETRACE_MISSES
        ):
            return self._orig_mod(*args, **kwargs)
        # The replay put back what it changed: trace again, so that the values read now (a
        # new loop length) replay from the next call on; misses in a row still count.
        for k, p in list(self._traces.items()):
            if p is program:
                del self._traces[k]
        failures = self._failures
        try:
            return self(*args, **kwargs)
        finally:
            self._failures = max(self._failures, failures)

    def _signature(self, args, kwargs):
        inputs, arg_tokens, others = [], [], []
        _split((args, kwargs), inputs, arg_tokens, others)
        roots = self._roots + others
        state, tensors, slots = guards.signature(roots, self._counters, None, self._outside)
        return inputs, (tuple(arg_tokens), guards.modes(), state), tensors, slots

    def _give_up(self, reason: str) -> None:
        name = getattr(self._orig_mod, "__qualname__", type(self._orig_mod).__name__)
        message = f"minigrad.compile: {name} cannot be replayed: {reason}"
        if self._fullgraph:
            raise RuntimeError(message + " (fullgraph=True; this call ran eagerly)")
        self._eager_reason = reason
        self._traces.clear()
        self._fast = None
        warn_user(message + "; it runs eagerly from now on", RuntimeWarning)

    def _failed(self, reason: str) -> None:
        self._failures += 1
        if self._failures >= _GIVE_UP_AFTER:
            self._give_up(reason)

    def _trace(self, args, kwargs, inputs, key, pre_tensors, slots):
        if stance.refuse_trace(self._orig_mod):
            return self._orig_mod(*args, **kwargs)
        if any(t.device.type != "cpu" for t in inputs):
            self._give_up(
                "an input tensor is on a GPU: replay runs on the CPU only (CUDA-graph replay "
                "through CuPy is not implemented)"
            )
            return self._orig_mod(*args, **kwargs)
        counters = self._counters if all(p in slots for p in self._counters) else ()
        capture = Capture(inputs, [slots[p][:2] for p in counters])
        joint = None
        with capture:
            result = _no_backward(self._orig_mod, args, kwargs, capture.recorder, self._outside)
            live = grad_mode.is_grad_enabled() and _live(result, inputs)
            if live and not capture.recorder.poisoned:
                try:  # its backward, recorded too (see joint.py)
                    joint = JointTrace(result, inputs, pre_tensors)
                    joint.record(capture.recorder)
                except NotJointError as e:
                    joint = None
                    capture.recorder.poison(str(e))
        for cls in capture.changed_functions():
            capture.recorder.poison(
                f"custom autograd.Function {cls.__name__} changes Python state in its forward or "
                "backward (a counter, a list), which a replay would skip"
            )
        for cls, _ in capture.functions.values():  # reached outside the walk (mod.Fn.apply):
            if guards.FUNCTION_CLASS + (id(cls),) not in key[2]:  # keyed from the next call
                self._roots.append(cls)
        if guards.modes() != key[1]:  # a replay would not change it: run eagerly instead
            capture.recorder.poison(
                "it leaves a global mode changed (grad mode, default dtype or device, autocast, "
                "deterministic mode)"
            )
        if joint is None and not live and any(t.requires_grad for t in inputs):
            self._give_up("an input tensor requires grad (its .grad would not be replayed)")
            return result
        try:
            _, post_key, post_tensors, post_slots = self._signature(args, kwargs)
            _unstore_syms(capture, post_slots)
            if capture.recorder.poisoned:
                raise NotReplayableError(capture.recorder.poisoned)
            spec = output_spec(result, inputs, live=joint is not None)
            program = Program(capture, spec, post_tensors, capture.escaped(), joint)
            program.counters = tuple(zip(counters, capture.counter_fns))
        except (NotReplayableError, NotJointError) as e:
            self._give_up(str(e))
            return result
        if not _apart(inputs, frozenset(), program.written_inputs):
            self._give_up(_ALIASED_WRITE)
            return result if joint is not None else build_outputs(spec, inputs)
        position = {}
        for i, t in enumerate(pre_tensors):
            position.setdefault(id(t), i)
        program.checks = [(t, a, position.get(id(t))) for t, a, _ in capture.externals.values()]
        lost = [t for t, _, pos in program.checks if pos is None]
        if lost:  # a later call may read another tensor there (next(iterator)): not checkable
            self._give_up(
                f"it reads a tensor of shape {list(lost[0].shape)} that is not reachable from its "
                "arguments, closure or the globals it names (e.g. one an iterator hands out), "
                "so a replay could not tell that a later call reads another one: pass it as an "
                "argument"
            )
            return result if joint is not None else build_outputs(spec, inputs)
        if post_key == key and program.valid(post_tensors):
            self._traces[key] = program
            if len(self._traces) > _CACHE_SIZE:
                _, old = self._traces.popitem(last=False)
                self._wasted += not old.replayed
                if self._wasted >= _CACHE_SIZE:  # (every call traces: slower than eager)
                    self._give_up(
                        f"{_CACHE_SIZE} traces were dropped from its cache without replaying "
                        "once: its inputs' shapes or the state it reads take more than "
                        f"{_CACHE_SIZE} values in turn (PyTorch's cache_size_limit)"
                    )
            self._failures = 0
        else:
            found = guards.counter_positions(key[2], post_key[2], slots)
            if found and post_key[:2] == key[:2]:
                self._counters = tuple(sorted(set(self._counters) | set(found)))
            self._failed(
                "the Python state it reads changes on every call (state replaced instead of "
                "updated in place, or a number that changes and is not a step counter)"
            )
        if joint is not None:  # the traced values are this call's: its backward replays
            return program.joint.attach(build_outputs(spec, inputs), inputs, self)
        return build_outputs(spec, inputs)


_ALIASED_WRITE = "it writes into an input tensor that shares memory with another input"


def _root_id(a) -> int:
    """``id`` of the object that owns array ``a``'s memory (see :func:`recorder.root`; any
    array type, sparse or quantized tensors' data included)."""
    base = getattr(a, "base", None)
    while base is not None:
        a, base = base, getattr(base, "base", None)
    return id(a)


def _apart(inputs, state_roots, written) -> bool:
    """Whether no input tensor shares memory with the state tensors (``state_roots``: ids of
    their arrays' roots), and none of the inputs ``written`` (indices) with another input."""
    if written:
        found = [_root_id(t._data) for t in inputs]
        if not state_roots.isdisjoint(found):
            return False
        return all(found.count(found[i]) == 1 for i in written)
    for t in inputs:  # (_root_id inlined: this runs on every call)
        a = t._data
        base = getattr(a, "base", None)
        while base is not None:
            a, base = base, getattr(base, "base", None)
        if id(a) in state_roots:
            return False
    return True


def _module_call(fn) -> bool:
    """Whether ``fn`` is a module or its ``_call_impl`` (as ``Module.compile`` compiles)."""
    if isinstance(fn, types.MethodType):
        return isinstance(fn.__self__, Module) and fn.__func__ is Module._call_impl
    return isinstance(fn, Module)


def _no_backward(fn, args, kwargs, rec, outside: bool):
    """``fn(*args, **kwargs)``; with ``outside`` (a module's call, keyed without .grad and
    hooks), a backward run inside it ends the capture: its hooks could read state the key
    left out."""
    if not outside:
        return fn(*args, **kwargs)
    run = engine._run

    def watched(*a, **k):
        rec.poison("it runs a backward inside a compiled module's forward")
        return run(*a, **k)

    engine._run = watched
    try:
        return fn(*args, **kwargs)
    finally:
        engine._run = run


def _live(result, inputs) -> bool:
    """Whether ``result`` holds a tensor whose graph a later backward may need (not one that a
    backward inside the call went through: ``loss.backward()`` then ``return loss``)."""
    for t in tensor_leaves(result, inputs):
        fn = t.grad_fn
        if fn is not None and not released(fn):
            return True
    return False


def _split(obj, inputs, tokens, others) -> None:
    """Input tensors of a call (distinct, in order) and the rest of its arguments."""
    cls = type(obj)
    if isinstance(obj, Tensor):
        for i, t in enumerate(inputs):
            if t is obj:
                tokens.append(("same", i))
                return
        tokens.append(("in", obj.shape, obj.dtype, obj.device.type, obj.requires_grad))
        inputs.append(obj)
    elif cls in (tuple, list):
        tokens.append((cls, len(obj)))
        for o in obj:
            _split(o, inputs, tokens, others)
    elif cls is dict:
        tokens.append((cls, tuple(k if isinstance(k, str) else id(k) for k in obj)))
        for o in obj.values():
            _split(o, inputs, tokens, others)
    else:
        tokens.append(("arg", len(others)))
        others.append(obj)


def _unstore_syms(capture, slots) -> None:
    """A traced step counter stored anywhere but its own place would leak out of the trace:
    put its number there instead, and give up on replaying."""
    own = {(id(m), k) for m, k in capture.counters}
    for mapping, key, *_ in slots.values():
        value = mapping.get(key) if isinstance(mapping, dict) else None
        if type(value) is Sym:
            mapping[key] = value.value
            if (id(mapping), key) not in own:
                capture.recorder.poison("a number computed from a step counter is kept in state")
