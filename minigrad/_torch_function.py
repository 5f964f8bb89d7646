"""The ``__torch_function__`` protocol: how a public function hands its call to a tensor-like
argument's type (a Tensor subclass, or any class defining ``__torch_function__``) or to an
active :class:`minigrad.overrides.TorchFunctionMode`, as PyTorch's functions do.

Where the checks live, so that plain tensors pay (almost) nothing:
- public functions (``minigrad.*``, ``nn.functional``, ``linalg``, ``special``, ``fft``) are
  wrapped once at import by :func:`install`; a wrapper looks at the classes of its arguments
  (one dict lookup each, one level into lists and tuples) and calls the function directly
  when none is tensor-like and no mode is entered;
- Tensor methods, operators and a few properties dispatch through forms that ``Tensor`` holds
  only while something can take their calls: an entered mode, or a live Tensor subclass that
  does not disable the protocol (:func:`wrap_subclass` counts it when it is defined, and a
  finalizer stops counting it when it is collected). The form hands the call on when the
  instance, an argument or a keyword argument is tensor-like (one dict lookup each), so that
  ``plain.add(sub)``, ``plain.where(cond, sub)`` and ``plain + sub`` reach the subclass with
  ``Tensor.add`` (``Tensor.where``) and the arguments in their order, as in PyTorch. Subclasses
  inherit the forms; while none is alive and no mode is entered, ``Tensor`` has its plain
  methods and plain tensors pay nothing.

A tensor-like that is not a Tensor (``MaskedTensor``, PyTorch's ``DiagonalTensor``) gets a plain
tensor's method or operator call where the plain computation fails on it (arithmetic,
comparisons, matmul, indexing: :func:`operand_takes`), and any method call while a Tensor
subclass is alive or a mode is entered; PyTorch hands it every method call.
``__torch_dispatch__`` (the ATen-level protocol) does not exist here; a subclass defining it
may be defined (libraries define some at import) but making an instance of it is refused.
"""

from __future__ import annotations

import functools
import threading
import weakref

from ._tensor_params import REFUSED, TENSORS
from .autograd import graph


class _DisabledTorchFunctionImpl:
    """The ``__torch_function__`` of classes that opt out (``Parameter``, ``Buffer``): the
    function runs as on a plain tensor and its result is not converted. Like PyTorch's
    (a builtin), it does not bind: ``Parameter.__torch_function__(func, types, args, kwargs)``
    on the class (torchview calls it so) and on an instance take the same four arguments, and
    ``func`` runs with subclasses' ``__torch_function__`` disabled."""

    __name__ = __qualname__ = "_disabled_torch_function_impl"

    def __call__(self, func, types, args=(), kwargs=None):
        with DisableTorchFunctionSubclass():  # (as PyTorch's: no subclass sees the call again)
            return func(*args, **(kwargs or {}))


disabled_torch_function_impl = _DisabledTorchFunctionImpl()


# -- per-thread state ---------------------------------------------------------------------------
class _State(threading.local):
    def __init__(self):
        self.subclasses_disabled = False  # DisableTorchFunctionSubclass: arguments not asked
        self.all_disabled = False  # DisableTorchFunction: neither arguments nor modes asked
        self.modes = []  # the TorchFunctionMode stack, innermost last
        self.skip_one_hop = False  # redispatch_function: the next dispatch runs the function


state = _State()
_entered = [0]  # modes entered, all threads: wrappers take the slow path only while > 0
# entered modes + live subclasses taking part: Tensor holds its dispatching forms while > 0
_holders = [0]
_lock = threading.RLock()


class _Switch:
    """A context manager setting one flag of :data:`state` and restoring it on exit."""

    flag = ""

    def __enter__(self):
        self._old = getattr(state, self.flag)
        setattr(state, self.flag, True)
        return self

    def __exit__(self, *exc):
        setattr(state, self.flag, self._old)
        return False


class DisableTorchFunctionSubclass(_Switch):
    """Within it, arguments' ``__torch_function__`` are not called (modes still are): what a
    ``__torch_function__`` uses to run the function on its arguments as plain tensors."""

    flag = "subclasses_disabled"


class DisableTorchFunction(_Switch):
    """Within it, neither arguments' ``__torch_function__`` nor modes are called."""

    flag = "all_disabled"


# -- which classes override ----------------------------------------------------------------------
_PLAIN, _OVERRIDES, _SEQUENCE = 0, 1, 2
_kind_of_class: dict = {list: _SEQUENCE, tuple: _SEQUENCE}
# the id()s of live Tensor subclasses that take part: the dict above would keep them alive
_overriding_subclasses: set = set()


def _learn(cls) -> int:
    """Whether instances of ``cls`` take part in dispatch (cached per class, weakly for Tensor
    subclasses). PyTorch's own tensors do not: their ``__torch_function__`` belongs to
    PyTorch's functions (minigrad's take them as data, as ``from_dlpack`` does)."""
    if id(cls) in _overriding_subclasses:
        return _OVERRIDES
    impl = getattr(cls, "__torch_function__", None)
    overrides = (
        impl is not None
        and cls is not graph.Tensor
        and getattr(impl, "__func__", impl) is not disabled_torch_function_impl
        and not any(k.__module__ == "torch._C" for k in cls.__mro__)  # TensorBase
    )
    kind = _OVERRIDES if overrides else _PLAIN
    if kind == _OVERRIDES and issubclass(cls, graph.Tensor):
        _overriding_subclasses.add(id(cls))
        weakref.finalize(cls, _overriding_subclasses.discard, id(cls)).atexit = False
    else:
        _kind_of_class[cls] = kind
    return kind


def overloaded_args(values) -> list:
    """The tensor-like objects among ``values`` (and one level into lists and tuples), one per
    class, each subclass before its base classes, else in order of appearance (PyTorch's
    order of asking them)."""
    found = []
    for v in values:
        kind = _kind_of_class.get(type(v))
        if kind is None:
            kind = _learn(type(v))
        if kind == _SEQUENCE:
            found.extend(overloaded_args(v) if type(v) in (list, tuple) else ())
        elif kind == _OVERRIDES and all(type(f) is not type(v) for f in found):
            at = next((i for i, f in enumerate(found) if issubclass(type(v), type(f))), None)
            found.insert(len(found) if at is None else at, v)
    return found


def has_override(values) -> bool:
    """Whether any of ``values`` (one level into lists and tuples) is tensor-like."""
    kinds = _kind_of_class
    for v in values:
        kind = kinds.get(type(v))
        if kind is None:
            kind = _learn(type(v))
        if kind == _OVERRIDES or (kind == _SEQUENCE and has_override(v)):
            return True
    return False


# -- the dispatch --------------------------------------------------------------------------------
def dispatch(public, impl, args: tuple, kwargs: dict, relevant=None):
    """Call ``impl(*args, **kwargs)`` the way the protocol says: first the innermost mode (set
    aside while it runs), then each tensor-like argument's ``__torch_function__`` with
    ``public`` (the function the user called) until one does not return NotImplemented.
    ``relevant``: the arguments to look at (default: all of ``args`` and ``kwargs``)."""
    if state.all_disabled or (state.subclasses_disabled and not state.modes):
        return impl(*args, **kwargs)  # (a subclass's handler running the function)
    if state.skip_one_hop:  # the hop that redispatch_function skips
        state.skip_one_hop = False
        return impl(*args, **kwargs)
    if relevant is None:
        relevant = tuple(args) + tuple(kwargs.values())
    overloaded = [] if state.subclasses_disabled else overloaded_args(relevant)
    types = tuple(type(a) for a in overloaded)
    if state.modes:
        mode = state.modes.pop()
        try:
            result = mode.__torch_function__(public, types, args, kwargs)
        finally:
            state.modes.append(mode)
        if result is not NotImplemented:
            return result
    if not overloaded:
        return impl(*args, **kwargs)
    for arg in overloaded:
        result = arg.__torch_function__(public, types, args, kwargs)
        if result is not NotImplemented:
            return result
    name = getattr(public, "__qualname__", getattr(public, "__name__", repr(public)))
    raise TypeError(
        f"no implementation found for '{name}' on types that implement __torch_function__: "
        f"{[t for t in types]}"
    )


def dispatching(fn, refusal=None):
    """``fn`` wrapped to take part in the protocol (see the module docstring). ``refusal``
    (a :class:`minigrad._tensor_params.Refusal`): PyTorch's ``TypeError`` for a number where
    ``fn`` takes a Tensor, screened first (a class lookup per listed position); and for a
    Tensor of more than one element where ``fn`` takes a number (a class lookup per number
    position the call reaches, and one per keyword argument, only for functions that have
    number parameters)."""

    kinds, refused, tensors = _kind_of_class, REFUSED, TENSORS
    first, second, more, keywords = (None, 0, False, ()) if refusal is None else refusal.split()
    numbers, number_keywords = ((), ()) if refusal is None else refusal.number_screen()

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if first is not None:  # the refusal's screen, inline as in _tensor_params.checked (a
            try:  # call to a shared one would double its cost on Tensors: 40 ns a position)
                hit = args[first].__class__ in refused or args[second].__class__ in refused
            except IndexError:  # passed by keyword
                hit = True
            if hit or more or (kwargs and not keywords.isdisjoint(kwargs)):
                refusal(args, kwargs)
        if numbers:  # (a Tensor where a number is expected: cumsum(x, t))
            n = len(args)
            for at in numbers:
                if at < n and args[at].__class__ in tensors:
                    refusal.refuse_tensors(args, kwargs)
            if kwargs:
                for a in kwargs.values():
                    if a.__class__ in tensors:
                        refusal.refuse_tensors(args, kwargs)
                        break
        # the common case inline (about 0.2 us): no mode, every argument of a known plain class
        if not _entered[0]:
            for a in args:
                if kinds.get(a.__class__) != _PLAIN:
                    break
            else:
                if not kwargs:
                    return fn(*args)
                for a in kwargs.values():
                    if kinds.get(a.__class__) != _PLAIN:
                        break
                else:
                    return fn(*args, **kwargs)
            if not (has_override(args) or has_override(kwargs.values())):
                return fn(*args, **kwargs)
        return dispatch(call, fn, args, kwargs)

    normalize = getattr(fn, "normalize_arguments", None)
    if normalize is not None:  # (einsum: its list of operands spread, before any dispatch)
        checked_call = call

        @functools.wraps(fn)
        def call(*args, **kwargs):
            return checked_call(*normalize(args), **kwargs)

    call.__torch_function_wrapped__ = fn
    return call


def operand_takes(method: str, operands: tuple, error: Exception):
    """What a tensor-like operand's ``__torch_function__`` makes of ``Tensor.<method>(
    *operands)`` (see :func:`hand_to_operand`); ``error`` (the plain computation's) raised when
    no operand is tensor-like. For the ``except`` branch of Tensor operators."""
    handled = hand_to_operand(method, operands)
    if handled is None:
        raise error
    return handled


def hand_to_operand(method: str, operands: tuple):
    """``Tensor.<method>(*operands)`` handed to a tensor-like operand that is not a Tensor
    (``tensor + masked``): its ``__torch_function__`` gets ``Tensor.<method>``, as in PyTorch.
    None when no operand is such an object (the caller then raises its own error). Called only
    after the plain computation failed, so that tensors pay nothing for it."""
    foreign = [
        a
        for a in overloaded_args(operands)
        if not isinstance(a, graph.Tensor) and not state.all_disabled
    ]
    func = getattr(graph.Tensor, method, None)
    if not foreign or func is None:
        return None
    return dispatch(func, func, operands, {}, relevant=tuple(foreign))


# -- Tensor's own __torch_function__ -------------------------------------------------------------
def convert(result, cls):
    """``result`` with each plain tensor in it made an instance of ``cls`` (what a subclass's
    inherited ``__torch_function__`` returns)."""
    tensor_cls = graph.Tensor
    if isinstance(result, tensor_cls):
        return result if isinstance(result, cls) else result.as_subclass(cls)
    if isinstance(result, (tuple, list)):
        items = [convert(r, cls) for r in result]
        if hasattr(result, "_fields"):  # a named tuple (torch.return_types)
            return type(result)(*items)
        return type(result)(items)
    return result


def default_torch_function(cls, func, types, args=(), kwargs=None):
    """Tensor's ``__torch_function__``: run ``func`` with dispatch to subclasses turned off and
    return its tensors as instances of ``cls`` (a subclass that only adds methods or attributes
    keeps its class through every op)."""
    if not all(issubclass(cls, t) for t in types):
        return NotImplemented
    with DisableTorchFunctionSubclass():
        result = func(*args, **(kwargs or {}))
    return convert(result, cls)


# -- Tensor methods ------------------------------------------------------------------------------
_PASS_THROUGH = frozenset(
    "__init__ __new__ __init_subclass__ __torch_function__ __getattribute__ __getattr__ "
    "__setattr__ __delattr__ __class__ __del__ __hash__ __reduce__ __reduce_ex__ __getstate__ "
    "__setstate__ __copy__ __deepcopy__ __sizeof__ __subclasshook__ __dir__ __array__ "
    "__array_wrap__ __class_getitem__ __weakref__ __iter__ as_subclass".split()
)
PROPERTIES = ("T", "mT", "H", "mH", "real", "imag", "data")
_originals = {}  # Tensor's own methods, kept while its dispatching forms replace them (by name)
_installed = {}  # the dispatching forms put on Tensor (by name)


def tensor_methods() -> dict:
    """Tensor's methods that dispatch, by name: public methods and operators (not private
    helpers, pickling or attribute machinery), and :data:`PROPERTIES` — as the class has them
    now (modules may add methods when imported), or as it had them before its dispatching forms
    replaced them."""
    if _originals:
        return dict(_originals)
    out = {}
    for klass in reversed(graph.Tensor.__mro__[:-1]):
        for name, value in vars(klass).items():
            if name in _PASS_THROUGH or (name.startswith("_") and not name.endswith("__")):
                continue
            if callable(value) and not isinstance(value, (type, staticmethod, classmethod)):
                out[name] = value
            elif name in PROPERTIES and isinstance(value, property):
                out[name] = value
    return out


# operators whose calls PyTorch hands on as the named method (``x + y`` as ``Tensor.add``)
_OPERATOR_METHODS = {
    "__add__": "add", "__radd__": "add", "__iadd__": "add_", "__sub__": "sub",
    "__isub__": "sub_", "__mul__": "mul", "__rmul__": "mul", "__imul__": "mul_",
    "__truediv__": "div", "__div__": "div", "__itruediv__": "div_", "__mod__": "remainder",
    "__pow__": "pow", "__matmul__": "matmul", "__ne__": "ne", "__lt__": "lt", "__le__": "le",
    "__gt__": "gt", "__ge__": "ge", "__neg__": "neg", "__abs__": "abs", "__pos__": "positive",
}  # fmt: skip


def _method(name, impl):
    """The dispatching form of the Tensor method ``impl``: it hands the call to the protocol
    when a mode is entered or the instance or an argument is tensor-like, else calls ``impl``.
    The function handed on is ``Tensor.<name>`` (``Tensor.add`` for ``__add__``) as it is at
    the time of the call, so that ``func is minigrad.Tensor.add`` holds in a handler."""
    tensor_cls = graph.Tensor
    public = _OPERATOR_METHODS.get(name, name)
    kinds = _kind_of_class

    def call(self, *args, **kwargs):
        if not _entered[0] and kinds.get(self.__class__) == _PLAIN:
            for a in args:  # the common case inline, as in dispatching()
                if kinds.get(a.__class__) != _PLAIN:
                    break
            else:
                if not kwargs:
                    return impl(self, *args)
                for a in kwargs.values():
                    if kinds.get(a.__class__) != _PLAIN:
                        break
                else:
                    return impl(self, *args, **kwargs)
            if not (has_override(args) or has_override(kwargs.values())):
                return impl(self, *args, **kwargs)
        return dispatch(getattr(tensor_cls, public), impl, (self, *args), kwargs)

    functools.update_wrapper(call, impl)
    if name.startswith("__") and name != impl.__name__:  # ``x[i]`` hands on ``__getitem__``,
        call.__name__, call.__qualname__ = name, f"Tensor.{name}"  # as PyTorch (torchview)
    return call


def _property(name: str, prop: property) -> property:
    """A property whose getter dispatches as :func:`_method` does, handing on
    ``Tensor.<name>.__get__``."""
    tensor_cls = graph.Tensor
    kinds = _kind_of_class

    def get(self):
        if not _entered[0] and kinds.get(self.__class__) == _PLAIN:
            return prop.__get__(self)
        return dispatch(getattr(tensor_cls, name).__get__, prop.__get__, (self,), {})

    return property(get, prop.fset, prop.fdel, prop.__doc__)


def _hold() -> None:
    """One more reason for Tensor to dispatch; the first gives it its dispatching forms."""
    with _lock:
        _holders[0] += 1
        if _holders[0] == 1:
            _originals.update(tensor_methods())
            for name, value in _originals.items():
                if isinstance(value, property):
                    _installed[name] = _property(name, value)
                else:
                    _installed[name] = _method(name, value)
            for name, value in _installed.items():
                setattr(graph.Tensor, name, value)


def _release() -> None:
    """One reason less; the last gives Tensor its own methods back (those that nothing else
    replaced meanwhile)."""
    with _lock:
        _holders[0] -= 1
        if _holders[0] == 0:
            tensor_cls = graph.Tensor
            for name, value in _installed.items():
                if tensor_cls.__dict__.get(name) is value:
                    setattr(tensor_cls, name, _originals[name])
            _installed.clear()
            _originals.clear()


def wrap_subclass(cls) -> None:
    """Count a new Tensor subclass as a reason for Tensor's methods to dispatch while it lives
    (its methods are inherited), unless it disables the protocol; refuse
    ``__torch_dispatch__``, which minigrad does not have."""
    if "__torch_dispatch__" in vars(cls):
        cls._refuses_instances = True  # libraries define such classes at import (PyG's Index)
        return
    impl = getattr(cls, "__torch_function__", None)
    if getattr(impl, "__func__", impl) is disabled_torch_function_impl:
        return
    cls._dispatching_methods = True
    _kind_of_class.pop(cls, None)
    _overriding_subclasses.add(id(cls))
    _hold()
    weakref.finalize(cls, _forget, id(cls)).atexit = False


def refuse_dispatching(cls) -> None:
    """Refuse to make an instance of ``cls`` if it (or a base) defines ``__torch_dispatch__``,
    which minigrad does not have. The class itself may be defined: libraries define such
    subclasses at import (PyG's ``Index``, ``EdgeIndex``) and use them only when asked."""
    if getattr(cls, "_refuses_instances", False):
        raise NotImplementedError(
            f"{cls.__name__}: minigrad has no __torch_dispatch__ (it has no ATen layer below its "
            f"Python functions); override __torch_function__ instead"
        )


def _forget(cls_id: int) -> None:
    """A subclass counted by :func:`wrap_subclass` was collected."""
    _overriding_subclasses.discard(cls_id)
    _release()


def enter_mode(mode) -> None:
    """Push ``mode``; while one is entered, Tensor's methods dispatch."""
    state.modes.append(mode)
    _entered[0] += 1
    _hold()


def exit_mode(mode) -> None:
    """Pop ``mode`` (the innermost), which must be the innermost."""
    if not state.modes or state.modes[-1] is not mode:
        raise RuntimeError(f"{type(mode).__name__}: modes must exit in the reverse order of entry")
    state.modes.pop()
    _entered[0] -= 1
    _release()


# -- installing the function wrappers ------------------------------------------------------------
def install(
    namespace: dict, module_name: str, ignored=frozenset(), factories=frozenset(), refusals=None
):
    """Replace each public function of ``namespace`` by its dispatching form (none if in
    ``ignored`` but not in ``factories``), named after ``module_name`` so that pickling finds
    it there; ``refusals``: name -> its number check (:func:`dispatching`)."""
    import types

    done = {}
    for name, value in list(namespace.items()):
        if name.startswith("_") or not isinstance(value, types.FunctionType):
            continue
        if hasattr(value, "__torch_function_wrapped__"):
            continue
        if name in ignored and name not in factories:
            continue
        refusal = (refusals or {}).get(name)
        key = id(value) if refusal is None else (id(value), name)  # an alias's error names it
        wrapped = done.get(key)
        if wrapped is None:
            wrapped = done[key] = dispatching(value, refusal)
            wrapped.__module__, wrapped.__qualname__ = module_name, name
        namespace[name] = wrapped
