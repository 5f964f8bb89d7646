"""Tracing one eager call: the hooks that make every array a tensor hands out observable.

While a :class:`Capture` is open, ``Tensor._data`` is a property: reading it from a tensor that
holds a plain array (a parameter, optimizer state, an input) swaps in a :class:`Traced` view of
the same memory, so that the calls made on it are recorded; writing it notes the tensor as
made during the trace. The CPU device's ``xp`` records array creation, random draws of the
backend's generators are recorded as draws, and host transfers end the capture. On exit every
tensor gets a plain array again. The call itself runs exactly as eagerly: tracing only watches.
"""

from __future__ import annotations

import builtins
import functools
import threading
import weakref

import numpy as np

from .. import backend
from ..amp import autocast_mode
from ..autograd import function as _function
from ..optim import optimizer as _optimizer
from ..tensor import Tensor
from . import arrays, guards, symbolic
from .arrays import Traced, XpProxy, _view
from .recorder import Recorder, root

_SLOT = Tensor.__dict__["_data"]  # the slot descriptor that the property stands in for
_get_slot, _set_slot = _SLOT.__get__, _SLOT.__set__
_DRAWS = ("uniform", "normal", "integers", "permutation")
# PyTorch's samplers (minigrad._torch_samplers) with number arguments: replayed as draws too
_DRAWS += ("bernoulli", "exponential", "geometric", "cauchy", "log_normal", "uniform_doubles")
# draws that take arrays (tensor probabilities, weights, rates): the step runs eagerly
_ARRAY_DRAWS = ("bernoulli_probs", "multinomial", "standard_gamma", "dirichlet", "poisson")
_ARRAY_DRAWS += ("binomial",)


def raw(t: Tensor):
    """The array in ``t``'s slot, bypassing any tracing property."""
    return _get_slot(t)


class Capture:
    """The context of one traced call (one at a time, in one thread)."""

    def __init__(self, inputs, counters=()):
        self.recorder = Recorder()
        self.inputs = inputs  # the call's input tensors, in order
        self.counters = counters  # (mapping, key) of each step counter, traced as a Sym
        self.counter_fns = []  # how each counter's new value follows from the old ones
        self.input_bufs = []  # their traced copies, one per distinct tensor
        self.externals = {}  # id(tensor) -> (tensor, its array, the traced view)
        self.born = {}  # id(tensor) -> tensor given an array during the trace
        self._views = {}  # id(plain array) -> traced view, so one array gets one view
        self._saved = []
        self._saved_inputs = []  # (input tensor, its own array), restored on exit
        self._alive = []
        self.functions = {}  # id -> (user autograd.Function class that ran, its state's key)

    # -- the tensor slot ----------------------------------------------------------------------
    def _adopt(self, t, arr):
        rec = self.recorder
        if t.device.type != "cpu":
            rec.poison(f"a tensor on {t.device} (capture runs on the CPU only)")
            return arr
        if not isinstance(arr, np.ndarray):
            rec.poison(
                f"a tensor whose data is a {type(arr).__name__}, not a dense NumPy array "
                "(sparse, nested and quantized tensors are not captured)"
            )
            return arr
        view = self._views.get(id(arr))
        born = id(t) in self.born
        if view is None and born and id(root(arr)) in rec.roots:  # a view of traced memory
            view = self._views[id(arr)] = rec.register(_view(arr, Traced))
        if view is None:  # a constant made during the trace, or state from before it
            if born:  # a result computed out of the recorder's sight (np.asarray of a
                # traced array, then plain NumPy): baked in, a replay would return it stale
                rec.poison(
                    f"a tensor of shape {list(arr.shape)} holds an array made by NumPy calls "
                    "the trace did not record"
                )
            view = rec.constant(arr) if born else rec.register(_view(arr, Traced))
            self._views[id(arr)] = view
        _set_slot(t, view)
        if not born:
            self.externals[id(t)] = (t, arr, view)
        return view

    def _install(self):
        capture = self

        def get(t):
            arr = _get_slot(t)
            if type(arr) is Traced or arrays.active is None:
                return arr
            return capture._adopt(t, arr)

        def set_(t, value):
            _set_slot(t, value)
            capture.born[id(t)] = t

        cpu = backend.device("cpu")
        gen_cls, np_cls = backend.Generator, backend.NumpyBackend
        self._saved = [
            (Tensor, "_data", _SLOT),
            (cpu, "xp_cache", cpu.xp_cache),
            (np_cls, "to_host", np_cls.__dict__["to_host"]),
        ] + [(gen_cls, name, gen_cls.__dict__[name]) for name in _DRAWS + _ARRAY_DRAWS]
        Tensor._data = property(get, set_)
        cpu.xp_cache = XpProxy(self.recorder)
        rec = self.recorder

        def to_host(self_, array):  # .item() and bool() read through it: guards, see Traced
            if type(array) is Traced:
                return array
            rec.poison("a host transfer of an untraced array")
            return np.asarray(array)

        np_cls.to_host = to_host
        self._saved.append((backend, "as_array", backend.as_array))
        self._watch_python()
        self._watch_generator_state()
        # autocast's casts of parameters made outside the call (or by an earlier trace) are
        # tensors no replay could check: the call casts afresh into a cache of its own
        cast_state = autocast_mode._state
        self._saved.append((cast_state, "cache", cast_state.cache))
        cast_state.cache = {}
        self._saved.append((backend, "shape_constant", backend.shape_constant))
        self._saved.append((backend, "array_kernel", backend.array_kernel))
        backend.array_kernel = _recorded_kernel(rec)
        backend.shape_constant = _shape_constant(rec, backend.as_array)
        backend.as_array = _host_data_check(rec, backend.as_array)
        for name in ("numpy", "__array__"):
            self._saved.append((Tensor, name, Tensor.__dict__[name]))
            setattr(Tensor, name, _poisoning(rec, Tensor.__dict__[name], f"Tensor.{name}()"))
        for name in _DRAWS:
            setattr(gen_cls, name, _recording_draw(rec, gen_cls.__dict__[name]))
        for name in _ARRAY_DRAWS:
            kind = "a random draw from tensor values"
            setattr(
                gen_cls, name, _poisoning(rec, gen_cls.__dict__[name], f"Generator.{name}", kind)
            )

    def _watch_python(self) -> None:
        """Python a replay skips, watched while the call is traced: ``print`` ends the capture
        (it would print once); each user ``autograd.Function`` that runs (its forward, or its
        backward inside a recorded backward) is noted with the state its code reaches, which
        the caller compares afterwards (see :attr:`functions`)."""
        rec, functions = self.recorder, self.functions
        run_apply, run_backward = _function._apply, _function.FunctionCtx.backward
        show = builtins.print

        def note(cls):
            if id(cls) not in functions and guards.user_function_class(cls):
                active, arrays.active = arrays.active, None  # (a walk adopts no arrays)
                try:
                    functions[id(cls)] = (cls, guards.signature([cls], outside=True)[0])
                finally:
                    arrays.active = active

        def apply(cls, args, kwargs):
            if arrays.active is rec:
                note(cls)
            return run_apply(cls, args, kwargs)

        def backward(node, *grads):
            if arrays.active is rec:
                note(node.function_cls)
            return run_backward(node, *grads)

        tracing_thread = threading.get_ident()

        @functools.wraps(show)
        def print_(*args, **kwargs):  # (process-wide: other threads print as ever, unwatched)
            if arrays.active is rec and threading.get_ident() == tracing_thread:
                rec.poison("it calls print(), which a replay would skip")
            return show(*args, **kwargs)

        self._saved += [
            (_function, "_apply", run_apply),
            (_function.FunctionCtx, "backward", run_backward),
            (builtins, "print", show),
        ]
        _function._apply, _function.FunctionCtx.backward, builtins.print = apply, backward, print_

    def _watch_generator_state(self) -> None:
        """``Generator.get_state``/``set_state`` (``checkpoint`` keeps the state its recompute
        restores) recorded: a replay reads the state into the traced array, and sets it from
        there, at the same point (a state that is not a tensor cannot be recorded)."""
        rec, gen_cls = self.recorder, backend.Generator
        get_state, set_state = gen_cls.__dict__["get_state"], gen_cls.__dict__["set_state"]

        def read(gen):
            return _get_slot(get_state(gen))

        def write(gen, array):
            set_state(gen, Tensor._make(array, backend.CPU))

        def get_state_(gen):
            state = get_state(gen)
            if arrays.active is rec and isinstance(state, Tensor):
                _set_slot(state, rec.generator_state(functools.partial(read, gen), gen))
            return state

        def set_state_(gen, state):
            if arrays.active is rec:
                array = state._data if isinstance(state, Tensor) else None
                if type(array) is Traced:
                    rec.set_generator_state(functools.partial(write, gen), array, gen)
                else:
                    rec.poison("a random generator's state set from data the trace did not make")
            return set_state(gen, state)

        self._saved += [(gen_cls, "get_state", get_state), (gen_cls, "set_state", set_state)]
        gen_cls.get_state, gen_cls.set_state = get_state_, set_state_

    def changed_functions(self) -> list:
        """The user ``autograd.Function`` classes that ran whose reachable state (a counter
        on the class, a list a global names) is not what it was before they first ran."""
        return [
            cls
            for cls, before in self.functions.values()
            if guards.signature([cls], outside=True)[0] != before
        ]

    def _share_writes(self) -> None:
        """Inputs that share memory (``x[:2]`` and ``x[1:]``) are traced on separate copies:
        a write into one is passed on through the caller's memory to the others, so that the
        traced call reads what the eager call reads (such a trace is not replayed)."""
        roots = [id(root(arr)) for _, arr in self._saved_inputs]
        shared = {i: [j for j, r in enumerate(roots) if r == roots[i] and j != i]
                  for i in range(len(roots))}  # fmt: skip
        shared = {i: js for i, js in shared.items() if js}
        if not shared:
            return
        by_root = {id(root(self.input_bufs[i])): i for i in shared}
        arrs = [arr for _, arr in self._saved_inputs]
        bufs = [_view(b, np.ndarray) for b in self.input_bufs]

        def on_write(written):
            for r in written & by_root.keys():
                i = by_root[r]
                np.copyto(arrs[i], bufs[i])
                for j in shared[i]:
                    np.copyto(bufs[j], arrs[j])

        self.recorder.on_write = on_write

    def _uninstall(self):
        for owner, name, value in reversed(self._saved):
            setattr(owner, name, value)

    def __enter__(self):
        if arrays.active is not None:
            raise RuntimeError("minigrad.compile: a traced call cannot trace another")
        self.versions = [t._version for t in self.inputs]  # in-place changes: the deltas
        for t in self.inputs:  # distinct tensors (the caller keys aliasing)
            arr = _get_slot(t)
            buf = self.recorder.register(_view(np.array(arr, copy=True), Traced))
            self._saved_inputs.append((t, arr))
            self.input_bufs.append(buf)
            _set_slot(t, buf)
            self.born[id(t)] = t  # not an external: replays copy the new input in
        self._share_writes()
        self._install()
        rec = self.recorder
        for i, (mapping, key) in enumerate(self.counters):
            mapping[key] = symbolic.counter(mapping[key], i, rec.poison)
        rec.symbolic = bool(self.counters)
        _optimizer.host_step_counts = True  # new step counts: numbers, as the walk makes them
        arrays.active = rec
        return self

    def __exit__(self, *exc):
        arrays.active = None
        _optimizer.host_step_counts = False
        self._uninstall()
        for mapping, key in self.counters:  # plain numbers again, as eager code left them
            value = mapping.get(key)
            if type(value) is symbolic.Sym:
                self.counter_fns.append(value.fn)
                mapping[key] = value.value
            else:
                self.counter_fns.append(lambda env, v=value: v)
        self._restore_inputs()
        for t, arr, view in self.externals.values():
            if _get_slot(t) is view:
                _set_slot(t, arr)
        for t in self.born.values():  # arrays the trace made stay, as plain arrays
            arr = _get_slot(t)
            if type(arr) is Traced:
                _set_slot(t, _view(arr, np.ndarray))
        # Tensors made during the trace that outlive it hold arrays the replay must keep
        # (gradients, state, caches): see escaped().
        self._alive = [weakref.ref(t) for t in self.born.values()]
        self.born.clear()
        return False

    def written_roots(self) -> set:
        """Roots of the arrays that the recorded calls write into."""
        found = set()
        for ins in self.recorder.instrs:
            if ins[0] != "guard":
                found |= ins[5]
        return found

    def _restore_inputs(self) -> None:
        """Give each input tensor its own array back, holding what the call wrote into the
        traced copy (``running_mean`` updated in place), as eagerly."""
        written = self.written_roots()
        self.versions = [t._version - v for t, v in zip(self.inputs, self.versions)]
        for (t, arr), buf in zip(self._saved_inputs, self.input_bufs):
            now = _get_slot(t)
            if id(root(buf)) in written:
                np.copyto(arr, _view(buf, np.ndarray))
            if now is buf:
                _set_slot(t, arr)
                continue
            # ``x.data = ...``, ``set_``, ``resize_``, ``unsqueeze_``: the tensor keeps what the
            # call gave it (a copy if it is the traced copy's memory, which replays reuse)
            self.recorder.poison("it replaces an input tensor's data (x.data = ..., set_, resize_)")
            now = _view(now, np.ndarray) if isinstance(now, Traced) else now
            if isinstance(now, np.ndarray) and id(root(now)) == id(root(buf)):
                now = np.array(now, copy=True)
            _set_slot(t, now)

    def escaped(self) -> set:
        """Roots of the arrays held by tensors made during the trace that are still alive."""
        found = set()
        for ref in self._alive:
            t = ref()
            if t is not None and isinstance(_get_slot(t), np.ndarray):
                found.add(id(root(_get_slot(t))))
        return found


def _recording_draw(rec, method):
    def draw(gen, *args):
        result = method(gen, *args)
        return rec.draw(method, gen, args, result) if arrays.active is rec else result

    return draw


def _host_data_check(rec, as_array):
    """``backend.as_array`` (host data to a tensor) for the trace: Python numbers pass (the key
    holds the state they come from); lists and NumPy arrays may hold new data on every call
    (a batch from an iterator), which a replay would not see."""

    def call(data, *args, **kwargs):
        if (
            arrays.active is rec
            and type(data) is not Traced
            and not isinstance(data, (bool, int, float, complex, np.generic))
        ):
            rec.poison("a tensor made from host data (a list or a NumPy array) inside the step")
        array = as_array(data, *args, **kwargs)
        if arrays.active is rec and type(array) is np.ndarray:
            return rec.constant(array)  # a Python number's array: a constant of the trace
        return array

    return call


def _recorded_kernel(rec):
    """``backend.array_kernel`` for the trace: the whole function, one recorded call."""

    def call(func, *args, **kwargs):
        pargs, pkwargs = arrays.plain_tree(args), arrays.plain_tree(kwargs)
        result = func(*pargs, **pkwargs)
        if arrays.active is not rec:
            return result
        return rec.function(func, pargs, pkwargs, result, args, kwargs)

    return call


def _shape_constant(rec, as_array):
    """``backend.shape_constant`` for the trace: the array (a function of shapes and arguments,
    which the key holds) becomes a traced constant."""

    def call(host, dtype, dev):
        array = as_array(host, dtype, dev)
        if arrays.active is not rec or not isinstance(array, np.ndarray):
            return array
        return rec.constant(array)

    return call


def _poisoning(rec, method, what, kind="a host transfer"):
    def call(*args, **kwargs):
        if arrays.active is rec:
            rec.poison(f"{kind} ({what})")
        return method(*args, **kwargs)

    return call
