"""Custom differentiable functions: subclass ``Function`` with ``forward`` and ``backward``
(``once_differentiable`` marks a backward that is not itself differentiable)."""

from __future__ import annotations

import functools
import inspect
import weakref

from .. import dtypes
from .._warnings import warn_user
from . import _forward_ops, forward_ad, grad_mode, graph
from .graph import Node


class FunctionCtx(Node):
    """The ``ctx`` passed to a custom Function; after forward it is the backward node itself."""

    def __init__(self, function_cls):
        self.function_cls = function_cls
        self.to_save = ()
        self.non_differentiable = ()
        self.dirty = ()
        self.materialize_grads = True
        self.needs_input_grad = ()
        self.output_meta = ()
        self.to_save_forward = None  # save_for_forward's tensors
        self.forward_saved = None  # what ctx.saved_tensors returns while jvp runs

    @property
    def saved_tensors(self) -> tuple:
        """What ``save_for_backward`` kept; inside ``jvp``, what ``save_for_forward`` kept."""
        if self.forward_saved is not None:
            return self.forward_saved
        return Node.saved.fget(self)

    def name(self) -> str:
        # built-in ops written as Functions carry PyTorch's name (``backward_name``)
        named = getattr(self.function_cls, "backward_name", None)
        return named or f"{self.function_cls.__name__}Backward"

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors for backward, where ``ctx.saved_tensors`` returns them (version-checked).
        Tensors and None only, as in PyTorch, which checks when the call is recorded (other
        objects go on ``ctx`` as attributes)."""
        self.to_save = tensors

    def save_for_forward(self, *tensors) -> None:
        """Keep tensors for ``jvp`` (forward mode), where ``ctx.saved_tensors`` returns them."""
        self.to_save_forward = tensors

    def mark_non_differentiable(self, *outputs) -> None:
        self.non_differentiable = outputs

    def mark_dirty(self, *tensors) -> None:
        """Declare the inputs that forward changed in place; forward must return them, and
        they take this node as their history (their old history feeds this node)."""
        self.dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)

    def backward(self, *grad_outputs):
        grads = self.function_cls.backward(self, *grad_outputs)
        n = len(self.edges)
        if type(grads) is tuple and len(grads) > n and all(g is None for g in grads[n:]):
            grads = grads[:n]  # extra trailing Nones are allowed, as in PyTorch
        return grads

    def zeros_for_output(self, i: int):
        if not self.materialize_grads:
            return None
        shape, np_dtype, device = self.output_meta[i]
        if device.index != device.backend.current:  # allocated on the output's GPU (cuda:1)
            with device.backend.using(device.index):
                return graph.Tensor._make(device.xp.zeros(shape, dtype=np_dtype), device)
        return graph.Tensor._make(device.xp.zeros(shape, dtype=np_dtype), device)


# minigrad.func.vmap installs ``interposer(cls, args, kwargs) -> (handled, result)`` here while
# it runs, to batch custom Functions given batched tensors; None otherwise (one global lookup).
interposer = None
# minigrad.func installs ``transforms_active() -> bool`` here: whether this thread runs inside
# one of its transforms (grad, vjp, jvp, jacrev, vmap, ...), which need setup_context-style
# Functions, as PyTorch's do
transforms_active = None

_NEEDS_SETUP_CONTEXT = (
    "In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, jacrev, "
    "...), it must override the setup_context staticmethod. For more details, please see "
    "https://pytorch.org/docs/main/notes/extending.func.html"
)


class Function:
    """Base class of custom ops, PyTorch style.

    Example:
        >>> class Cube(minigrad.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x ** 3
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         (x,) = ctx.saved_tensors
        ...         return grad * 3 * x ** 2
        >>> y = Cube.apply(x)

    ``forward`` runs without recording; ``backward`` receives one gradient per output and
    returns one per input of ``forward`` (None for non-tensor inputs). Written with tensor ops,
    ``backward`` is itself differentiable.
    """

    def __init__(self, *args, **kwargs):
        warn_user(
            f"{self.__class__} should not be instantiated. Methods on autograd functions are all "
            "static, so you should invoke them on the class itself. Instantiating an autograd "
            "function will raise an error in a future version of PyTorch.",
            DeprecationWarning,
        )

    def __call__(self, *args, **kwargs):
        raise RuntimeError(  # (PyTorch's words: forward is a staticmethod, called by apply)
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)"
        )

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a custom Function must implement forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a custom Function must implement backward(ctx, ...)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2's form (the one ``torch.func`` transforms need): ``forward(*args)``
        takes no ``ctx``, and ``setup_context(ctx, inputs, output)`` saves what backward needs,
        with ``inputs`` the tuple of forward's arguments (defaults filled in)."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """Forward mode (``minigrad.autograd.forward_ad``): one tangent per input of ``forward``
        in, one per output out; ``ctx`` is forward's (what ``save_for_forward`` kept is in
        ``ctx.saved_tensors``)."""
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD."
        )

    @classmethod
    def apply(cls, *args, **kwargs):
        if cls.setup_context is Function.setup_context and transforms_active is not None:
            _check_transformable(cls)
        if interposer is not None:
            handled, result = interposer(cls, args, kwargs)
            if handled:
                return result
        if forward_ad.active:  # dual inputs: forward, then cls.jvp for the tangents
            return _forward_ops.function_call(cls, args, kwargs, _apply)
        return _apply(cls, args, kwargs)[0]


def _check_transformable(cls) -> None:
    """Refuse a user's Function with ``forward(ctx, ...)`` (no ``setup_context``) inside a
    ``minigrad.func`` transform, in PyTorch's words (minigrad's own Functions are exempt: the
    transforms have rules for them)."""
    if transforms_active() and not cls.__module__.startswith("minigrad."):
        raise RuntimeError(_NEEDS_SETUP_CONTEXT)


def run_forward(cls, args, kwargs):
    """``cls.apply(*args, **kwargs)`` past the transforms' interposer, for when no input needs a
    gradient (vmap's generated rule runs forward on batched tensors this way)."""
    return _apply(cls, args, kwargs)[0]


def _apply(cls, args, kwargs):
    """``cls.apply``'s work once transforms are done: ``(outputs, ctx)``."""
    tensor_cls = graph.Tensor
    ctx = (cls.__dict__.get("_backward_cls") or backward_class(cls))(cls)
    separate = cls.setup_context is not Function.setup_context
    if separate and (kwargs or len(args) < _arity(cls)):
        # inputs as setup_context sees them: every argument, in order, defaults filled in
        bound = inspect.signature(cls.forward).bind(*args, **kwargs)
        bound.apply_defaults()
        args, kwargs = bound.args, {}
    ctx.needs_input_grad = tuple(isinstance(a, tensor_cls) and a.requires_grad for a in args)
    with grad_mode.no_grad():
        if separate:
            outputs = cls.forward(*args)
            cls.setup_context(ctx, args, outputs)
        else:
            outputs = cls.forward(ctx, *args, **kwargs)
    single = not isinstance(outputs, tuple)
    outputs = (outputs,) if single else outputs
    if ctx.dirty:
        _bump_dirty(ctx, outputs)
    if grad_mode.is_grad_enabled() and any(ctx.needs_input_grad):
        outputs = _connect(ctx, args, outputs)
    return (outputs[0] if single else outputs), ctx


def backward_class(cls) -> type:
    """The class of the nodes (and ``ctx``) of Function ``cls``, as PyTorch's
    ``cls._backward_cls``: a subclass of :class:`FunctionCtx` named ``<Name>Backward`` (of
    module ``minigrad.autograd.function``, as PyTorch's ``torch.autograd.function``), or the
    class's ``backward_name`` (a built-in op written as a Function, module ``builtins``)."""
    named = cls.__dict__.get("backward_name") or getattr(cls, "backward_name", None)
    name = named or f"{cls.__name__}Backward"
    body = {"__slots__": (), "__qualname__": name, "__doc__": FunctionCtx.__doc__}
    body["__module__"] = "builtins" if named else __name__
    node_cls = type(name, (FunctionCtx,), body)
    node_cls._node_base = node_cls  # (graph.is_node_subclass; renames derive from it)
    cls._backward_cls = node_cls
    return node_cls


@functools.cache
def _arity(cls) -> int:
    """How many positional parameters a ``setup_context``-style ``forward`` has."""
    return len(inspect.signature(cls.forward).parameters)


def _connect(ctx: FunctionCtx, args, outputs) -> tuple:
    """Make ``ctx`` the grad_fn of the outputs and save what forward asked for."""
    tensor_cls = graph.Tensor
    Node.connect(ctx, args)  # through the class: forward may have set any attribute on ctx
    ctx.num_outputs = len(outputs)
    ctx.output_meta = tuple(
        (o._data.shape, o._data.dtype, o.device) if isinstance(o, tensor_cls) else None
        for o in outputs
    )
    _check_dirty(ctx, outputs)
    wrapped, position = [], {}
    for i, o in enumerate(outputs):
        if isinstance(o, tensor_cls):
            position[id(o)] = i
            differentiable = dtypes.is_differentiable(o._data.dtype) and not any(
                o is n for n in ctx.non_differentiable
            )
            if any(o is d for d in ctx.dirty):  # changed in place: the input itself, rebased
                o.grad_fn, o._requires_grad = (ctx if differentiable else None), differentiable
            else:
                o = _output_of(ctx, args, o, i, differentiable)
            o._output_nr = i
        wrapped.append(o)
    for i, t in enumerate(ctx.to_save):
        if t is not None and not isinstance(t, tensor_cls):
            raise TypeError(
                f"save_for_backward can only save variables, but argument {i} is of type "
                f"{type(t).__name__}"
            )
    # An output that forward saved is saved as the wrapped output (its grad_fn is ctx).
    Node.save(
        ctx,
        [
            wrapped[position[id(t)]] if isinstance(t, tensor_cls) and id(t) in position else t
            for t in ctx.to_save
        ],
    )
    ctx.to_save = ()
    return tuple(wrapped)


def _output_of(ctx: FunctionCtx, args, raw, index: int, differentiable: bool):
    """Output ``index`` of the Function, recorded with ``ctx`` as its grad_fn. One that forward
    returned as an input itself or as a view of one shares that input's memory and version
    counter (an in-place change of either is seen by the nodes that saved the other), and an
    in-place op on it under grad mode is refused, as PyTorch's views made in a custom Function."""
    out = graph.Tensor._make(raw._data, raw.device, differentiable, ctx if differentiable else None)
    cls = ctx.function_cls
    if cls.__module__.startswith("minigrad.") and not cls.__dict__.get("outputs_alias_inputs"):
        return out  # minigrad's own Functions make their views themselves (split, unbind)
    source = raw._base if raw._base is not None else raw
    if any(source is a or source is a._base for a in args if isinstance(a, graph.Tensor)):
        out._version_counter = graph.version_counter(raw)
        made_in_function[out] = f"Output {index} of {ctx.function_cls.__name__}"
    return out


class _ByIdentity:
    """Tensors (held weakly, told apart by identity: a tensor's ``==`` is elementwise) with a
    value each."""

    def __init__(self):
        self._entries: dict = {}

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __setitem__(self, tensor, value) -> None:
        key = id(tensor)
        self._entries[key] = (weakref.ref(tensor, lambda _: self._entries.pop(key, None)), value)

    def get(self, tensor):
        entry = self._entries.get(id(tensor))
        return entry[1] if entry is not None and entry[0]() is tensor else None


# Outputs of custom Functions that alias an input (see ``_output_of``), with the name in the
# error that refuses an in-place op on them.
made_in_function = _ByIdentity()


def _bump_dirty(ctx: FunctionCtx, outputs) -> None:
    """The tensors ``mark_dirty`` named must be returned; their version goes up once more,
    as in PyTorch (once for the in-place op forward ran, once for being marked)."""
    for d in ctx.dirty:
        if not any(d is o for o in outputs):
            raise RuntimeError(
                f"{ctx.function_cls.__name__}: some elements marked as dirty during the forward "
                "method were not returned as output: return each tensor given to ctx.mark_dirty"
            )
        graph.version_counter(d).value += 1


def _check_dirty(ctx: FunctionCtx, outputs) -> None:
    """The tensors ``mark_dirty`` named must be ones whose history can change (not leaves
    that require grad, as for any in-place op, nor views)."""
    for d in ctx.dirty:
        if d.grad_fn is None and d._requires_grad:
            raise RuntimeError(
                f"{ctx.function_cls.__name__}: a leaf Variable that requires grad is being used "
                "in an in-place operation (ctx.mark_dirty). Clone it before calling the Function."
            )
        if d._base is not None:
            raise NotImplementedError(
                f"{ctx.function_cls.__name__}: ctx.mark_dirty on a view is not implemented in "
                "minigrad (PyTorch records it on the base); pass a tensor that owns its storage, "
                "e.g. view.clone()"
            )


class _DelayedError(Function):
    """Identity on ``output`` whose backward raises: the result of a once-differentiable
    backward run while a graph is being built (``create_graph=True``)."""

    @staticmethod
    def forward(ctx, output, *inputs):
        return output.clone()

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise RuntimeError(
            "trying to differentiate twice a function that was marked with @once_differentiable"
        )


def once_differentiable(backward):
    """Decorate a custom Function's ``backward`` that is not itself differentiable: it runs
    without recording a graph, and differentiating its results again (double backward) raises.

    Example:
        >>> class Cube(minigrad.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x**3
        ...     @staticmethod
        ...     @once_differentiable
        ...     def backward(ctx, grad):
        ...         (x,) = ctx.saved_tensors
        ...         return grad * 3 * x**2
    """

    @functools.wraps(backward)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            outputs = backward(ctx, *args)
        tracked = [a for a in args if isinstance(a, graph.Tensor) and a.requires_grad]
        if not (grad_mode.is_grad_enabled() and tracked):
            return outputs
        single = not isinstance(outputs, tuple)
        wrapped = tuple(
            _DelayedError.apply(o, *tracked)
            if isinstance(o, graph.Tensor) and dtypes.is_differentiable(o._data.dtype)
            else o
            for o in ((outputs,) if single else outputs)
        )
        return wrapped[0] if single else wrapped

    return wrapper
