"""Recording one eager run for :func:`minigrad.jit.trace`: every public minigrad function and
Tensor method applied while the traced code runs on the example inputs becomes a node of a
minigrad.fx Graph, so that the traced object replays the path taken for those inputs.

The recorder is a :class:`minigrad.overrides.TorchFunctionMode`: it sees each call at the
level the user wrote it (``F.linear``, ``x.relu()``, ``x + y``), runs it, and records it when
it reads a traced value or makes a tensor. Python values read from tensors (``bool``,
``.item()``, ``len``, iteration) are baked into the graph with PyTorch's ``TracerWarning``;
sizes read from traced tensors are :class:`SizeInt` s, recorded where they reach an op (as in
PyTorch). Parameters and buffers of the traced module are read by
``get_attr`` (shared with the module); other tensors met on the way are constants.
minigrad's own layers are traced through; one whose forward computes a value outside the
public functions is recorded whole (``call_module``).
"""

from __future__ import annotations

import operator
import sys
import threading

from ._warnings import warn_user
from .backend import Device
from .dtypes import dtype
from .fx import Graph
from .fx.proxy import _tensor_method_name
from .nn.modules.container import ModuleDict, ModuleList, Sequential
from .overrides import TorchFunctionMode
from .tensor import Tensor

_CONVERSIONS = {
    "__bool__": "a Python boolean", "item": "a Python number", "__float__": "a Python float",
    "__int__": "a Python integer", "__index__": "a Python index", "tolist": "a Python list",
    "numpy": "a NumPy array", "__complex__": "a Python complex",
}  # fmt: skip
_CONSTANT_NOTE = (
    " might cause the trace to be incorrect. We can't record the data flow of Python values, so "
    "this value will be treated as a constant in the future. This means that the trace might "
    "not generalize to other inputs!"
)
_LEN_NOTE = (
    "Using len to get tensor shape might cause the trace to be incorrect. Recommended usage "
    "would be tensor.shape[0]. Passing a tensor of different shape might lead to errors or "
    "silently give incorrect results."
)
_ITER_NOTE = (
    "Iterating over a tensor might cause the trace to be incorrect. Passing a tensor of "
    "different shape won't change the number of iterations executed (and might lead to errors "
    "or silently give incorrect results)."
)
_TENSOR_NOTE = (
    "torch.tensor results are registered as constants in the trace. You can safely ignore this "
    "warning if you use this function to create tensors out of constant variables that would be "
    "the same every time you call this function. In any other case, this might cause the trace "
    "to be incorrect."
)
_PLAIN = (type(None), bool, int, float, complex, str, slice, type(Ellipsis))
_ITER_CODE = Tensor.__iter__.__code__
_OPERATORS = {"__getitem__": operator.getitem, "__setitem__": operator.setitem}
_CONTAINERS = (Sequential, ModuleList, ModuleDict)


def _warn(message: str) -> None:
    """A TracerWarning located in the traced code (the nearest frame outside minigrad)."""
    from .jit import TracerWarning

    warn_user(message, TracerWarning)


def has_tensor(value) -> bool:
    """Whether ``value`` is a tensor or a tuple/list/dict holding one."""
    if isinstance(value, Tensor):
        return True
    if isinstance(value, (tuple, list)):
        return any(has_tensor(v) for v in value)
    if isinstance(value, dict):
        return any(has_tensor(v) for v in value.values())
    return False


class SizeInt(int):
    """A size read from a traced tensor (``x.size(0)``, ``x.shape[1]``): an int whose
    arithmetic and whose use as an op argument are recorded, so that the recording follows the
    input's size, as PyTorch's trace does (``x.view(x.size(0), -1)``); Python control flow on
    it (``range(x.size(0))``, comparisons) uses its value, baked in."""

    def __new__(cls, value: int, node, recorder):
        obj = super().__new__(cls, value)
        obj.node, obj.recorder = node, recorder
        return obj


def _size_op(fn, reflected: bool = False):
    def method(self, other):
        if type(other) not in (int, SizeInt):
            return NotImplemented  # (a tensor's reflected operator records it; floats bake)
        a, b = (other, self) if reflected else (self, other)
        value = fn(int(a), int(b))
        rec = self.recorder
        if not rec.live():
            return value
        return SizeInt(value, rec.graph.call_function(fn, (rec.arg(a), rec.arg(b))), rec)

    return method


for _name in ("add", "sub", "mul", "floordiv", "mod"):
    _fn = getattr(operator, _name)
    setattr(SizeInt, f"__{_name}__", _size_op(_fn))
    setattr(SizeInt, f"__r{_name}__", _size_op(_fn, reflected=True))


def _size_neg(self):
    rec = self.recorder
    if not rec.live():
        return -int(self)
    return SizeInt(-int(self), rec.graph.call_function(operator.neg, (self.node,)), rec)


SizeInt.__neg__ = _size_neg
_SHAPE = Tensor.__dict__["shape"]
_active = threading.local()  # .stack: the recorders entered in this thread
_shape_users = [0]
_shape_lock = threading.Lock()


def _traced_shape(t):
    stack = getattr(_active, "stack", None)
    rec = stack[-1] if stack else None
    if rec is None or not rec.live() or not rec.known(t):
        return _SHAPE.__get__(t)
    return rec.sizes(t)


def _patch_shape(on: bool) -> None:
    """``Tensor.shape`` gives :class:`SizeInt` s of traced tensors while a trace records."""
    with _shape_lock:
        _shape_users[0] += 1 if on else -1
        if on and _shape_users[0] == 1:
            Tensor.shape = property(_traced_shape, doc=_SHAPE.__doc__)
        elif not on and _shape_users[0] == 0:
            Tensor.shape = _SHAPE


class Recorder(TorchFunctionMode):
    """Records the calls made while entered into ``graph`` (see the module docstring).

    Args:
        root: the traced module (its parameters and buffers are ``get_attr`` nodes), or None.
        prefix: what the names of the constants start with.
    """

    def __init__(self, root=None, prefix: str = ""):
        self.graph, self.prefix = Graph(), prefix
        self.root = root
        self.env: dict[int, object] = {}  # id(tensor) -> its node
        self.alive: list = []  # the tensors in env, kept so that their ids stay theirs
        self.state: dict[int, str] = {}
        if root is not None:
            for name, t in root.named_buffers(remove_duplicate=False):
                self.state.setdefault(id(t), name)
            for name, t in root.named_parameters(remove_duplicate=False):
                self.state.setdefault(id(t), name)
        self.attrs: dict[str, object] = {}  # get_attr target -> node
        self.constants: dict[str, object] = {}  # constant name -> value
        self.unseen = False  # whether a tensor of unknown origin was read (see layer_forward)
        self.depth = 0  # minigrad layers being traced through
        self._conversions: dict = {}
        self._len = self._unbind = self._tensor = self._size = None
        self._methods: dict = {}
        self.inside = False  # True while a recorded call runs (its inner code is not traced)
        self.entered = False

    def __enter__(self):
        super().__enter__()
        # (the dispatching forms Tensor holds while a mode is entered)
        self._conversions = {getattr(Tensor, k): v for k, v in _CONVERSIONS.items()}
        self._len, self._unbind = Tensor.__len__, Tensor.unbind
        self._methods = {}  # id(dispatching form) -> its method name (``gt`` over ``__gt__``)
        for name, value in vars(Tensor).items():
            if callable(value) and not name.startswith("_"):
                self._methods.setdefault(id(value), name)
        for name, value in vars(Tensor).items():
            if callable(value) and name.startswith("__") and name.endswith("__"):
                self._methods.setdefault(id(value), name)
        import minigrad

        self._tensor, self._size = minigrad.tensor, Tensor.size
        _active.stack = getattr(_active, "stack", []) + [self]
        self.entered = True
        _patch_shape(True)
        return self

    def __exit__(self, *exc):
        self.entered = False
        _active.stack = _active.stack[:-1]
        _patch_shape(False)
        return super().__exit__(*exc)

    def live(self) -> bool:
        """Whether sizes read now are recorded (in the traced code, not inside a call)."""
        return self.entered and not self.inside

    def sizes(self, t: Tensor, dim=None):
        """``t.size()`` (or ``t.size(dim)``) as :class:`SizeInt` s of a recorded ``size``."""
        shape = _SHAPE.__get__(t)
        args = (self.arg(t),) if dim is None else (self.arg(t), dim)
        node = self.graph.call_method("size", args)
        if dim is not None:
            return SizeInt(shape[dim], node, self)
        items = [
            SizeInt(v, self.graph.call_function(operator.getitem, (node, i)), self)
            for i, v in enumerate(shape)
        ]
        return tuple.__new__(type(shape), items)

    # -- inputs and values ------------------------------------------------------------------------
    def bind(self, value, node) -> None:
        """Make ``node`` the node of tensor ``value`` (or of each tensor in a nest of it)."""
        if isinstance(value, Tensor):
            self.env[id(value)] = node
            self.alive.append(value)
        elif isinstance(value, (tuple, list)):
            for i, item in enumerate(value):
                if has_tensor(item):
                    self.bind(item, self.graph.call_function(operator.getitem, (node, i)))
        elif isinstance(value, dict):
            for key, item in value.items():
                if has_tensor(item):
                    self.bind(item, self.graph.call_function(operator.getitem, (node, key)))

    def known(self, t: Tensor) -> bool:
        return id(t) in self.env or id(t) in self.state

    def arg(self, value):
        """``value`` as a node argument: tensors become their nodes (``get_attr`` for the
        module's state, a constant for any other tensor), nests are rebuilt."""
        if isinstance(value, Tensor):
            node = self.env.get(id(value))
            if node is not None:
                return node
            name = self.state.get(id(value))
            if name is None:
                if self.depth:
                    self.unseen = True
                return self.constant(value, "_tensor_constant")
            if name not in self.attrs:
                self.attrs[name] = self.graph.get_attr(name)
            return self.attrs[name]
        if isinstance(value, SizeInt) and value.recorder is self:
            return value.node
        if isinstance(value, tuple) and hasattr(value, "_fields"):
            return type(value)(*(self.arg(v) for v in value))
        if isinstance(value, (tuple, list)):
            return type(value)(self.arg(v) for v in value)
        if isinstance(value, dict):
            return {k: self.arg(v) for k, v in value.items()}
        if isinstance(value, slice):
            return slice(self.arg(value.start), self.arg(value.stop), self.arg(value.step))
        if isinstance(value, _PLAIN) or isinstance(value, type) or callable(value):
            return value
        if isinstance(value, (dtype, Device)):
            return value
        return self.constant(value, "_constant")

    def constant(self, value, prefix: str):
        for name, held in self.constants.items():
            if held is value:
                return self.attrs[name]
        name = f"{self.prefix}{prefix}{len(self.constants)}"
        self.constants[name] = value
        self.attrs[name] = self.graph.get_attr(name)
        return self.attrs[name]

    # -- the calls --------------------------------------------------------------------------------
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        what = self._conversions.get(func)
        # (stack: this handler, the dispatch, Tensor's dispatching form, the caller)
        if what is not None and self._traced(args[:1]):
            _warn(f"Converting a tensor to {what}{_CONSTANT_NOTE}")
        elif func is self._len and self._traced(args[:1]):
            _warn(_LEN_NOTE)
        elif func is self._unbind and sys._getframe(3).f_code is _ITER_CODE:
            _warn(_ITER_NOTE)
        if func is self._size and args and self.known(args[0]) and self.live():
            dim = args[1] if len(args) > 1 else kwargs.get("dim")
            return self.sizes(args[0], dim)
        self.inside = True
        try:
            result = func(*args, **kwargs)
        finally:
            self.inside = False
        if func is self._tensor:
            _warn(_TENSOR_NOTE)
            return result  # a constant, as in PyTorch
        if has_tensor(result) or (self._traced(args) and _mutates(func)):
            self.bind(result, self.record(func, args, kwargs))
        return result

    def _traced(self, args) -> bool:
        return any(isinstance(a, Tensor) and self.known(a) for a in args)

    def record(self, func, args, kwargs):
        """The node of one call (a method call for Tensor methods and operators)."""
        args, kwargs = self.arg(tuple(args)), self.arg(kwargs)
        method = self._methods.get(id(func)) or _tensor_method_name(func)
        if method in _OPERATORS:  # x[i] and x[i] = v, written as such
            return self.graph.call_function(_OPERATORS[method], args, kwargs)
        if method is not None:
            return self.graph.call_method(method, args, kwargs)
        prop = getattr(func, "__self__", None)
        if isinstance(prop, property):
            name = next(k for k, v in vars(Tensor).items() if v is prop)
            return self.graph.call_function(getattr, (args[0], name))
        return self.graph.call_function(func, args, kwargs)

    # -- minigrad's own layers --------------------------------------------------------------------
    def layer_forward(self, name: str, forward):
        """``forward`` of the layer at ``name``, traced through; recorded as one ``call_module``
        when it computes a value outside the public functions (a tensor of unknown origin read
        inside, or an output not recorded)."""

        def run(*args, **kwargs):
            node_args = self.arg(tuple(args)), self.arg(kwargs)
            entry = (list(self.graph.nodes), dict(self.env), dict(self.attrs), dict(self.constants))
            unseen, self.unseen = self.unseen, False
            self.depth += 1
            try:
                out = forward(*args, **kwargs)
            finally:
                self.depth -= 1
            whole = self.unseen or not _all_known(out, self)
            self.unseen = unseen
            if whole:
                self._rollback(*entry)
                self.bind(out, self.graph.call_module(name, *node_args))
            return out

        return run

    def _rollback(self, nodes, env, attrs, constants) -> None:
        keep = set(map(id, nodes))
        for node in reversed(list(self.graph.nodes)):
            if id(node) not in keep:
                self.graph.erase_node(node)
        self.env, self.attrs, self.constants = env, attrs, constants


def _all_known(value, recorder: Recorder) -> bool:
    if isinstance(value, Tensor):
        return recorder.known(value)
    if isinstance(value, (tuple, list)):
        return all(_all_known(v, recorder) for v in value)
    if isinstance(value, dict):
        return all(_all_known(v, recorder) for v in value.values())
    return True


def impure(node) -> bool:
    """Whether dead-code elimination must keep ``node`` (it changes something in place, draws
    random numbers or calls a layer)."""
    kwargs = node.kwargs
    return (
        node.is_impure()
        or node.op == "call_module"
        or node.target == "__setitem__"
        or kwargs.get("inplace") is True
        or "out" in kwargs
        or (node.op == "call_function" and _mutates(node.target))
    )


def _mutates(func) -> bool:
    """Whether ``func`` changes its input in place (``x[i] = v``, ``x.add_(1)``): recorded even
    when it returns no tensor."""
    name = getattr(func, "__name__", "")
    return name == "__setitem__" or (name.endswith("_") and not name.endswith("__"))


def patch_layers(recorder: Recorder, root) -> list:
    """Route the forward of each minigrad layer under ``root`` (not ``root`` itself, not the
    containers) through :meth:`Recorder.layer_forward`; returns the patched layers (their
    instance ``forward`` is removed by :func:`unpatch_layers`)."""
    patched = []
    for name, m in root.named_modules():
        if not name or isinstance(m, _CONTAINERS) or "forward" in m.__dict__:
            continue
        if type(m).__module__.startswith("minigrad.nn."):
            object.__setattr__(m, "forward", recorder.layer_forward(name, m.forward))
            patched.append(m)
    return patched


def unpatch_layers(patched: list) -> None:
    for m in patched:
        m.__dict__.pop("forward", None)
