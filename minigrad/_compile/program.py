"""A finished trace as a replayable program, and the checks that say when it may replay."""

from __future__ import annotations

import functools

import numpy as np

from ..autograd.graph import version_counter
from ..tensor import Tensor
from .capture import Capture, raw
from .joint import Joint, dataclass_fields, released, saved_roots
from .plan import plan, remap
from .recorder import _arrays_in, root
from .symbolic import Sym, contains, evaluate

_UNDO_BYTES = 1 << 20  # state a replay may save to undo its writes when a guard fails
MISS = object()  # a replay found a host value different from the trace's: run eagerly instead


class NotReplayableError(Exception):
    """Why a traced call cannot be replayed (the call itself ran eagerly and is correct)."""


class Program:
    """The instructions of one traced call, cut into segments at host-value guards.

    Built from a finished :class:`Capture`; :meth:`replay` copies the new inputs into the
    traced input buffers, runs every instruction (each writes its result into the array the
    trace made), checks each guard, and returns fresh copies of the outputs.
    """

    def __init__(self, capture: Capture, outputs, visible_tensors, escaped=(), joint=None):
        rec = capture.recorder
        self.input_dests = [np.ndarray.view(b, np.ndarray) for b in capture.input_bufs]
        self.env = rec.env
        self.counters = ()  # (walk position, new value from env) of each step counter
        self.outputs = outputs
        self.checks = []  # (tensor, array, walk position or None): state the trace read
        self.replayed = False  # whether a replay of it ran to the end (see CompiledFunction)
        visible = set(escaped)
        for t in visible_tensors:
            visible.add(id(root(raw(t))))
        for _t, arr, _ in capture.externals.values():
            visible.add(id(root(arr)))
        for leaf in _leaves(outputs):
            if leaf[0] == "T":
                visible.add(id(root(leaf[1])))
        state_visible = set(visible)  # what a guard that fails must put back
        if joint is not None:  # the saved activations and the gradients' arrays stay apart
            saved = saved_roots(rec, joint, capture.input_bufs)
            visible |= saved | joint.roots()
        instrs = _needed(rec, visible)
        # inputs written in place (a running mean passed as an argument): copied back into
        # the caller's tensors at the end of each replay, as the eager call writes them
        written = capture.written_roots()
        self.written_inputs = tuple(
            i for i, b in enumerate(capture.input_bufs) if id(root(b)) in written
        )
        # (and their version counters advance as the eager call's in-place ops advance them)
        self.bumps = tuple((i, d) for i, d in enumerate(capture.versions) if d)
        candidates = {r: rec.known[r] for r in rec.produced if r not in visible}
        moved = plan(instrs, {r: a for r, a in candidates.items() if a.nbytes})
        self.joint = None  # the backward part (joint.Joint) of a call traced with its backward
        if joint is not None:
            backward = {id(ins) for ins in rec.instrs[joint.start : joint.end]}
            tail = [ins for ins in instrs if id(ins) in backward]
            instrs = [ins for ins in instrs if id(ins) not in backward]
            calls = [_callable(ins, moved, rec.env) for ins in tail]
            reads = {id(root(a)) for ins in tail for a in _arrays_in((ins[2], ins[3]), [])}
            arrays = {id(root(d)): root(d) for ins in rec.instrs[: joint.start] if ins[0] != "guard"
                      for d in ins[4]}  # fmt: skip
            arrays.update((id(root(b)), root(b)) for b in capture.input_bufs)
            kept = [np.ndarray.view(arrays[r], np.ndarray) for r in saved]
            out_roots = [id(root(leaf[1])) for leaf in _leaves(outputs) if leaf[0] == "T"]
            self.joint = Joint(joint, calls, kept, reads, capture, out_roots)
        self.segments, self.undo = _segments(instrs, state_visible, moved, rec.env, rec.errstates)
        # A replay that stops at a guard puts the generators back, so the eager call that
        # follows draws what it would have drawn, and the state it changed (batch norm's
        # running statistics before cross_entropy's target check) in ``self.undo``.
        self.generators = tuple(rec.generators.values()) if len(self.segments) > 1 else ()

    def valid(self, tensors) -> bool:
        """Whether the state tensors the trace read are still where (in the walk's
        ``tensors``; ``()`` checks only what they hold), and what, they were."""
        n = len(tensors)
        for t, arr, pos in self.checks:
            if raw(t) is not arr or (n and pos is not None and (pos >= n or tensors[pos] is not t)):
                return False
        return True

    def replay(self, inputs, slots):
        """Run the recorded calls on new ``inputs`` (``slots``: where the walk found each
        counter); the outputs, or :data:`MISS`."""
        for dest, t in zip(self.input_dests, inputs):
            np.copyto(dest, raw(t))
        counters = self.counters
        if counters:
            places = [slots[p][:2] for p, _ in counters]
            env = self.env[0] = tuple(m[k] for m, k in places)
        states = [g.get_state() for g in self.generators]
        for a, backup in self.undo:
            np.copyto(backup, a)
        for calls, guard in self.segments:
            for call in calls:
                call()
            if guard is not None and _differs(guard):
                for g, state in zip(self.generators, states):
                    g.set_state(state)
                for a, backup in self.undo:
                    np.copyto(a, backup)
                return MISS
        for i in self.written_inputs:
            np.copyto(raw(inputs[i]), self.input_dests[i])
        for i, d in self.bumps:
            version_counter(inputs[i]).value += d
        if counters:
            for (m, k), (_, fn) in zip(places, counters):
                m[k] = fn(env)
        return build_outputs(self.outputs, inputs, env if counters else None)


def _differs(guard) -> bool:
    """Whether a guard's array now holds another value than during the trace."""
    array, value, whole = guard
    return not np.array_equal(array, value) if whole else array.item() != value


def _discrete(array, what: str) -> bool:
    """Whether a host read gives a flag, a count or an index (``bool()``, ``int()``, an
    integer array): values a step reads to choose a path, the same on most calls, unlike a
    floating-point number read after the step (a log line, new on every call)."""
    return what in ("bool()", "int()", "an index", "a shape") or array.dtype.kind in "biu"


def _needed(rec, visible) -> list:
    """The instructions a replay runs: all but the resets of constants nobody writes (and
    that nothing outside can write: a constant a tensor kept after the call holds, as
    ``self.buf = zeros(3)``, is made again on every replay, as eagerly)."""
    later = set()  # roots written by instructions after the one being looked at
    keep = [True] * len(rec.instrs)
    for i in range(len(rec.instrs) - 1, -1, -1):
        ins = rec.instrs[i]
        if ins[0] == "guard":
            continue
        r = rec.resets.get(i)
        if r is not None and r not in later and r not in visible:
            keep[i] = False  # a constant nobody writes into keeps its value
        later |= ins[5]
    return [ins for ins, k in zip(rec.instrs, keep) if k]


def _segments(instrs, visible, moved, env, errstates):
    """The instructions as callables, cut at guards; and the state to save for an undo.
    Runs of instructions traced under ``np.errstate`` (``errstates``) replay under it."""
    segments, calls, changed, undo = [], [], set(), set()
    quiet, quiet_err = [], None

    def flush():
        if quiet:
            calls.append(_under(tuple(quiet), quiet_err))
            quiet.clear()

    for ins in instrs:
        err = errstates.get(id(ins))
        if err != quiet_err:
            flush()
            quiet_err = err
        if ins[0] == "guard":
            _, array, value, what = ins
            if changed and not _discrete(array, what):  # a number read after the step
                raise NotReplayableError(
                    f"it reads a floating-point number on the host ({what}) after changing "
                    "state that outlives the call (e.g. loss.item() after optimizer.step())"
                )
            undo |= changed  # a guard that fails puts back what was written before it
            whole = isinstance(value, np.ndarray)
            flush()
            segments.append((tuple(calls), (remap(array, moved), value, whole)))
            calls = []
        else:
            (calls if err is None else quiet).append(_callable(ins, moved, env))
            changed |= {id(root(d)) for d in ins[4] if id(root(d)) in visible}
    flush()
    segments.append((tuple(calls), None))
    saved = {id(root(d)): root(d) for ins in instrs if ins[0] != "guard" for d in ins[4]}
    undo = [np.ndarray.view(saved[r], np.ndarray) for r in undo]
    if sum(a.nbytes for a in undo) > _UNDO_BYTES:
        raise NotReplayableError(
            "it reads a value on the host (bool(), int(), .tolist()) after changing more state "
            "than a replay can put back cheaply"
        )
    return tuple(segments), tuple((a, np.empty_like(a)) for a in undo)


def _under(calls, err):
    """One callable running ``calls`` under ``np.errstate(**err)`` (as they were traced)."""

    def run():
        with np.errstate(**err):
            for call in calls:
                call()

    return run


def _callable(ins, moved, env):
    """One instruction as a function of no arguments, on the arrays ``moved`` assigns."""
    kind, func, args, kwargs, dests, _ = ins
    args, kwargs, dests = remap(args, moved), remap(kwargs, moved), remap(dests, moved)
    if contains(args) or contains(kwargs):  # a step counter: evaluated on each replay

        def fn():
            e = env[0]
            return func(*evaluate(args, e), **evaluate(kwargs, e))

    else:
        fn = functools.partial(func, *args, **kwargs)
    if kind == "call":
        return fn
    if kind == "shaped":
        *dests, flag = dests

        def checked_copy():
            found = fn()
            found = found if isinstance(found, (tuple, list)) else (found,)
            same = all(v.shape == d.shape for d, v in zip(dests, found))
            flag[()] = same  # read by the guard that follows: a miss if the shape changed
            if same:
                for d, v in zip(dests, found):
                    np.copyto(d, v)

        return checked_copy
    if len(dests) == 1:
        (dest,) = dests
        return lambda: np.copyto(dest, fn())

    def copy_all():
        for d, v in zip(dests, fn()):
            np.copyto(d, v)

    return copy_all


def _leaves(spec):
    kind = spec[0]
    if kind in ("tuple", "list", "named"):
        for s in spec[1]:
            yield from _leaves(s)
    elif kind == "dict":
        for s in spec[2]:
            yield from _leaves(s)
    else:
        yield spec


_SCALARS = (bool, int, float, complex, str, bytes, type(None))


def output_spec(result, inputs, live=False):
    """How to rebuild ``result`` after a replay: tensors become ("T", array, device) (copied on
    each call), the inputs ("in", i), Python scalars stay, named tuples and dataclasses keep
    their class (``live``: tensors may carry a graph, captured with its backward). Raises
    :class:`NotReplayableError`."""
    cls = type(result)
    if cls in (tuple, list):
        return (cls.__name__, tuple(output_spec(r, inputs, live) for r in result))
    if isinstance(result, tuple) and hasattr(cls, "_fields"):  # values, indices = x.max(0)
        return ("named", tuple(output_spec(r, inputs, live) for r in result), cls)
    if cls is dict:
        values = tuple(output_spec(v, inputs, live) for v in result.values())
        return ("dict", tuple(result), values)
    if isinstance(result, Tensor):
        fn = result.grad_fn
        if fn is not None and not live and not released(fn):
            raise NotReplayableError(
                "it returns a tensor whose autograd graph is still alive (a backward outside "
                "the compiled function is not captured: compile the whole step)"
            )
        for i, t in enumerate(inputs):
            if t is result:
                return ("in", i)
        return ("T", raw(result), result.device)
    if cls in _SCALARS:
        return ("py", result)
    if cls is Sym:  # a number computed from a step counter: recomputed on each replay
        return ("sym", result.fn, result.value)
    fields = dataclass_fields(result)
    if fields is not None:  # a model's output record (transformers' ModelOutput)
        values = tuple(output_spec(getattr(result, f), inputs, live) for f in fields)
        return ("dataclass", cls, fields, values)
    raise NotReplayableError(
        f"it returns a {cls.__name__} (tensors and Python scalars can be replayed)"
    )


def build_outputs(spec, inputs, env=None):
    """Fresh outputs from ``spec``: copies, so that a held result is not overwritten later
    (``env``: the step counters of a replay, None on the traced call)."""
    kind = spec[0]
    if kind == "T":
        return Tensor._make(spec[1].copy(), spec[2])
    if kind == "py":
        return spec[1]
    if kind == "sym":
        return spec[2] if env is None else spec[1](env)
    if kind == "in":
        return inputs[spec[1]]
    if kind == "dict":
        return {k: build_outputs(s, inputs, env) for k, s in zip(spec[1], spec[2])}
    if kind == "dataclass":
        return spec[1](**{f: build_outputs(s, inputs, env) for f, s in zip(spec[2], spec[3])})
    items = [build_outputs(s, inputs, env) for s in spec[1]]
    if kind == "named":
        return spec[2](*items)
    return tuple(items) if kind == "tuple" else items
