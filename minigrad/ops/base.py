"""The base of every differentiable primitive: run forward on arrays, record the graph node."""

from __future__ import annotations

import functools
import inspect
import operator

import numpy as np

from .. import _dtype_limits, backend, dtypes
from .._nested_record import NestedRecord
from .._sparse_compressed import SparseCompressed
from .._sparse_coo import SparseCOO
from ..autograd import anomaly, forward_ad, grad_mode, graph
from ..autograd.graph import Node, version_counter

# While a forward pass is traced (ONNX export, TensorBoard graphs), a callable
# ``(op, args, result)`` that sees every op applied; None otherwise (one check per op).
tracer = None


_grad_accumulator = graph.grad_accumulator
_NOT_TENSORS = graph.NOT_TENSORS  # (see there: types tested before isinstance)
_RECORDED = graph._RECORDED  # op class -> the class of its recorded nodes (graph.recorded_class)

# This thread's grad and anomaly modes (thread-local objects, bound once: read on every op).
_grad_state, _anomaly_state = grad_mode._state, anomaly._state

# Transforms above this layer (minigrad.func.vmap, minigrad.amp.autocast) install a function
# here while they are active: ``interposer(op, args) -> (handled, result_or_args)`` either
# computes the op itself (vmap's batching rules) or returns the arguments to use (autocast's
# casts). None keeps the cost for everyone else at one global lookup per op.
interposer = None
autocast_entry = None  # autocast's policy by name, for functions that check dtypes before an op
autocast_call = None  # autocast's runner of a function as one op: see autocast_op

# Tensors whose storage is a record, not an array (minigrad._storage_record; sparse: _sparse_coo and
# _sparse_compressed; nested: _nested_record; quantized: _quantized): an op's forward fails on
# the record, and only then ``record_fallbacks[type(record)](op, args)`` computes the op (or
# refuses it by name), so dense tensors pay nothing. The sparse and nested fallbacks look up
# the op's rule in ``sparse_rules`` / ``nested_rules`` (filled by minigrad.sparse and
# minigrad.nested); the quantized one is registered by minigrad._quantized_ops.
sparse_rules: dict = {}
nested_rules: dict = {}
record_fallbacks: dict = {}


def autocast_inputs(name: str, *tensors):
    """``tensors`` cast as autocast's policy for the function ``name`` asks (unchanged when
    autocast is off); for entry points such as ``F.linear`` that check dtypes up front."""
    hook = autocast_entry
    return tensors if hook is None else hook(name, tensors)


def autocast_op(name: str):
    """Decorator: autocast treats the function as the one op ``name``, as PyTorch's autocast
    treats an aten op. Inside an autocast region its tensor arguments are cast as the policy for
    ``name`` asks (low precision, float32, or left alone when ``name`` has no entry) and the ops
    it runs inside are not cast again: PyTorch casts at the listed op, not inside its kernel
    (``addmm`` runs in bfloat16 through and through; ``torch.dot`` and ``F.bilinear``, which
    are not listed, keep their inputs' dtype although they multiply matrices inside). Outside
    autocast the cost is one global lookup per call."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            runner = autocast_call
            if runner is None:
                return fn(*args, **kwargs)
            return runner(name, fn, args, kwargs)

        return wrapper

    return decorate


# record type -> ``call(fn, args, kwargs)``: runs a function of :func:`shape_only` on tensors
# holding such a record (the meta device's: minigrad._meta_ops registers it)
shape_only_calls: dict = {}


def shape_only(fn):
    """``fn(input, ...)``, a function on a tensor's values outside an :class:`Op` whose result's
    shape and dtype depend only on its inputs' (``argmax``, ``all``, ``histc``), also on
    tensors whose record :data:`shape_only_calls` lists (meta tensors)."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        call = shape_only_calls.get(type(getattr(args[0], "_data", None))) if args else None
        return fn(*args, **kwargs) if call is None else call(fn, args, kwargs)

    return run


def on_input_device(fn):
    """Run ``fn(input, ...)`` with ``input``'s GPU current: for op-layer functions that call
    ``xp`` on a tensor's arrays outside an :class:`Op` (CuPy runs kernels on the current
    device, so on ``cuda:1`` they would otherwise run on ``cuda:0``)."""

    first = next(iter(inspect.signature(fn).parameters))  # also passed by name: log_probs=, A=

    @functools.wraps(fn)
    def run(*args, **kwargs):
        lead = args[0] if args else kwargs.get(first)
        dev = getattr(lead, "device", None)
        if dev is None:  # missing (Python's TypeError names it) or a number: fn decides
            return fn(*args, **kwargs)
        if dev.index == dev.backend.current:
            return fn(*args, **kwargs)
        with dev.backend.using(dev.index):
            return fn(*args, **kwargs)

    return run


def _shape_error(label: str, error: ValueError, shapes: list) -> RuntimeError:
    """NumPy's shape error of an op, restated: PyTorch's words where operands do not broadcast,
    else NumPy's with the op and the input shapes."""
    if "broadcast" in str(error):
        from .movement import _broadcast_shape

        try:
            _broadcast_shape(*shapes)
        except RuntimeError as mismatch:
            error = mismatch
    listed = ", ".join(str(list(s)) for s in shapes)
    return RuntimeError(f"{label}: {error} (input shapes: {listed})")


def method_on_batched(fn):
    """The functional form of an op that vmap's batched tensors batch as a method of their own
    (ops along a dim whose result depends on the values: argmax, max(dim), sort, topk, ...):
    ``minigrad.sort(x)`` on a batched ``x`` calls ``x.sort()``, as the method call would."""
    name = fn.__name__

    @functools.wraps(fn)
    def functional(input, *args, **kwargs):
        if getattr(type(input), "_methods_batch", False):
            return getattr(input, name)(*args, **kwargs)
        return fn(input, *args, **kwargs)

    return functional


_NUMPY_ALIASES = {"axis": "dim", "keepdims": "keepdim"}


def accepts_axis(fn):
    """Let ``fn`` take NumPy's ``axis=`` for its ``dim=`` and ``keepdims=`` for its
    ``keepdim=``, as PyTorch's reductions and joins do (``x.sum(axis=1)``,
    ``torch.cat(ts, axis=0)``, d2l's ``X.sum(1, keepdims=True)``, makemore's ``P.sum(1, keepdims=True)``).
    A ``keepdim`` that is not a bool raises PyTorch's ``TypeError`` (a tensor or an int there is
    usually a misplaced argument, and would otherwise count as True or False)."""
    keep_at = _keepdim_position(fn)

    @functools.wraps(fn)
    def run(*args, **kwargs):
        if kwargs and ("axis" in kwargs or "keepdims" in kwargs):
            for alias, name in _NUMPY_ALIASES.items():
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(
                            f"{fn.__name__}() got both '{name}' and its alias '{alias}'"
                        )
                    kwargs[name] = kwargs.pop(alias)
        if keep_at is not None:
            keep = args[keep_at] if len(args) > keep_at else kwargs.get("keepdim", False)
            if type(keep) is not bool:
                check_bool_arg(keep, fn.__name__, "keepdim", keep_at)
        return fn(*args, **kwargs)

    return run


def _keepdim_position(fn) -> int | None:
    """The index of ``fn``'s positional ``keepdim`` parameter (None when it has none)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    for i, p in enumerate(params):
        if p.name == "keepdim" and p.kind is p.POSITIONAL_OR_KEYWORD:
            return i
    return None


def check_bool_arg(value, op: str, name: str, position: int | None = None) -> None:
    """PyTorch's ``TypeError`` for a flag argument that is not a bool (NumPy's bool passes)."""
    if isinstance(value, (bool, np.bool_)):
        return
    where = "" if position is None else f" (position {position + 1})"
    raise TypeError(f"{op}(): argument '{name}'{where} must be bool, not {type(value).__name__}")


def check_number_arg(value, op: str, name: str, kind: str = "float", position=None) -> None:
    """PyTorch's ``TypeError`` for a tensor of one or more dims where a Python number is
    required (``nan_to_num(x, nan=t)``, ``threshold``'s ``value``): minigrad would otherwise
    broadcast it element by element, a result PyTorch never gives. A 0-d tensor passes, as
    in PyTorch; ``kind`` is PyTorch's word for the argument (``float``, ``Number``)."""
    if isinstance(value, graph.Tensor) and value.ndim != 0:
        where = "" if position is None else f" (position {position + 1})"
        raise TypeError(f"{op}(): argument '{name}'{where} must be {kind}, not Tensor")


def check_dtype_arg(value, op: str, position=None) -> None:
    """PyTorch's ``TypeError`` for a ``dtype=`` that is a tensor or a number (``softmax(x, 0,
    t)``): ``input.to(value)`` would otherwise cast to that tensor's dtype, or an int be read
    as something else. ``None``, minigrad dtypes and the Python types ``float``, ``int``,
    ``bool`` and ``complex`` pass."""
    if isinstance(value, (graph.Tensor, bool, int, float, complex, np.generic)):
        where = "" if position is None else f" (position {position + 1})"
        raise TypeError(
            f"{op}(): argument 'dtype'{where} must be torch.dtype, not {type(value).__name__}"
        )


def kernel_dtypes(kernel: str, bools_only: bool = False, pair: bool = False, min_ndim: int = 0):
    """Refuse, as PyTorch does, an ``input`` its CPU ``kernel`` has no implementation for:
    integer and bool tensors (``bools_only``: bool tensors only), where minigrad would
    otherwise compute in float (a result PyTorch never gives). Checks the first argument, or
    with ``pair`` the type the first two promote to (``mse_loss(input, target)``). An input
    with fewer than ``min_ndim`` dims raises :class:`backend.DimensionError` first, as PyTorch
    checks such an op's rank before its dtype::

        @kernel_dtypes("elu_cpu")
        def elu(input, alpha=1.0): ...     # elu(int tensor) -> NotImplementedError
    """

    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            t = args[0] if args else kwargs.get("input")
            if isinstance(t, graph.Tensor):
                if t.ndim < min_ndim:
                    raise backend.DimensionError(
                        f"{fn.__name__}: input must have at least {min_ndim} dimension(s), got "
                        f"shape {list(t.shape)}"
                    )
                d = t.dtype
                if pair:
                    other = args[1] if len(args) > 1 else kwargs.get("other", kwargs.get("target"))
                    d = dtypes.result_type(t, other)
                refuse_dtype(d, kernel, fn.__name__, bools_only)
            return fn(*args, **kwargs)

        return run

    return wrap


def refuse_dtype(
    d, kernel: str, op: str, bools_only: bool = False, low_precision: bool = False
) -> None:
    """Raise PyTorch's ``NotImplementedError`` for a dtype ``d`` its CPU ``kernel`` has no
    implementation for: integer and bool (``bools_only``: bool only); see
    :func:`kernel_dtypes`, and the linalg ops whose kernels refuse integer input. With
    ``low_precision``, float16 and bfloat16 too (LAPACK's kernels have neither)."""
    if low_precision and d.is_floating_point and d.itemsize == 2:
        raise NotImplementedError(
            f"{op}: \"{kernel}\" not implemented for '{dtypes.scalar_type_name(d)}' (as in "
            "PyTorch; convert with .float())"
        )
    if d is dtypes.bool or not (bools_only or d.is_floating_point or d.is_complex):
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{dtypes.scalar_type_name(d)}' (as in PyTorch, "
            f"{op} takes floating-point tensors{' or integers' if bools_only else ''}; convert "
            f"with .float())"
        )


def refuse_cast(result, out, op: str) -> None:
    """PyTorch's ``RuntimeError`` where an op writes a result of dtype ``result`` into a tensor
    of dtype ``out`` (in place, or an output that keeps its input's dtype) of a lower category
    (float into integer, integer into bool)."""
    if dtypes.category(result) > dtypes.category(out):
        raise RuntimeError(
            f"{op}: result type {dtypes.scalar_type_name(result)} can't be cast to the desired "
            f"output type {dtypes.scalar_type_name(out)}"
        )


def check_alpha(value, name: str, *operands) -> None:
    """PyTorch's check of a scaling number (``alpha``, addr's ``beta``) against the dtype the
    operands promote to: no float for integer or bool results (not even 1.0), no complex for
    real ones, and a bool only for bool ones. Int values always pass (the hot path)."""
    if type(value) is int:
        return
    d = dtypes.result_type(*operands)
    if isinstance(value, bool) and d is not dtypes.bool:
        raise RuntimeError(f"Boolean {name} only supported for Boolean results.")
    if isinstance(value, float) and not (d.is_floating_point or d.is_complex):
        raise RuntimeError(
            f"For integral input tensors, argument {name} must not be a floating point number."
        )
    if isinstance(value, complex) and not d.is_complex:
        raise RuntimeError(
            f"For non-complex input tensors, argument {name} must not be a complex number."
        )


def coefficient(value, *tensors, op: str = ""):
    """A number scaling tensors (``alpha=``, ``beta=``, ``value=``) as PyTorch applies it: cast
    to the type the tensors promote to, so that integer tensors give an integer result (a float
    coefficient truncated toward zero: ``addmm(ints, ..., alpha=1.5)`` scales by 1) and a value
    out of the dtype's range raises, instead of NumPy's silent promotion to float."""
    d = dtypes.result_type(*tensors)
    if d.is_floating_point or d.is_complex or not isinstance(value, (int, float)):
        return value
    return dtypes.checked_scalar(value, d, op)


class Op(Node):
    """A primitive op: ``forward`` on backend arrays, ``backward`` with Tensor ops.

    Call an instance on tensors (and Python scalars) to run it: ``Exp()(x)``. Constructor
    arguments carry the op's settings (``Sum(dim, keepdim)``). When grad mode is on and an input
    requires grad, the instance becomes the output's ``grad_fn``; otherwise it is dropped.

    Class flags say what backward needs, so that nothing else is kept alive:
        save_inputs: the input tensors (``self.saved``); ``"for_others"`` keeps an
            input only when another input needs a gradient, None in its place otherwise (a
            product's factor appears only in the other factor's gradient: ``x * 2`` and
            ``x * mask`` keep nothing of ``x``, as PyTorch's mul); a tuple of indices keeps
            only those inputs (None for the others);
        save_output: the output (last in ``self.saved``);
        is_view: the output may share memory with input 0, so they share a version counter,
            and the output remembers its base and the view ops from it (``Tensor._view``) so
            that an in-place change through it can be recorded on the base (CopySlices);
        differentiable: False for ops whose outputs never require grad (comparisons);
        supports_complex: True for ops whose forward and backward are right for complex
            tensors (backward formulas conjugate where PyTorch's convention asks, see
            :mod:`minigrad.ops.complex`); any other op given a complex tensor raises.

    During ``forward``, ``self.xp`` is the array module of the inputs' device, and when the
    op is being recorded, ``self.needs_input_grad`` is known already; intermediate arrays that
    backward reuses are kept with ``self.keep(name=array)`` (freed with the saved tensors).
    """

    save_inputs = False
    save_output = False
    is_view = False
    differentiable = True
    supports_complex = False
    fresh_results = True  # see Node: backward formulas hand out only tensors they made

    # PyTorch's argument names of the inputs, for grad_fn._saved_<name> (see saved_slot_names)
    input_names: tuple = ("self", "other")

    def saved_slot_names(self) -> tuple:
        """The names of what this op saved, as PyTorch's node attributes: its inputs by
        :attr:`input_names` when it saves them, then ``result`` when it saves its output."""
        names = self.input_names[: len(self.edges)] if self.save_inputs else ()
        return names + ("result",) if self.save_output else names

    @classmethod
    def label(cls) -> str:
        """The op's label in forward errors, profiles, graph pictures and exported graphs: the
        class name less an ``Op`` suffix, which only keeps op classes apart from Module classes
        (``ReLUOp`` is labelled ``ReLU``, as ``nn.ReLU`` is the layer)."""
        name = cls.__dict__.get("_node_base", cls).__name__  # (a recorded node's op class)
        return name[:-2] if name.endswith("Op") else name

    # PyTorch's name for the op's grad_fn where it is not label() + "Backward0" (ReluBackward0
    # for ReLUOp); an op whose PyTorch name depends on its inputs overrides name() instead.
    backward_name = None

    @classmethod
    def name(cls) -> str:
        """The name of the op's backward node, as PyTorch names its ``grad_fn``s: ``MulBackward0``
        (in ``grad_fn`` reprs and in errors and profiles of backward)."""
        return cls.backward_name or cls.label() + "Backward0"

    def forward(self, *arrays):
        raise NotImplementedError

    def __call__(self, *args):
        if interposer is not None:  # a transform (vmap, autocast) is active in some thread
            handled, args = interposer(self, args)
            if handled:
                return args
        tensor_cls = graph.Tensor
        device = None
        requires_grad = False
        arrays = []
        # While the op may be recorded, the loop also collects what Node.connect would (the
        # edges and the metadata of the inputs; kept only if an input requires grad), sparing
        # a second loop over the arguments.
        edges = meta = None
        if self.differentiable and _grad_state.enabled:
            edges, meta = [], []
        for a in args:
            kind = type(a)  # (isinstance of a number is slow, Tensor having a metaclass)
            if kind is tensor_cls or (kind not in _NOT_TENSORS and isinstance(a, tensor_cls)):
                if device is None:
                    device = a.device
                elif a.device is not device and not _meta_with_cpu_scalars(args):
                    raise RuntimeError(
                        f"{self.label()}: expected all tensors to be on the same device, but found "
                        f"at least two devices, {device} and {a.device}"
                    )
                if not requires_grad:  # the flag, read past the property unless a is a view
                    requires_grad = a._requires_grad if a._base is None else a.requires_grad
                data = a._data
                dt = data.dtype  # (one read of NumPy's dtype getter: no attribute cache)
                if dt.char not in _PLAIN_CHARS:  # complex, uint16+, ml_dtypes' types
                    _check_input_dtype(self, dt, self.supports_complex, args)
                arrays.append(data)
                if edges is not None:  # Node.connect's loop body for a tensor
                    grad_fn = a.grad_fn
                    if grad_fn is not None:
                        edges.append((grad_fn, a._output_nr))
                    elif a._base is None:
                        edges.append((_grad_accumulator(a), 0) if a._requires_grad else None)
                    else:
                        edges.append(graph.gradient_edge(a))
                    meta.append((data.shape, dt, a.device))
            else:
                arrays.append(a)
                if edges is not None:
                    edges.append(None)
                    meta.append(None)
        self.device, self.xp = device, device.xp_cache or device.xp
        recording = requires_grad and edges is not None
        if recording:
            self.edges, self.input_meta = tuple(edges), tuple(meta)
            if _anomaly_state.enabled:
                self.trace = anomaly.creation_stack()
        try:
            if device.index != device.backend.current:  # kernels run on the data's GPU
                with device.backend.using(device.index):
                    out = self.forward(*arrays)
            else:
                out = self.forward(*arrays)
        except ValueError as e:  # NumPy's shape errors, restated with the op and the shapes
            if backend.too_big(e):  # (a size no array can address: out of memory)
                raise backend.OutOfMemoryError.restating(self.label(), device, e) from e
            shapes = [a.shape for a in args if isinstance(a, tensor_cls)]
            raise _shape_error(self.label(), e, shapes) from None
        except (TypeError, AttributeError) as e:  # a storage record (sparse, ...) is no array
            return _record_fallback(self, args, e)
        except MemoryError as e:  # NumPy's and CuPy's allocation failures, as PyTorch's
            raise backend.OutOfMemoryError.restating(self.label(), device, e) from e
        # (read before the class changes: a node's attribute reads are slower after that, as
        # CPython 3.11 then keeps its attributes in a dict of its own)
        is_view = self.is_view
        if recording and (out.dtype.kind in "fc" or dtypes.is_differentiable(out.dtype)):
            result = tensor_cls._make(out, device, True, self)
            save_inputs = self.save_inputs  # (a class attribute: one unspecialized read)
            if save_inputs:
                saved = args if save_inputs is True else self._inputs_to_save(args)
                self.save(saved + (result,) if self.save_output else saved)
            elif self.save_output:
                self.save((result,))
            self.__class__ = _RECORDED.get(self.__class__) or graph.recorded_class(self)
        else:
            result = tensor_cls._make(out, device)
        if is_view:  # share the version counter; keep the chain of view ops from the base
            source = args[0]
            counter = result._version_counter = version_counter(source)
            if source._base is not None:
                result._base, ops = source._base, source._view[0] + (self,)
            else:
                result._base, ops = source, (self,)
            result._view = (ops, counter.value, _grad_state.enabled)
        if tracer is not None:
            tracer(self, args, result)
        return result

    def _inputs_to_save(self, args) -> tuple:
        """``args`` with None for each input that no other input's gradient needs (or that
        the ``save_inputs`` tuple of indices leaves out)."""
        if type(self.save_inputs) is tuple:
            return tuple(a if i in self.save_inputs else None for i, a in enumerate(args))
        edges = self.edges
        if len(edges) == 2:  # a product: each factor is kept for the other's gradient
            return (args[0] if edges[1] else None), (args[1] if edges[0] else None)
        needs = [e is not None for e in edges]
        count = sum(needs)
        return tuple(a if count - needs[i] else None for i, a in enumerate(args))

    @property
    def needs_input_grad(self) -> tuple:
        """One bool per input: whether backward must compute that input's gradient (empty
        when the op is not being recorded)."""
        edges = self.edges
        n = len(edges)
        if n == 2:  # most ops, without a comprehension's cost
            return edges[0] is not None, edges[1] is not None
        if n == 3:  # linear, layer norm, convolution: (input, weight, bias)
            return edges[0] is not None, edges[1] is not None, edges[2] is not None
        return tuple([e is not None for e in edges])

    # -- helpers for backward --------------------------------------------------------------------
    def reuse(self, name, recompute, *inputs):
        """An intermediate of forward as a tensor: the array kept under ``name`` (see
        :meth:`keep`), wrapped as a constant, or ``recompute()`` (the same value from tensor
        ops) when a graph of this backward is being recorded and one of ``inputs`` requires
        grad, so that second derivatives flow through it; also when forward kept nothing
        under ``name``. With a tuple of names, a tuple of tensors (``recompute`` returns one).
        """
        if forward_ad.active:  # the inputs may carry tangents, which kept arrays would drop
            return recompute()
        kept = self.kept_arrays
        names = name if isinstance(name, tuple) else (name,)
        if any(kept.get(n) is None for n in names) or (
            grad_mode.is_grad_enabled() and any(t is not None and t.requires_grad for t in inputs)
        ):
            return recompute()
        tensors = tuple(constant(kept[n], self.device) for n in names)
        return tensors if isinstance(name, tuple) else tensors[0]

    def formula(self, fn, *args):
        """Evaluate a derivative formula written once for both kinds of backward.

        ``fn(ns, *args)`` uses only what backend arrays and tensors share (operators,
        ``reshape``, ``.T``, ``sum(axis)``, indexing) and, for functions, the namespace ``ns``.
        When a graph of the backward is being recorded (``create_graph``) it runs on tensors
        with ``ns`` = :mod:`minigrad.ops`, so the gradients are differentiable again; in a plain
        backward it runs on the arrays with ``ns`` = the device's array module, skipping the
        per-op cost of tensor calls. Returns the result (a tensor, or a tuple of tensors/None).
        """
        if _grad_state.enabled or forward_ad.active:  # (forward AD: tangents flow too)
            from .. import ops

            return fn(ops, *args)
        tensor_cls = graph.Tensor
        arrays = []  # a loop, not a comprehension: this runs once per node of a backward
        for a in args:  # (type first: isinstance of a number is slow, see Op.__call__)
            kind = type(a)
            if kind is tensor_cls or (kind not in _NOT_TENSORS and isinstance(a, tensor_cls)):
                a = a._data
            arrays.append(a)
        out = fn(self.xp, *arrays)
        make, device = tensor_cls._make, self.device
        if type(out) is not tuple:
            return make(out, device)
        n = len(out)
        if n == 2:  # most ops: spelled out, as the loop below costs a microsecond
            a, b = out
            a = None if a is None else make(a, device)
            return a, (None if b is None else a if b is out[0] else make(b, device))
        if n == 3:  # linear, layer norm, convolution: three distinct arrays, spelled out too
            a, b, c = out
            if a is not b and b is not c and a is not c:
                return (
                    None if a is None else make(a, device),
                    None if b is None else make(b, device),
                    None if c is None else make(c, device),
                )
        wrapped = []
        for g in out:
            if g is not None:
                for earlier, tensor in zip(out, wrapped):
                    if earlier is g:  # an array given to two inputs: one tensor, seen as shared
                        g = tensor
                        break
                else:
                    g = make(g, device)
            wrapped.append(g)
        return tuple(wrapped)


_SPARSE = (SparseCOO, SparseCompressed)


def _record_fallback(op, args, error):
    """The op's result through the rule of the storage record among its inputs (a sparse,
    nested or quantized tensor's: see :data:`record_fallbacks`), on that tensor's GPU; raises
    ``error`` (the forward's own) when no input has such a record."""
    tensor_cls = graph.Tensor
    for a in args:
        if isinstance(a, tensor_cls):
            fallback = record_fallbacks.get(type(a._data))
            if fallback is not None:
                device = a.device
                if device.index == device.backend.current:
                    return fallback(op, args)
                with device.backend.using(device.index):  # (the rule runs xp on that GPU)
                    return fallback(op, args)
    raise error


def _meta_with_cpu_scalars(args) -> bool:
    """Whether ``args`` mix meta tensors with 0-d CPU tensors only, which PyTorch allows (the
    meta rule of minigrad._meta_ops then runs); read only when devices differ."""
    tensors = [a for a in args if isinstance(a, graph.Tensor)]
    kinds = {a.device.type for a in tensors}
    return "meta" in kinds and all(a.device.type == "meta" or a.ndim == 0 for a in tensors)


def _sparse_rule(op, args):
    """The op's sparse rule; a clear refusal naming the layout when it has none."""
    rule = sparse_rules.get(type(op))
    if rule is None:
        record = next(a._data for a in args if type(getattr(a, "_data", None)) in _SPARSE)
        kind = "COO" if type(record) is SparseCOO else record.layout.name[7:].upper()
        raise NotImplementedError(
            f"{op.label()}: minigrad does not support sparse {kind} tensors in this op (as "
            "PyTorch, most ops take dense tensors only); call .to_dense() first, or see "
            "README's 'Sparse tensors' for the ops that take them"
        )
    return rule(op, args)


def _nested_rule(op, args):
    """The op's nested rule; PyTorch's refusal, by name, when it has none."""
    rule = nested_rules.get(type(op))
    if rule is None:
        raise NotImplementedError(
            f"{op.label()}: minigrad does not support nested tensors in this op (as PyTorch, "
            "nested tensors take a subset of ops); README's 'Sparse tensors' lists the nested "
            "ops), or call .to_padded_tensor(padding) or .unbind() first"
        )
    return rule(op, args)


record_fallbacks.update({SparseCOO: _sparse_rule, SparseCompressed: _sparse_rule})
record_fallbacks[NestedRecord] = _nested_rule


# NumPy type codes of bool, the signed integers, uint8, NumPy's real floats and ml_dtypes'
# bfloat16 ("E"): inputs of any other dtype go through _check_input_dtype (one set lookup per
# input otherwise).
_PLAIN_CHARS = frozenset("?bhilqBefdgE")


def _check_input_dtype(op, np_dtype, complex_ok: bool, args: tuple) -> None:
    """Refuse complex inputs to ops without complex support, and the ops PyTorch has no
    kernel for on uint16/32/64 and float8 (:mod:`minigrad._dtype_limits`)."""
    if np_dtype.kind == "c":
        if not complex_ok:
            raise _complex_unsupported(op)
        return
    _dtype_limits.check_op(op, np_dtype, args)


def _complex_unsupported(op) -> NotImplementedError:
    return NotImplementedError(
        f"{op.label()}: minigrad does not support complex tensors in this op yet (README, "
        "'Complex numbers and minigrad.fft', lists the ops that take them)"
    )


def zero_link(grad, x):
    """``grad``, plus a zero that keeps ``x`` in its graph while a backward is being recorded
    (``create_graph``) and ``x`` requires grad; otherwise ``grad`` itself (also when ``grad``
    and ``x`` are a plain backward's arrays, see :meth:`Op.formula`).

    PyTorch's derivative ``self: zeros_like(grad)`` of the backward of relu, hardtanh,
    threshold, the shrinks, prelu and the pools, whose gradient reads the input only through a
    mask or an argmax: a gradient penalty then gives the parameters before such an op zero
    gradients, not None (which optimizers skip, so Adam's state would differ).
    """
    if _grad_state.enabled and getattr(x, "requires_grad", False):  # (arrays have no such flag)
        return grad + x.sign() * 0.0  # sign's derivative is 0; its values here are finite
    return grad


class ZeroLink(Op):
    """z = a (a copy), remembering x; dz/da = 1, and in a recorded backward a's gradient keeps x
    in its graph with zero derivative (:func:`zero_link`); x gets no gradient of its own"""

    save_inputs = (1,)

    def forward(self, a, x):
        return a.copy()

    def backward(self, gz):
        x = self.saved[1]
        if _grad_state.enabled and x.requires_grad:  # a 0-d zero, as gz and x differ in shape
            return zero_link(gz, (x.sign() * 0.0).sum()), None
        return gz, None


def linked_to(out, x):
    """``out``, computed from ``x`` by a function PyTorch differentiates as one node whose
    backward reads ``x`` only through indices or sizes (the adaptive and fractional pools), made
    so that in a recorded backward the gradients keep ``x`` in their graph (:func:`zero_link`);
    ``out`` itself when no graph is recorded. Costs a copy of ``out`` (a pool's small output)."""
    if out.grad_fn is None or not (_grad_state.enabled and x.requires_grad):
        return out
    return ZeroLink()(out, x)


class NoDerivative(Op):
    """z = a gradient computed in a recorded backward, joined to what it was computed from
    (``inputs``) where PyTorch implements no derivative of that backward
    (``hardsigmoid_backward``): differentiating z raises PyTorch's error. PyTorch has two: a
    backward with no formula at all (node ``NotImplemented``, a RuntimeError), and one whose
    formula is ``not_implemented`` (node ``node``, e.g. ``PdistBackwardBackward0``, a
    NotImplementedError)."""

    def __init__(self, function: str, node: str | None = None):
        self.function, self.node = function, node

    def name(self) -> str:
        return self.node or "torch::autograd::NotImplemented"  # (its repr: NotImplemented)

    def forward(self, value, *inputs):
        return value  # (an array no one else holds: the backward's own result)

    def backward(self, gz):
        if self.node is not None:
            raise NotImplementedError(f"the derivative for '{self.function}' is not implemented.")
        raise RuntimeError(f"derivative for aten::{self.function} is not implemented")


def no_derivative(function: str, grad, *inputs, node: str | None = None):
    """``grad`` (computed by a backward from ``inputs``) as is, unless a graph is being recorded
    (``create_graph``) and an input requires grad: then a node that raises when differentiated,
    as PyTorch's for the backward ``function`` it does not differentiate (see
    :class:`NoDerivative` for ``node``)."""
    if not (_grad_state.enabled and any(t.requires_grad for t in inputs)):
        return grad
    with grad_mode.no_grad():
        value = grad.detach()
    return NoDerivative(function, node)(value, *inputs)


class FirstOrderOnly(Op):
    """z = x (a copy); dz/dx = 1, the gradient passed through :func:`no_derivative`: the entry
    of a function minigrad composes where PyTorch's one node has a backward it does not
    differentiate (``multi_margin_loss``, ``pdist``)"""

    save_inputs = True

    def __init__(self, function: str, node: str | None):
        self.function, self.node = function, node

    def forward(self, x):
        return x.copy()

    def backward(self, gz):
        return no_derivative(self.function, gz, gz, self.saved[0], node=self.node)


def first_order_only(x, function: str, node: str | None = None):
    """``x``, through a node whose backward's gradient raises when differentiated, as PyTorch's
    for the backward ``function`` (see :class:`NoDerivative`); ``x`` itself when no graph is
    recorded. The function's first-order gradient is unchanged.

    Example:
        >>> rows = first_order_only(input, "multi_margin_loss_backward")
    """
    if not (_grad_state.enabled and getattr(x, "requires_grad", False)):
        return x
    return FirstOrderOnly(function, node)(x)


def constant(array, device):
    """Wrap a backend array as a tensor that needs no grad (masks, indices in backward)."""
    return graph.Tensor._make(array, device)


def scalar_tensor(value, dtype, device):
    """A 0-d tensor holding a Python number, of minigrad ``dtype``, on ``device``."""
    if device.index != device.backend.current:  # allocated on its GPU (cuda:1 and up)
        with device.backend.using(device.index):
            return graph.Tensor._make(device.xp.asarray(value, dtype=dtype.numpy), device)
    return graph.Tensor._make(device.xp.asarray(value, dtype=dtype.numpy), device)


def tensor_args(tensors, op: str) -> tuple:
    """``tensors`` (a function's ``*tensors``) checked to be Tensors, as PyTorch's parser checks
    a ``TensorList`` argument: its TypeError naming the element otherwise."""
    tensor_cls = graph.Tensor
    for i, t in enumerate(tensors):
        if not isinstance(t, tensor_cls):
            raise TypeError(
                f"{op}(): expected Tensor as element {i} in argument 0, but got {type(t).__name__}"
            )
    return tensors


def _integer_scalar(dim, op: str) -> int:
    """A 0-d integer tensor or NumPy integer given as a dim, as PyTorch's argument parser takes
    them (torchkbnufft passes the elements of ``torch.arange``); anything else is a TypeError."""
    dtype = getattr(dim, "dtype", None)
    kind = None if dtype is None else np.dtype(getattr(dtype, "numpy", dtype)).kind
    if getattr(dim, "ndim", None) == 0 and kind in ("i", "u"):
        return operator.index(dim)
    raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")


def normalize_dim(dim: int, ndim: int, op: str) -> int:
    """A dimension index in ``[0, ndim)``; negative counts from the end, as in PyTorch."""
    size = max(ndim, 1)  # a 0-d tensor accepts dim 0 and -1
    if not isinstance(dim, int) or isinstance(dim, bool):
        dim = _integer_scalar(dim, op)
    if not -size <= dim < size:
        raise IndexError(
            f"{op}: Dimension out of range (expected to be in range of [{-size}, {size - 1}], "
            f"but got {dim})"
        )
    return dim % size if ndim else 0


def normalize_dims(dim, ndim: int, op: str) -> tuple:
    """``dim`` (None, an int or a sequence) as a sorted tuple of distinct non-negative dims."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    if isinstance(dim, int):
        dims = (dim,)
    elif isinstance(dim, (tuple, list)):
        dims = tuple(dim)
    elif getattr(dim, "ndim", None) == 0:  # a 0-d integer tensor (or a TypeError)
        dims = (_integer_scalar(dim, op),)
    else:
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {type(dim).__name__}")
    out = tuple(sorted({normalize_dim(d, ndim, op) for d in dims}))
    if len(out) != len(dims):
        raise RuntimeError(f"{op}: dim {list(dims)} appears multiple times in the list of dims")
    return out if ndim else ()


def kept_shape(shape: tuple, dims: tuple) -> tuple:
    """``shape`` with each reduced dim set to 1 (the shape of a ``keepdim=True`` result)."""
    return tuple(1 if i in dims else s for i, s in enumerate(shape))
