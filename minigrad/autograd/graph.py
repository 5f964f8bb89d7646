"""The backward graph: nodes, edges, saved tensors and their version checks.

A tensor made by a recorded op points to its node (``grad_fn``); a node points to the nodes of
its inputs through ``edges``, a tuple of ``(node, output_nr)`` pairs (``None`` for inputs
that need no gradient; ``next_functions`` shows them as ``(None, 0)``, as PyTorch). A leaf that requires grad is reached through its
:class:`AccumulateGrad` node, which the leaf itself holds only by weak reference. Nodes never
reference the tensors they produce, so a graph is freed by reference counting alone.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import re
import warnings
import weakref

# saved-tensor hooks live beside the graph, under PyTorch's path torch.autograd.graph
from .._public_name import PublicRepr
from .._sparse_compressed import SparseCompressed
from .._sparse_coo import SparseCOO
from . import _saved_hooks, _saved_slots, anomaly, grad_mode
from ._saved_hooks import (  # noqa: F401
    allow_mutation_on_saved_tensors,
    disable_saved_tensors_hooks,
    save_on_cpu,
    saved_tensors_hooks,
)


def register_multi_grad_hook(tensors, fn, *, mode: str = "all"):
    """``fn`` sees the gradients of several tensors together, once per backward pass
    (``torch.autograd.graph.register_multi_grad_hook``): with ``mode="all"``, ``fn(grads)``
    after every one of ``tensors`` that this backward reaches has its gradient (None for the
    others); with ``mode="any"``, ``fn(grad)`` on the first gradient computed. Returns a
    handle whose ``remove()`` unregisters it."""
    from ._multi_grad import register

    return register(tensors, fn, mode)


def region_activation_memory_budget(budget: float):
    """PyTorch's marker of a region's activation-memory budget for the compiler's
    recomputation planner (``torch.autograd.graph.region_activation_memory_budget``): a
    ``RuntimeError`` outside :func:`minigrad.compile`, as PyTorch's in eager mode. Under
    minigrad's compile the block runs as it is: its capture replays the recorded step and
    plans no recomputation, so there is no budget to apply."""
    import contextlib

    from ..compiler import is_compiling  # a layer above: imported when called

    op = "torch.autograd.graph.region_activation_memory_budget"
    if isinstance(budget, bool) or not isinstance(budget, (int, float)):
        raise TypeError(f"{op}: expects a float, got {type(budget).__name__}")
    if not 0.0 <= budget <= 1.0:
        raise ValueError(f"{op}: must be in [0, 1], got {budget}")
    if not is_compiling():
        raise RuntimeError(
            f"{op} can only be used inside a torch.compile region; it has no effect in eager mode."
        )
    return contextlib.nullcontext()


# The Tensor class (layer 4) registers itself here at import, so the layers below it can wrap
# arrays in tensors without importing upward.
Tensor = None


def register_tensor_class(cls) -> None:
    global Tensor
    Tensor = cls


class VersionCounter:
    """Counts in-place changes to a tensor's data; shared by a tensor and its views."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


class InferenceCounter(VersionCounter):
    """The counter of an inference tensor (made under ``inference_mode``): it counts nothing,
    and refuses in-place changes outside inference mode, as PyTorch's inference tensors do."""

    __slots__ = ()

    def __init__(self):
        pass

    @property
    def value(self) -> int:
        return 0

    @value.setter
    def value(self, _) -> None:
        check_inference_write()


INFERENCE = InferenceCounter()  # one for all: inference tensors track no versions


def check_inference_write() -> None:
    """Refuse an in-place change of an inference tensor outside inference mode; called where
    the version is bumped, after the write, as PyTorch's check runs after its kernel."""
    if not grad_mode._state.inference:
        raise RuntimeError(
            "Inplace update to inference tensor outside InferenceMode is not allowed. You can "
            "make a clone to get a normal tensor before doing inplace update. (The values are "
            "written first, as in PyTorch.)"
        )


def refuse_inference_save() -> None:
    raise RuntimeError(
        "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
        "inference mode in computation tracked by autograd. To work around this, you can make "
        "a clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` "
        "instead of `torch.inference_mode()`."
    )


def refuse_inference_index(index, *inputs) -> None:
    """Refuse an inference tensor used as the index of an op that records a graph: PyTorch
    saves an op's index tensor for backward (embedding's, gather's, ``x[idx]``'s), so it raises
    as it does for a saved input; minigrad's ops keep the bare index array, checked here."""
    if (
        index._version_counter is INFERENCE
        and grad_mode._state.enabled
        and any(getattr(t, "requires_grad", False) for t in inputs)
    ):
        refuse_inference_save()


def version_counter(tensor) -> VersionCounter:
    """The tensor's counter, created on first need (most tensors are never saved or mutated)."""
    counter = tensor._version_counter
    if counter is None:
        counter = tensor._version_counter = VersionCounter()
    return counter


def modified_error(array, device, grad_fn, output_nr: int, saved) -> RuntimeError:
    """PyTorch's error (its words, which people search for) for a tensor saved for backward
    that an in-place op changed since: its legacy type and shape, the node whose output it is
    (none for a leaf), and its version now and when it was saved."""
    from .. import dtypes  # a layer above the graph: imported on this error path only
    from .._public_name import shown

    kind = dtypes.legacy_type_name(array.dtype, device.type == "cuda")
    which = ""
    if grad_fn is not None:
        op = re.sub(r"Backward\d*$", "", class_name(grad_fn))
        which = f", which is output {output_nr} of {op},"
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{kind} {list(array.shape)}]{which} is at version {saved.counter.value}; "
        f"expected version {saved.version} instead. Hint: enable anomaly detection to find the "
        f"operation that failed to compute its gradient, with "
        f"{shown()}.autograd.set_detect_anomaly(True, check_nan=False)."
    )


class SavedTensor:
    """A tensor kept for backward, with the version it had when saved.

    The node's own output is kept as its bare array (holding the tensor would make a cycle
    through ``grad_fn``) and rebuilt on unpacking, connected to the node again so that
    double backward flows through it.
    """

    __slots__ = ("tensor", "array", "device", "counter", "version", "output_nr", "tangents")

    def __init__(self, tensor, output_nr: int | None = None):
        counter = tensor._version_counter
        if counter is None:
            counter = tensor._version_counter = VersionCounter()
        elif counter is INFERENCE:
            refuse_inference_save()
        self.counter, self.version = counter, counter.value
        self.output_nr = output_nr
        if output_nr is not None:
            self.tensor, self.array, self.device = None, tensor._data, tensor.device
            self.tangents = None  # forward AD: restores the output's tangents on a rebuilt one
        else:
            self.tensor = tensor

    def unpack(self, node: Node, index: int):
        if self.counter.value != self.version:
            if self.output_nr is None:
                t = self.tensor
                raise modified_error(t._data, t.device, t.grad_fn, t._output_nr, self)
            raise modified_error(self.array, self.device, node, self.output_nr, self)
        if self.output_nr is None:
            return self.tensor
        out = Tensor._make(self.array, self.device, True, node)
        out._version_counter, out._output_nr = self.counter, self.output_nr
        if self.tangents is not None:
            self.tangents(out)
        return out


class RawSavedTensor:
    """``grad_fn._raw_saved_<name>``: one saved tensor of a node, as PyTorch's SavedVariable,
    whose :meth:`register_hooks` packs it now and unpacks it when backward reads it."""

    __slots__ = ("node", "index")

    def __init__(self, node: Node, index: int):
        self.node, self.index = node, index

    def register_hooks(self, pack_hook, unpack_hook) -> None:
        """Keep what ``pack_hook(tensor)`` returns in place of the saved tensor; backward reads
        ``unpack_hook(packed)``. Once per saved tensor, as in PyTorch."""
        node, index = self.node, self.index
        saved = node._saved[index] if index < len(node._saved) else None
        if node._released:
            raise RuntimeError(
                "Calling register_hooks on a saved tensor after it has been freed. Saved "
                "intermediate values of the graph are freed when you call .backward() or "
                "autograd.grad(). Specify retain_graph=True if you need to backward through the "
                "graph a second time or if you need to access saved variables after calling "
                "backward."
            )
        if isinstance(saved, _saved_hooks.HookedSavedTensor):
            raise RuntimeError("SavedTensor hooks have already been set on this SavedTensor")
        if not isinstance(saved, SavedTensor):
            raise RuntimeError(
                "Setting hooks on a saved tensor that is None (nothing was saved) is forbidden"
            )
        tensor = saved.unpack(node, index)
        hooked = _saved_hooks.HookedSavedTensor(tensor, node, unpack_hook, pack_hook(tensor))
        node._saved = node._saved[:index] + (hooked,) + node._saved[index + 1 :]


def named_as(tensor, name: str):
    """``tensor``, its ``grad_fn`` showing PyTorch's node ``name``: for a function minigrad
    composes of several ops where PyTorch records one node (``mean`` ends in a division,
    shown as MeanBackward0), called on the function's own last result. Names only: the
    node's backward is unchanged."""
    if tensor.grad_fn is not None:
        _rename(tensor.grad_fn, name)
    return tensor


def _rename(node, name: str) -> None:
    node.__class__ = renamed_class(type(node), name)  # (its name() and its class name)


# -- a recorded node's Python class, named as PyTorch's node (type(y.grad_fn).__name__) --------
# Each node class gets one subclass per PyTorch node name its nodes show (Mul's nodes are of
# class ``MulBackward0``, a subclass of Mul, so isinstance(node, Mul) holds), made once and
# cached; a node takes it when it is recorded (Op.__call__) or renamed (_rename). The subclasses
# add no slots, so assigning ``__class__`` is allowed, and carry ``_node_base`` in their own
# ``__dict__`` (the class they name), by which code that walks ``__subclasses__()`` skips them.
_NAMED: dict = {}  # (class, name, renamed) -> the subclass
_RECORDED: dict = {}  # node class -> its recorded subclass; None where name() reads the node
_PER_NODE: dict = {}  # (node class, name) -> its recorded subclass, where name() reads the node


def node_subclass(cls, name: str, renamed: bool = False) -> type:
    """The subclass of node class ``cls`` whose ``__name__`` and ``__qualname__`` are PyTorch's
    node ``name`` (less a C++ namespace), module ``builtins`` as PyTorch's generated node
    classes; with ``renamed``, its ``name()`` returns ``name`` (see :func:`named_as`)."""
    key = (cls, name, renamed)
    sub = _NAMED.get(key)
    if sub is None:
        short = name.rpartition("::")[2]
        body = {"__slots__": (), "__qualname__": short, "__module__": "builtins"}
        body.update(_node_base=cls, __doc__=cls.__doc__)
        if renamed:
            body["name"] = staticmethod(lambda: name)
        sub = _NAMED[key] = type(cls)(short, (cls,), body)
    return sub


def op_class(node) -> type:
    """The class ``node`` was made as: its op class, not the named class it takes when recorded
    (for code that looks an op up by its class or class name: forward-AD rules, pack order)."""
    cls = type(node)
    return cls.__dict__.get("_node_base", cls)


def is_node_subclass(cls) -> bool:
    """Whether ``cls`` is one of the generated node classes of :func:`node_subclass` (walkers of
    the op classes' ``__subclasses__()`` skip them)."""
    return "_node_base" in cls.__dict__


def recorded_class(node) -> type:
    """The class ``node`` takes when recorded: its op class's subclass named ``node.name()``.
    Op.__call__ looks up :data:`_RECORDED` itself and calls this on a miss: for ops whose
    name depends on the node (``SubBackward0``/``RsubBackward1``), one call of ``name()`` and
    one lookup here."""
    cls = type(node)
    if cls in _RECORDED:  # name() reads the node
        sub = _PER_NODE.get((cls, node.name()))
        if sub is not None:
            return sub
    base = cls.__dict__.get("_node_base", cls)
    fixed = isinstance(inspect.getattr_static(base, "name"), (classmethod, staticmethod))
    if fixed:
        sub = _RECORDED[cls] = node_subclass(base, base.name())
        return sub
    _RECORDED[cls] = None
    name = node.name()
    sub = _PER_NODE[cls, name] = node_subclass(base, name)
    return sub


def renamed_class(cls, name: str) -> type:
    """The class of a node of class ``cls`` renamed ``name`` (:func:`named_as`)."""
    return node_subclass(cls.__dict__.get("_node_base", cls), name, renamed=True)


def names_node(name):
    """Decorator of a function minigrad composes where PyTorch records one node: its result (each
    tensor of a tuple result) shows PyTorch's ``name``, or ``name(*args, **kwargs)`` where the
    name depends on the overload called (see :func:`named_as`). A result that is an input itself
    keeps its node's name.

    Example:
        >>> @names_node("FracBackward0")
        ... def frac(input):
        ...     return input - input.trunc()
    """

    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            out = fn(*args, **kwargs)
            items = out if isinstance(out, (tuple, list)) else (out,)
            nodes = [getattr(t, "grad_fn", None) for t in items]
            if not any(nodes):
                return out
            label = name(*args, **kwargs) if callable(name) else name
            given = itertools.chain(args, kwargs.values())
            inputs = {id(a.grad_fn) for a in given if isinstance(a, Tensor)}
            for node in nodes:
                if node is not None and id(node) not in inputs:
                    _rename(node, label)
            return out

        return run

    return wrap


def class_name(node) -> str:
    """The name PyTorch's ``repr`` shows for a node (``<AddBackward0 object at ...>``, a tensor's
    ``grad_fn=<AddBackward0>``): its ``name()``, less a C++ namespace (``name()`` of an in-place
    change through a view is ``torch::autograd::CopySlices``, its Python class CopySlices)."""
    return node.name().rpartition("::")[2]


_NO_EDGE = (None, 0)  # how PyTorch shows an input that needs no gradient
# nodes whose PyTorch op takes the number operand as a Scalar argument, not an input
_SCALAR_ARGUMENT_NODES = frozenset(
    {"RsubBackward1", "PowBackward0", "PowBackward2", "ReciprocalBackward0"}
)


# Types of values that are never tensors: hot loops test ``type(x) is Tensor``, then this set,
# before isinstance, whose slow path (Tensor has a metaclass, so isinstance of anything not
# exactly a Tensor calls its __instancecheck__) costs ~60 ns more for a number or None.
NOT_TENSORS = frozenset({float, int, bool, type(None), complex})


# True once a hook has been registered on any node (Node.register_prehook / register_hook,
# which Tensor.register_hook and retain_grad use): until then the engine skips its two hook
# tests per node, reads of class attributes that CPython 3.11 does not specialize.
hooked = False


class Node:
    """One recorded operation: computes the gradients of its inputs from its outputs'.

    Subclasses implement ``backward``; the engine calls :meth:`apply` (the GPU to run on, the
    count of gradients) and checks each gradient against its input (:meth:`_check`: shapes,
    dtypes, devices) as it passes it on.
    """

    edges: tuple = ()  # one (node, output_nr) edge or None per input (the engine walks these)
    input_meta: tuple = ()  # (shape, numpy dtype, device) per input, to check gradients
    num_outputs = 1
    # True for built-in ops: their backward returns only tensors it made (or was given), never
    # one that user code may hold, so a new buffer among them may become a leaf's .grad
    # (engine.py settles which).
    fresh_results = False
    pre_hooks = None  # {handle id: (output_nr, hook)} run on incoming gradients
    post_hooks = None  # {handle id: hook(grad_inputs, grad_outputs)} run after backward
    trace = None  # the forward stack where this node was created (anomaly mode)
    _saved = ()  # SavedTensor (or other values) kept by save()
    _kept = None  # {name: array} kept by keep()
    _unpack_order = None  # saved_tensors_hooks: PyTorch's unpack order where not 0, 1, ...
    _released = False

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @property
    def next_functions(self) -> tuple:
        """PyTorch's view of :attr:`edges`: a ``(node, output_nr)`` pair per input, ``(None, 0)``
        for an input that needs no gradient (so ``for fn, _ in node.next_functions`` works).
        The nodes of PyTorch's ops that take a number as a ``Scalar`` (``2 - t``, ``t ** 2``,
        ``2 ** t``, ``1 / t``) have no entry for it, as there."""
        edges = self.edges
        if self.name() in _SCALAR_ARGUMENT_NODES:
            edges = tuple(e for e, meta in zip(edges, self.input_meta) if meta is not None)
        return tuple(_NO_EDGE if e is None else e for e in edges)

    def __repr__(self) -> str:
        return f"<{class_name(self)} object at {id(self):#x}>"

    # -- recording ------------------------------------------------------------------------------
    def connect(self, inputs) -> None:
        """Record this node's edges to ``inputs`` (tensors and other values, one per input of
        forward) and the metadata that backward's gradients are checked against.

        The recording path of custom Functions; ``Op.__call__`` collects the same edges and
        metadata in its own loop over the arguments (keep the two alike).
        """
        tensor_cls = Tensor
        edges, meta = [], []
        for a in inputs:
            if isinstance(a, tensor_cls):
                grad_fn = a.grad_fn  # gradient_edge(a), with its common cases inline
                if grad_fn is not None:
                    edges.append((grad_fn, a._output_nr))
                elif a._base is None:  # not a view: its own flag (no view to bring up to date)
                    edges.append((grad_accumulator(a), 0) if a._requires_grad else None)
                else:
                    edges.append(gradient_edge(a))
                data = a._data
                meta.append((data.shape, data.dtype, a.device))
            else:
                edges.append(None)
                meta.append(None)
        self.edges, self.input_meta = tuple(edges), tuple(meta)
        if anomaly._state.enabled:
            self.trace = anomaly.creation_stack()

    # -- what forward keeps for backward ------------------------------------------------------------
    # Two kinds, one lifetime: tensors (save: version-checked against in-place changes) and
    # intermediate arrays of forward (keep). Both are dropped by release() after a backward
    # without retain_graph; reading either afterwards is the "backward twice" error.
    def save(self, tensors) -> None:
        """Keep ``tensors`` (None and other values allowed) for backward.

        An output of this node (its ``grad_fn`` is this node) is kept as its bare array and
        rebuilt on unpacking: holding the tensor would make a reference cycle.
        """
        tensor_cls = Tensor
        if _saved_hooks.active and _saved_hooks._state.stack:  # saved_tensors_hooks open here
            saved = list(tensors)
            order = _saved_hooks.pack_order(tensors, self)  # PyTorch's order of pack calls
            for i in order:
                if isinstance(saved[i], tensor_cls):
                    saved[i] = _saved_hooks.packed(saved[i], self)
            self._saved = tuple(saved)
            if not isinstance(order, range):  # unpacked in the same order, as PyTorch's
                self._unpack_order = order
            return
        saved = []  # a loop, not a comprehension: this runs once per recorded op
        for t in tensors:  # (the type first: see NOT_TENSORS)
            kind = type(t)
            if kind is tensor_cls or (kind not in NOT_TENSORS and isinstance(t, tensor_cls)):
                t = SavedTensor(t, t._output_nr if t.grad_fn is self else None)
            saved.append(t)
        self._saved = tuple(saved)

    def keep(self, **arrays) -> None:
        """Keep intermediate arrays of forward for backward (``self.kept_arrays[name]``).

        For values that are costly to recompute (a softmax, normalized inputs, im2col
        windows, argmax positions). They are arrays, not tensors: backward wraps them as
        constants, or recomputes them with tensor ops where the backward must itself be
        differentiable in them.
        """
        if self._kept is None:
            self._kept = arrays
        else:
            self._kept.update(arrays)

    @property
    def kept_arrays(self) -> dict:
        """The arrays kept by :meth:`keep` (an empty dict if none)."""
        if self._released:
            self._raise_released()
        return self._kept if self._kept is not None else {}

    @property
    def saved(self) -> tuple:
        """The saved tensors, checked against in-place changes since they were saved (what
        backward reads). Not named ``saved_tensors``: PyTorch's built-in nodes have no such
        attribute (only a custom Function's ``ctx`` has it), and graph walkers such as
        torchviz's ``make_dot`` take its presence for a custom Function's node."""
        entries = self._saved
        if not entries:  # (release empties it: a node with entries was not released)
            if self._released:
                self._raise_released()
            return entries
        saved_cls, hooked_cls = SavedTensor, _saved_hooks.HookedSavedTensor
        for s in entries:
            if type(s) is saved_cls or type(s) is hooked_cls:
                break
        else:  # numbers and None only (``x * 2`` keeps the 2): nothing to unpack
            return entries
        if self._unpack_order is not None:  # hooks see PyTorch's order (other before self)
            saved = list(self._saved)
            for i in self._unpack_order:
                s = saved[i]
                if type(s) is saved_cls or type(s) is hooked_cls:
                    saved[i] = s.unpack(self, i)
            return tuple(saved)
        saved = []  # a loop: this runs once per node of a backward
        for i, s in enumerate(entries):
            kind = type(s)
            if kind is saved_cls and s.output_nr is None and s.counter.value == s.version:
                saved.append(s.tensor)  # an unchanged input: SavedTensor.unpack's common case
            else:
                saved.append(s.unpack(self, i) if kind is saved_cls or kind is hooked_cls else s)
        return tuple(saved)

    # -- PyTorch's view of what was saved: grad_fn._saved_self, grad_fn._raw_saved_self ----------
    def saved_slot_names(self) -> tuple:
        """PyTorch's names of the entries of ``_saved`` (``("self", "other", "result")``), which
        ``grad_fn._saved_<name>`` reads; none for a node that does not name them."""
        return ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _saved_slots.declare(Node, (*getattr(cls, "input_names", ()), "result"))

    def __dir__(self):
        """With the ``_saved_<name>`` / ``_raw_saved_<name>`` attributes of what this node saved,
        as PyTorch's nodes list them (torchviz's ``make_dot(show_attrs=True, show_saved=True)``
        reads ``dir``); see :mod:`._saved_slots`."""
        return _saved_slots.public_dir(type(self), super().__dir__(), self.saved_slot_names())

    def _unpack_saved_at(self, index: int):
        """The saved entry ``index`` as backward reads it, unpacking (its unpack hook, its
        version check) that one alone, as PyTorch's ``grad_fn._saved_<name>`` does."""
        if self._released:
            self._raise_released()
        s = self._saved[index] if index < len(self._saved) else None
        if type(s) is SavedTensor or type(s) is _saved_hooks.HookedSavedTensor:
            return s.unpack(self, index)
        return s

    def _raise_released(self) -> None:
        raise RuntimeError(
            f"Trying to backward through the graph a second time (or directly access saved "
            f"tensors after they have already been freed). Saved intermediate values of the "
            f"graph are freed when you call .backward() or autograd.grad(). Specify "
            f"retain_graph=True if you need to backward through the graph a second time or if "
            f"you need to access saved tensors after calling backward. (The node: {self.name()}.)"
        )

    def release(self) -> None:
        """Free what was saved and kept for backward (after a backward without ``retain_graph``)."""
        if self._saved:
            self._saved = ()
            self._released = True
        if self._kept is not None:
            self._kept = None
            self._released = True

    # -- hooks ---------------------------------------------------------------------------------
    def register_prehook(self, hook, output_nr: int | None = None):
        """PyTorch's ``Node.register_prehook``: ``hook(grad_outputs)`` (a tuple, one gradient
        or None per output) runs before this node's backward, after the tensors' hooks, and
        may return replacement gradients. With ``output_nr`` (how ``Tensor.register_hook``
        uses it) ``hook(grad)`` sees that output's gradient alone."""
        global hooked
        hooked = True
        if self.pre_hooks is None:
            self.pre_hooks = {}
        handle = RemovableHandle(self.pre_hooks)
        self.pre_hooks[handle.id] = (output_nr, hook)
        return handle

    def register_hook(self, hook):
        """PyTorch's ``Node.register_hook``: ``hook(grad_inputs, grad_outputs)`` (tuples) runs
        after this node's backward and may return replacement ``grad_inputs``."""
        global hooked
        hooked = True
        if self.post_hooks is None:
            self.post_hooks = {}
        handle = RemovableHandle(self.post_hooks)
        self.post_hooks[handle.id] = hook
        return handle

    # -- backward ------------------------------------------------------------------------------
    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{self.name()} has no backward")

    def apply(self, grad_outputs: list) -> tuple:
        """Run backward: one gradient (or None) per input edge, as backward returned them (the
        engine checks each against its input, :meth:`_check`, as it passes it on)."""
        device = getattr(self, "device", None)
        if device is not None and device.index != device.backend.current:
            with device.backend.using(device.index):  # kernels on the op's GPU (cuda:1 and up)
                grads = self.backward(*grad_outputs)
        else:
            grads = self.backward(*grad_outputs)
        return self.one_per_input(grads)

    def one_per_input(self, grads) -> tuple:
        """What backward returned, as a tuple of one gradient (or None) per input edge; an
        error naming the node when the count differs."""
        if type(grads) is not tuple:
            grads = grads if isinstance(grads, tuple) else (grads,)
        if len(grads) != len(self.edges):
            raise RuntimeError(
                f"function {self.name()} returned an incorrect number of gradients "
                f"(expected {len(self.edges)}, got {len(grads)})"
            )
        return grads

    def holds(self, array) -> bool:
        """Whether ``array`` is the array of a tensor this node saved or one it kept (the engine
        asks once per gradient it may let a leaf adopt)."""
        for s in self._saved:
            if isinstance(s, SavedTensor) and (
                (s.array if s.tensor is None else s.tensor._data) is array
            ):
                return True
        for value in (self._kept or {}).values():
            if value is array:
                return True
            if isinstance(value, tuple):
                for v in value:
                    if v is array:
                        return True
        return False

    def _check(self, grad, index: int, meta):
        """Sum a broadcast gradient down to its input's shape; match the input's dtype (the
        real part of a complex gradient for a real input)."""
        if not isinstance(grad, Tensor):
            raise TypeError(
                f"function {self.name()} returned a {type(grad).__name__} as gradient {index}; "
                f"expected a Tensor or None"
            )
        shape, np_dtype, device = meta
        if grad.device is not device:
            raise RuntimeError(
                f"function {self.name()} returned gradient {index} on {grad.device}, but the "
                f"input is on {device}"
            )
        if grad._data.shape != shape:
            try:
                reduced = grad.sum_to_size(shape)
            except RuntimeError:
                raise RuntimeError(
                    f"Function {self.name()} returned an invalid gradient at index {index} - got "
                    f"{list(grad.shape)} but expected shape compatible with {list(shape)}"
                ) from None
            if not reduced.requires_grad:
                mark_adoptable(reduced, grad._data)
            grad = reduced
        if grad._data.dtype != np_dtype:
            if grad._data.dtype.kind == "c" and np_dtype.kind != "c":
                with warnings.catch_warnings():  # a real input's gradient is the real part
                    warnings.filterwarnings("ignore", "Casting complex values to real")
                    cast = grad.to(np_dtype)
            else:
                cast = grad.to(np_dtype)
            if not cast.requires_grad:
                mark_adoptable(cast, grad._data)
            grad = cast
        return grad


class AccumulateGrad(Node):
    """The node of a leaf tensor: adds incoming gradients into ``leaf.grad``."""

    def __init__(self, leaf):
        self.variable = leaf
        self.input_meta = ((leaf._data.shape, leaf._data.dtype, leaf.device),)

    @classmethod
    def name(cls) -> str:
        return "torch::autograd::AccumulateGrad"  # PyTorch's name() (repr: AccumulateGrad)

    def accumulate(self, grad, create_graph: bool) -> None:
        leaf = self.variable
        meta = self.input_meta[0]
        data = grad._data if type(grad) is Tensor else None
        if not (  # the common case inline: the engine checked it against the same input
            data is not None
            and grad.device is meta[2]
            and data.shape == meta[0]
            and data.dtype is meta[1]
        ):
            grad = self._check(grad, 0, meta)
        hooks = leaf._hooks
        if hooks:
            grad = self.run_tensor_hooks(grad)
        accumulate_into(leaf, grad, create_graph)
        if hooks:
            for hook in list(hooks.values()):
                if type(hook) is PostAccumulateGradHook:
                    hook.fn(leaf)

    def run_tensor_hooks(self, grad):
        """The leaf's ``register_hook`` hooks on ``grad`` (each may replace it), as they run
        before accumulation and on a leaf's gradient that ``autograd.grad`` returns."""
        for hook in list((self.variable._hooks or {}).values()):
            if type(hook) is PostAccumulateGradHook:
                continue
            disown(grad)  # the hook may keep it
            result = hook(grad)
            if result is not None:
                grad = checked_hook_result(hook, grad, result)
        return grad


def checked_hook_result(hook, grad, result):
    """The gradient a tensor hook returned, refused in PyTorch's words when its dtype, device
    or shape differs from the gradient the hook was given."""
    name = getattr(hook, "__name__", "<unknown>")
    if isinstance(result, Tensor) and isinstance(grad, Tensor):
        if result.dtype != grad.dtype or result.device != grad.device:
            raise RuntimeError(
                f"hook '{name}' has changed the type of value (was {grad.type()} got "
                f"{result.type()})"
            )
        if result.shape != grad.shape:
            raise RuntimeError(f"hook '{name}' has changed the size of value")
    return result


class PostAccumulateGradHook:
    """An entry of a leaf's hook list that runs ``fn(leaf)`` after its ``.grad`` was updated
    (``register_post_accumulate_grad_hook``), rather than on the incoming gradient."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn


# Leaves given a grad_dtype (Tensor.grad_dtype's setter): id(tensor) -> dtype or None; an entry
# leaves with its tensor (weakref.finalize), so Tensor needs no slot for this rare setting.
GRAD_DTYPES: dict = {}


def accumulate_into(tensor, grad, create_graph: bool) -> None:
    """``tensor.grad += grad``: in place into a buffer of its own, or as a graph with create_graph.

    The first gradient becomes ``.grad`` without a copy when the engine marked its buffer as
    one that nobody else sees (:func:`mark_adoptable`); any other is copied, so that a later
    in-place accumulation never writes into memory that someone else holds.
    """
    wanted = GRAD_DTYPES.get(id(tensor)) if GRAD_DTYPES else None  # (Tensor.grad_dtype)
    if wanted is not None and grad.dtype is not wanted:
        grad = grad.to(wanted)
    held = tensor._grad if type(tensor).grad is Tensor.grad else tensor.grad  # (no call)
    if held is None:
        if create_graph:
            tensor.grad = grad
        elif grad._adoptable and _may_adopt(grad._data, tensor._data):
            grad._adoptable = False  # adopted once: the buffer now belongs to tensor.grad
            tensor.grad = Tensor._make(grad._data, grad.device)
        else:
            tensor.grad = _copy_in_layout(grad, tensor)
    elif create_graph or tensor.grad.requires_grad:
        tensor.grad = _sum(tensor.grad, grad)
    else:
        try:
            tensor.grad._data += grad._data
        except TypeError:  # a sparse (minigrad.sparse) or nested (minigrad.nested) gradient
            sparse = (SparseCOO, SparseCompressed)
            if type(grad._data) in sparse and type(tensor.grad._data) not in sparse:
                add_sparse_into(tensor.grad, grad)
            else:  # sparse stays sparse only with sparse; nested adds to nested
                tensor.grad = _sum(tensor.grad, grad)


def _dense(a) -> bool:
    """Whether array ``a`` is non-overlapping and dense: a permutation of a contiguous array
    (the dims of length 1 aside)."""
    expected = a.itemsize
    for stride, n in sorted((s, n) for s, n in zip(a.strides, a.shape) if n != 1):
        if stride != expected:
            return False
        expected *= n
    return True


def _may_adopt(g, p) -> bool:
    """Whether gradient buffer ``g`` may become ``.grad`` of a leaf holding ``p`` as it is:
    it obeys PyTorch's gradient layout contract (``p``'s strides when ``p`` is dense and
    non-overlapping, else row-major), or the contract is relaxed (enforce_grad_layout_policy)."""
    if not grad_mode._state.grad_layout_enforced:
        return hasattr(g, "strides")
    if not (hasattr(g, "strides") and hasattr(p, "strides")) or g.shape != p.shape:
        return g.flags.c_contiguous
    if p.flags.c_contiguous or not _dense(p):
        return g.flags.c_contiguous
    return all(
        gs // g.itemsize == ps // p.itemsize
        for gs, ps, n in zip(g.strides, p.strides, p.shape)
        if n != 1
    )


def _copy_in_layout(grad, tensor):
    """A copy of ``grad`` laid out as the gradient layout contract says: with the strides of
    ``tensor`` when it is dense and non-overlapping but not row-major, else row-major."""
    g, p = grad._data, tensor._data
    if not (hasattr(g, "strides") and hasattr(p, "strides")) or g.shape != p.shape:
        return grad.detach().clone()
    if p.flags.c_contiguous or not _dense(p):
        return grad.detach().clone(memory_format=_contiguous_format())
    out = grad.device.xp.empty_like(p, dtype=g.dtype)  # (order "K": p's strides)
    out[...] = g
    return Tensor._make(out, grad.device)


def _contiguous_format():
    from .. import _memory_format

    return _memory_format.contiguous_format


def _sum(grad, new):
    """grad + new, where a sparse ``grad`` and a dense ``new`` sum to a dense tensor (add takes
    the dense operand first, as PyTorch's)."""
    sparse = (SparseCOO, SparseCompressed)
    if type(grad._data) in sparse and type(new._data) not in sparse:
        return new + grad
    return grad + new


def add_sparse_into(dense, grad) -> None:
    """``dense += grad`` in place for a sparse COO ``grad`` (its values added at its indices);
    any other ``grad`` is a type error of the caller's."""
    record = grad._data
    if type(record) not in (SparseCOO, SparseCompressed):
        raise TypeError(f"cannot add a {type(record).__name__} gradient into a dense one")
    dev = dense.device
    if dev.index != dev.backend.current:  # the kernel runs on the buffer's GPU
        with dev.backend.using(dev.index):
            return add_sparse_into(dense, grad)
    if type(record) is SparseCompressed:
        key, values = record.dense_key(dev.xp)
    else:
        key, values = tuple(record.indices[i] for i in range(record.sparse_dim)), record.values
    dev.backend.scatter_add(dense._data, key, values)


def mark_adoptable(grad, *sources):
    """Mark ``grad`` as a gradient buffer that only the engine sees, so that a leaf may adopt
    it as its ``.grad`` instead of copying it (as PyTorch's AccumulateGrad steals buffers).

    Only a freshly allocated array qualifies: not a view (``base is None``) and not the array
    of one of ``sources`` (the values it was computed from). Callers mark only tensors they
    just made and hand to the engine alone. Returns ``grad``.
    """
    data = grad._data
    if data.base is None:
        for s in sources:  # a loop, not any(): this runs once per gradient of a leaf
            if data is s:
                return grad
        grad._adoptable = True
    return grad


def disown(grad) -> None:
    """``grad`` has been seen outside the engine (a hook, a second consumer): never adopt it."""
    if grad is not None:
        grad._adoptable = False


def gradient_edge(tensor):
    """The edge through which gradient flows into ``tensor``, or None if it needs none."""
    grad_fn = tensor.grad_fn
    if grad_fn is not None:
        return (grad_fn, tensor._output_nr)
    if tensor.requires_grad:
        return (grad_accumulator(tensor), 0)
    return None


def grad_accumulator(leaf) -> AccumulateGrad:
    """The leaf's AccumulateGrad node, shared by every op that uses the leaf."""
    ref = leaf._accumulator
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(leaf)
        leaf._accumulator = weakref.ref(node)  # weak: the node holds the leaf strongly
    return node


class RetainGrad:
    """A pre-hook that stores a non-leaf tensor's gradient in its ``.grad`` (``retain_grad()``)."""

    runs_last = True

    def __init__(self, tensor):
        self.ref = weakref.ref(tensor)

    def __call__(self, grad):
        tensor = self.ref()
        if tensor is None:
            return
        create_graph = grad_mode.is_grad_enabled()
        own_dtype = GRAD_DTYPES and id(tensor) in GRAD_DTYPES
        if tensor.grad is None and hasattr(grad._data, "flags") and not own_dtype:
            tensor.grad = _retained(grad, create_graph)
        else:
            accumulate_into(tensor, grad, create_graph)


def _retained(grad, create_graph: bool):
    """A non-leaf's first retained gradient, as PyTorch's ``grad.clone(contiguous_format)``:
    row-major whatever the tensor's layout (the leaves' layout contract is not for it), and in
    a recorded backward a ``CloneBackward0`` node."""
    if create_graph:
        from .._memory_format import contiguous_format

        return grad.clone(memory_format=contiguous_format)
    data = grad._data
    if grad._adoptable and data.flags.c_contiguous:  # a buffer nobody else sees: as it is
        grad._adoptable = False
        return Tensor._make(data, grad.device)
    return Tensor._make(data.copy(order="C"), grad.device)


class RemovableHandle(PublicRepr):
    """Returned by every ``register_*hook`` (tensors, graph nodes, modules): ``remove()``
    unregisters the hook; also a context manager (``torch.utils.hooks.RemovableHandle``).

    Hooks live in dicts keyed by ``handle.id``, so removing one never disturbs the others'
    order; a handle may cover several dicts (a module hook and its ``with_kwargs`` flag).
    """

    _ids = itertools.count()

    def __init__(self, *hook_dicts):
        self.id = next(RemovableHandle._ids)
        self._dicts = hook_dicts

    def remove(self) -> None:
        for hooks in self._dicts:
            if isinstance(hooks, set):
                hooks.discard(self.id)
            else:
                hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()
