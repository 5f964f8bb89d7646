"""The Tensor: an array on a device, its place in the autograd graph, and its methods.

Methods delegate to the functions in :mod:`minigrad.ops`; this file holds storage, metadata,
the Python protocols, and in-place updates (with the version counter that guards backward).
"""

from __future__ import annotations

import copy

import numpy as np

from . import (
    _format,
    _legacy,
    _memory_format,
    _public_name,
    _result_layout,
    _shared_memory,
    _sparse_coo,
    _warnings,
    backend,
    dtypes,
)
from . import _linalg_top as _linalg
from . import _quantized as _qt
from . import _tensor_meta as _meta
from . import _torch_function as _tf
from . import ops as _ops
from ._hash_tensor import hash_tensor as _hash_tensor
from ._inplace import InPlaceMethods, refresh_view
from ._meta_ops import MetaArray as _MetaArray  # (importing it registers the meta op rule)
from ._nested_record import NestedRecord as _NestedRecord
from ._nested_record import is_nested as _is_nested
from ._sparse_compressed import SparseCompressed as _SparseCompressed
from ._sparse_compressed import is_csr as _is_csr
from .autograd import engine, graph
from .autograd import grad_mode as _grad_mode
from .autograd.graph import (
    INFERENCE,
    PostAccumulateGradHook,
    RemovableHandle,
    RetainGrad,
    named_as,
    version_counter,
)
from .ops._size import Size, dim_entry, factory_size
from .ops.base import autocast_op

_new = object.__new__
_ndarray, _generic = np.ndarray, np.generic  # (type tests of _make)


def _initialized(tensor) -> bool:
    """Whether ``tensor`` has its data (the slot is unset until ``_init``)."""
    try:
        Tensor._data.__get__(tensor)
    except AttributeError:
        return False
    return True


_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If "
    "you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. "
    "See github.com/pytorch/pytorch/pull/30531 for more information."
)


class _TensorType(type):
    """Tensor's metaclass, for the class's repr only: ``<class 'minigrad.Tensor'>`` (under
    :mod:`minigrad.as_torch`, ``<class 'torch.Tensor'>``) as PyTorch shows ``type(x)``, and
    minigrad's subclasses at their module's path (``torch.nn.parameter.Parameter``)."""

    def __repr__(cls) -> str:
        module = "minigrad" if cls.__module__ == "minigrad.tensor" else cls.__module__
        return f"<class '{_public_name.public_path(module)}.{cls.__qualname__}'>"


class Tensor(InPlaceMethods, metaclass=_TensorType):
    """A multi-dimensional array that records the ops applied to it for backpropagation.

    Make tensors with :func:`minigrad.tensor` and the factory functions. The legacy
    constructor works as in PyTorch: ``Tensor(data)`` is a float copy of ``data``,
    ``Tensor(2, 3)`` a new float tensor of that shape (zeros here, uninitialised in PyTorch),
    ``Tensor()`` an empty one. (PyTorch reads ``Tensor(t.shape)`` as sizes because its shapes
    are ``torch.Size``; minigrad's shapes are tuples, so that is data: use ``Tensor(*t.shape)``.)
    """

    __slots__ = (
        "_data",
        "device",
        "_requires_grad",
        "_grad",
        "grad_fn",
        "_output_nr",
        "_version_counter",
        "_base",
        "_view",
        "_hooks",
        "_accumulator",
        "_retains_grad",
        "_adoptable",  # a gradient buffer only the engine sees (autograd.graph.mark_adoptable)
        "__weakref__",
        "__dict__",  # users' own attributes (``p.no_decay = True``), as PyTorch's tensors allow
    )
    __array_priority__ = 1000  # numpy scalars defer to Tensor's reflected operators
    _prints_as_tensor = True  # tensor(...), where a subclass prints its name (_format)

    def __new__(cls, *args, **kwargs):
        # A subclass's own __new__ calling super().__new__(cls, data) gets its tensor here, as
        # in PyTorch (an alias of a tensor ``data``); otherwise __init__ fills it in.
        if cls is not Tensor:
            _tf.refuse_dispatching(cls)
        self = _new(cls)
        if args and cls.__new__ is not Tensor.__new__:
            data = args[0]
            if len(args) == 1 and not kwargs and isinstance(data, Tensor):
                self._init(data._data, data.device, False, None)
                self._version_counter = version_counter(data)
            else:
                Tensor.__init__(self, *args, **kwargs)
        return self

    def __init__(self, *args, dtype=None, device=None, requires_grad=False, **kwargs):
        if _initialized(self):  # made by a subclass's __new__, which may take other keywords
            return
        if kwargs:
            raise TypeError(
                f"Tensor.__init__() got an unexpected keyword argument {next(iter(kwargs))!r}"
            )
        dev = backend.device(device or "cpu")
        dtype = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        self._init(_legacy.legacy_array(args, dtype, dev, "Tensor"), dev, False, None)
        self.requires_grad = requires_grad

    def _init(self, data, device, requires_grad, grad_fn):
        self._data, self.device = data, device
        self._requires_grad, self.grad_fn = requires_grad, grad_fn
        self._grad = self._version_counter = self._base = self._view = self._hooks = None
        self._accumulator = None
        self._output_nr, self._retains_grad, self._adoptable = 0, False, False

    _init_ordinary = _init

    def _init_marking(self, data, device, requires_grad, grad_fn):
        """``_init`` while an ``inference_mode`` block is open in some thread: a tensor made in
        inference mode (in this thread) is an inference tensor."""
        self._init_ordinary(data, device, requires_grad, grad_fn)
        if _grad_mode._state.inference:
            self._version_counter = INFERENCE

    # -- the __torch_function__ protocol (see minigrad._torch_function) --------------------------
    __torch_function__ = classmethod(_tf.default_torch_function)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _tf.wrap_subclass(cls)

    @staticmethod
    def _make_subclass(cls, data, require_grad=False):
        """An instance of the Tensor subclass ``cls`` sharing ``data``'s storage, outside the
        graph, requiring grad if ``require_grad`` (PyTorch's ``Tensor._make_subclass``)."""
        _tf.refuse_dispatching(cls)
        out = _new(cls)
        out._init(data._data, data.device, False, None)
        out._version_counter = version_counter(data)
        out.requires_grad = require_grad
        return out

    @staticmethod
    def _make_wrapper_subclass(cls, size, *args, **kwargs):
        """PyTorch's wrapper-subclass constructor (an empty tensor whose ``__torch_dispatch__``
        supplies the data): refused, minigrad has no ``__torch_dispatch__``."""
        _tf.refuse_dispatching(cls)
        raise NotImplementedError(
            f"Tensor._make_wrapper_subclass({cls.__name__}): minigrad has no wrapper subclasses "
            "(they need __torch_dispatch__); subclass Tensor with __torch_function__ instead"
        )

    @classmethod
    def _make(cls, data, device, requires_grad=False, grad_fn=None):
        """Wrap a backend array (no copy, no checks): the constructor ops use."""
        if type(data) is not _ndarray and isinstance(data, _generic):  # NumPy gives scalars
            data = np.asarray(data)  # for 0-d results; keep arrays (an ndarray: one type test)
        t = _new(cls)  # _init's assignments, inline: the hottest constructor (keep them alike)
        t._data, t.device, t._requires_grad, t.grad_fn = data, device, requires_grad, grad_fn
        t._grad = t._version_counter = t._base = t._view = t._hooks = t._accumulator = None
        t._output_nr, t._retains_grad, t._adoptable = 0, False, False
        return t

    _make_ordinary = _make

    @classmethod
    def _make_marking(cls, data, device, requires_grad=False, grad_fn=None):
        """``_make`` while an ``inference_mode`` block is open (see ``_init_marking``)."""
        t = cls._make_ordinary(data, device, requires_grad, grad_fn)
        if _grad_mode._state.inference:
            t._version_counter = INFERENCE
        return t

    # -- metadata -------------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return tuple.__new__(Size, self._data.shape)

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.from_numpy(self._data.dtype)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def size(self, dim=None):
        shape = self._data.shape
        if dim is None:
            return tuple.__new__(Size, shape)
        if type(dim) is int:  # the common case, at once
            try:
                return shape[dim]
            except IndexError:
                pass
        return dim_entry(shape, dim, "size")  # PyTorch's errors (a name, a float, out of range)

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_meta(self) -> bool:
        """True on the ``meta`` device (a shape and a dtype, no data)."""
        return type(self._data) is _MetaArray

    def is_floating_point(self) -> bool:
        return dtypes.is_floating(self._data.dtype)

    def is_contiguous(self, memory_format=None) -> bool:
        return _memory_format.is_in_format(self._data, memory_format)

    def _all_elements(self):
        """The array for checks over every element (index ranges): under ``vmap`` a batched
        tensor answers with its whole batch, where ``_data`` refuses element access."""
        return self._data

    # -- autograd -------------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        if self._base is not None and self._view[1] != self._version_counter.value:
            refresh_view(self)  # the base changed in place since this view's grad_fn was set
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None:  # PyTorch's words: the hint only when turning it off
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables."
                + (
                    ""
                    if value
                    else " If you want to use a computed variable in a subgraph that doesn't "
                    "require differentiation use var_no_grad = var.detach()."
                )
            )
        if value and self._version_counter is INFERENCE and not _grad_mode._state.inference:
            raise RuntimeError(
                "Setting requires_grad=True on inference tensor outside InferenceMode is not "
                "allowed."
            )
        if value and not dtypes.is_differentiable(self._data.dtype):
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients, got "
                f"{self.dtype}"
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Sets ``requires_grad`` in place; on a non-leaf (which already requires grad) True is
        a no-op, as in PyTorch (captum's ``torch.cat(scaled).requires_grad_()``)."""
        if requires_grad and self.grad_fn is not None:
            return self
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        """The gradient accumulated by backward (None until then); assign None or a tensor of
        this tensor's shape, dtype and device, as PyTorch checks. Read on a non-leaf that does
        not retain its gradient (so it stays None), it warns as PyTorch does."""
        grad = self._grad
        if grad is None and self.grad_fn is not None and not self._retains_grad:
            _warnings.warn_user(_NON_LEAF_GRAD)
        return grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None and not (  # the common case inline (the engine's adoptions)
            type(value) is Tensor
            and value.device is self.device
            and value._data.dtype == self._data.dtype
            and value._data.shape == self._data.shape
        ):
            _check_assigned_grad(self, value)
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def is_leaf(self) -> bool:
        self.requires_grad  # noqa: B018 - brings a view's grad_fn up to date with its base
        return self.grad_fn is None

    def _is_view(self) -> bool:
        """Whether this tensor is a view of another (its ``_base``), as PyTorch's private method
        that tools such as torchviz call."""
        return self._base is not None

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's storage has had (an int, as PyTorch's),
        counted over every view that shares it."""
        counter = self._version_counter
        if counter is INFERENCE:
            raise RuntimeError("Inference tensors do not track version counter.")
        return 0 if counter is None else counter.value

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def data(self) -> Tensor:
        """A tensor sharing this one's storage (and storage offset), outside the graph and its
        version checks."""
        return Tensor._make(self._detached_array(), self.device)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        if value.device != self.device or value._data.dtype != self._data.dtype:
            self._accumulator = None  # as PyTorch's set_data: a new leaf node for the new type
        self._data, self.device = value._data, value.device

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares storage, its offset and the version
        counter)."""
        out = Tensor._make(self._detached_array(), self.device)
        out._version_counter = version_counter(self)
        return out

    def _detached_array(self):
        if self._base is None:  # (a view's offset in its base's storage must be remembered)
            return self._data
        from ._strided import detached_array

        return detached_array(self)

    def module_load(self, other, assign: bool = False) -> Tensor:
        """How ``load_state_dict`` turns ``other`` (the state dict's value) into what swaps with
        this parameter or buffer under ``set_swap_module_params_on_conversion(True)``:
        ``other.detach()`` if ``assign``, else ``self.copy_(other).detach()``. Subclasses
        override it (or take it in ``__torch_function__``); it must return a new object."""
        return other.detach() if assign else self.copy_(other).detach()

    def detach_(self) -> Tensor:
        self.grad_fn, self._requires_grad = None, False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Accumulate the gradient of this tensor into the ``.grad`` of the leaves it came from.

        Args:
            gradient: d(loss)/d(self); may be omitted for a one-element tensor.
            retain_graph: keep the graph for another backward (default: ``create_graph``).
            create_graph: record the backward pass too, for higher-order derivatives.
            inputs: accumulate only into these tensors.
        """
        self.requires_grad  # noqa: B018 - brings a view's grad_fn up to date with its base
        engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def register_hook(self, hook) -> RemovableHandle:
        """Call ``hook(grad)`` whenever this tensor's gradient is computed; it may return a
        replacement gradient. Returns a handle whose ``remove()`` unregisters it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn.register_prehook(hook, self._output_nr)
        if self._hooks is None:
            self._hooks = {}
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        return handle

    def register_post_accumulate_grad_hook(self, hook) -> RemovableHandle:
        """Call ``hook(tensor)`` after this leaf's ``.grad`` has been updated by backward (as
        PyTorch; used by DistributedDataParallel to start reducing a gradient once it is
        complete). Returns a handle whose ``remove()`` unregisters it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        if self._hooks is None:
            self._hooks = {}
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = PostAccumulateGradHook(hook)
        return handle

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf tensor in ``.grad`` after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self._retains_grad:
            self.grad_fn.register_prehook(RetainGrad(self), self._output_nr)
            self._retains_grad = True

    # -- conversion -----------------------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        if type(self._data) is _MetaArray:
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        return self.device.backend.to_host(self._data).reshape(()).item()

    def tolist(self):
        return self.device.backend.to_host(self._data).tolist()

    def numpy(self, force: bool = False) -> np.ndarray:
        """The data as a NumPy array, sharing memory on the CPU (a view: its ``shape`` and
        ``flags`` are its own) (``force=True`` copies from a GPU).
        Refused for a tensor that requires grad while grad mode is on (the array would escape
        the graph); under ``no_grad`` (and in a custom Function's forward) it is allowed."""
        if type(self._data) in (_sparse_coo.SparseCOO, _SparseCompressed):
            raise TypeError(
                "can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first."
            )
        if type(self._data) is _qt.QuantizedArray:
            raise TypeError(f"can't convert a {self.dtype} tensor to numpy: dequantize() first")
        if not force:
            self._refuse_numpy_of_graph()
        if self._data.dtype.kind == "c" and _ops.is_conj(self):
            raise RuntimeError(
                "Can't call numpy() on Tensor that has conjugate bit set. Use "
                "tensor.resolve_conj().numpy() instead."
            )
        if self._base is not None and _ops.is_neg(self):
            raise RuntimeError(
                "Can't call numpy() on Tensor that has negative bit set. Use "
                "tensor.resolve_neg().numpy() instead."
            )
        if self.device.type != "cpu" and not force:
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                f"copy the tensor to host memory first."
            )
        host = self.device.backend.to_host(self._data)
        # A view, as PyTorch's array is one (its ``base`` set): it shares the memory, so writes
        # go both ways, while setting its ``shape``/``dtype``/``flags`` leaves the tensor alone.
        return host.view() if host is self._data else host

    def to(self, *args, **kwargs) -> Tensor:
        """Move to a device and/or convert to a dtype: ``t.to("cuda")``, ``t.to(minigrad.float64)``,
        ``t.to(other)`` (other's device and dtype). Differentiable; returns self if nothing changes."""
        memory_format = kwargs.pop("memory_format", None)
        device, dtype, copy = parse_to_args(args, kwargs)
        out = self
        if dtype is not None and dtype.numpy != out._data.dtype:
            out = _ops.elementwise.Cast(dtype.numpy)(out)
        if device is not None and device is not out.device:
            out = ToDevice(device)(out)
        if memory_format not in (None, _memory_format.preserve_format):  # as PyTorch: self
            if _memory_format.relayout_needed(self, out, memory_format):  # only if suggested
                out = _ops.movement.clone(out, memory_format=memory_format)
        return ToDevice(out.device)(out) if copy and out is self else out

    def cpu(self) -> Tensor:
        return self.to(backend.CPU)

    def cuda(self, device=None) -> Tensor:
        return self.to(
            backend.device(
                "cuda"
                if device is None
                else device
                if isinstance(device, str)
                else f"cuda:{device}"
            )
        )

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def bfloat16(self) -> Tensor:
        return self.to(dtypes.bfloat16)

    def cfloat(self) -> Tensor:
        return self.to(dtypes.complex64)

    def cdouble(self) -> Tensor:
        return self.to(dtypes.complex128)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool)

    def byte(self) -> Tensor:
        return self.to(dtypes.uint8)

    def char(self) -> Tensor:
        return self.to(dtypes.int8)

    def short(self) -> Tensor:
        return self.to(dtypes.int16)

    # -- memory layout: what PyTorch programs ask of storage, answered from the array ----------
    @property
    def layout(self):
        """``minigrad.strided`` for dense tensors, ``minigrad.sparse_coo`` for sparse ones."""
        if type(self._data) is _sparse_coo.SparseCOO:
            return _sparse_coo.sparse_coo
        if type(self._data) is _SparseCompressed:
            return self._data.layout
        if type(self._data) is _NestedRecord:
            return self._data.meta.layout
        return _memory_format.strided

    def stride(self, dim=None):
        """Steps in elements between neighbours along each dim (of one dim when given)."""
        steps = tuple(s // self._data.itemsize for s in self._data.strides)
        return steps if dim is None else dim_entry(steps, dim, "stride")

    def data_ptr(self) -> int:
        """The address of the first element (equal for tensors that share it)."""
        data = self._data
        return data.ctypes.data if isinstance(data, np.ndarray) else int(data.data.ptr)

    const_data_ptr = data_ptr  # PyTorch's read-only form: the same address

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def pin_memory(self, device=None) -> Tensor:
        """This tensor: minigrad has no page-locked host memory (transfers work without)."""
        return self

    def is_pinned(self, device=None) -> bool:
        return False

    def share_memory_(self) -> Tensor:
        """Move the storage to shared memory, for processes forked afterwards (see
        :func:`minigrad._shared_memory.share_memory_`)."""
        return _shared_memory.share_memory_(self)

    def is_shared(self) -> bool:
        return _shared_memory.is_shared(self)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def type(self, dtype=None, non_blocking: bool = False):
        """With no argument, the legacy type name (``'minigrad.FloatTensor'``, PyTorch's
        ``'torch.FloatTensor'``); with a dtype or such a name, this tensor cast to it."""
        if dtype is None:
            return dtypes.legacy_type_name(self.dtype, self.device.type == "cuda")
        if isinstance(dtype, str):
            dtype = dtypes.from_legacy_type_name(dtype)
        if isinstance(dtype, _legacy.LegacyType):  # minigrad.LongTensor, ...
            dtype = dtype.dtype
        return self.to(dtype)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False) -> Tensor:
        dev = backend.device(device) if device is not None else self.device
        out = Tensor._make(backend.as_array(data, dtypes.to_dtype(dtype or self.dtype), dev), dev)
        return out.requires_grad_(requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
        return self._new_filled((size,), fill_value, dtype, device, requires_grad, "new_full")

    def new_zeros(self, *sizes, size=None, dtype=None, device=None, requires_grad=False):
        """Zeros of ``size`` (``new_zeros(2, 3)``, ``new_zeros((2, 3))`` or
        ``new_zeros(size=(2, 3))``), this tensor's dtype and device unless given."""
        sizes = _ops.sized_by_keyword(sizes, size, "new_zeros", "size", True)
        return self._new_filled(sizes, 0, dtype, device, requires_grad, "new_zeros")

    def new_ones(self, *sizes, size=None, dtype=None, device=None, requires_grad=False):
        sizes = _ops.sized_by_keyword(sizes, size, "new_ones", "size", True)
        return self._new_filled(sizes, 1, dtype, device, requires_grad, "new_ones")

    def new_empty(self, *sizes, size=None, dtype=None, device=None, requires_grad=False):
        sizes = _ops.sized_by_keyword(sizes, size, "new_empty", "size", True)
        return self._new_filled(sizes, None, dtype, device, requires_grad, "new_empty")

    def _new_filled(self, size, fill_value, dtype, device, requires_grad, op) -> Tensor:
        dev = backend.device(device) if device is not None else self.device
        np_dtype = dtypes.to_dtype(dtype).numpy if dtype is not None else self._data.dtype
        shape = factory_size(size, op)
        dev.backend.check_dtype(np_dtype)
        if fill_value is None:  # new_empty (see backend.uninitialized_value)
            fill_value = backend.uninitialized_value(np_dtype)
        with backend.on(dev):
            out = Tensor._make(dev.xp.full(shape, fill_value, dtype=np_dtype), dev)
        return out.requires_grad_(requires_grad)

    # -- Python protocols -----------------------------------------------------------------------
    def __repr__(self) -> str:
        if type(self._data) is _sparse_coo.SparseCOO:
            from .sparse._tensor import sparse_repr  # (the sparse package sits above Tensor)

            return sparse_repr(self)
        if type(self._data) is _qt.QuantizedArray:
            return _qt.quantized_repr(self)
        if type(self._data) is _NestedRecord:
            from .nested._tensor import nested_repr  # (the nested package sits above Tensor)

            return nested_repr(self)
        if type(self._data) is _SparseCompressed:
            from .sparse._compressed_tensor import compressed_repr

            return compressed_repr(self)
        if type(self._data) is _MetaArray:
            return _format.meta_repr(self)
        return _format.tensor_repr(self)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        return _meta.is_nonzero(self)

    def _python_scalar(self):
        """The one value of a one-element tensor, for ``float()``, ``int()`` and ``complex()``
        (PyTorch raises ValueError there, where ``item()`` raises RuntimeError)."""
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __float__(self) -> float:
        if self.requires_grad and _grad_mode.is_grad_enabled():
            _warnings.warn_user_once(  # (the value is cut from the graph)
                "float of grad tensor",
                "Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
                "behavior.\nConsider using tensor.detach() first.",
            )
        return float(self._python_scalar())

    def __complex__(self) -> complex:
        return complex(self._python_scalar())

    def __int__(self) -> int:
        return int(self._python_scalar())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 or (spec and self._data.size == 1):
            return format(self.item(), spec)
        return format(repr(self), spec)

    def _refuse_numpy_of_graph(self) -> None:
        """PyTorch's refusal to hand NumPy a tensor that requires grad while grad mode is on:
        the array would escape the graph (``numpy()``, ``np.asarray(t)``, matplotlib)."""
        if self.requires_grad and _grad_mode._state.enabled:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)``: the data, shared on the CPU, refused where ``numpy()`` refuses."""
        self._refuse_numpy_of_graph()
        if self.device.type != "cpu":
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() first."
            )
        array = self._data if dtype is None else self._data.astype(dtype, copy=False)
        return array.copy() if copy else array

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """Export this tensor's memory through DLPack (``torch.from_dlpack(t)``, ``np.from_dlpack``)."""
        if self.requires_grad:
            raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")
        if self.dtype is dtypes.bfloat16:
            raise BufferError(
                "bfloat16 tensors cannot be exported through DLPack (NumPy's DLPack has no "
                "bfloat16): export t.float(), or share the bits with PyTorch as "
                "torch.from_numpy(t.numpy().view(numpy.int16)).view(torch.bfloat16)"
            )
        kwargs = {
            "stream": stream,
            "max_version": max_version,
            "dl_device": dl_device,
            "copy": copy,
        }
        export = getattr(self._data, "__dlpack__", None)
        if export is None:
            raise BufferError(f"tensors on {self.device} cannot be exported through DLPack")
        return export(**{k: v for k, v in kwargs.items() if v is not None})

    def __dlpack_device__(self) -> tuple:
        """``(device type, index)`` in DLPack's numbering: ``(1, 0)`` CPU, ``(2, i)`` CUDA."""
        device = getattr(self._data, "__dlpack_device__", None)
        if device is None:
            raise BufferError(f"tensors on {self.device} cannot be exported through DLPack")
        return device()

    __hash__ = object.__hash__

    def __reduce_ex__(self, protocol):
        """Pickling (``multiprocessing`` queues, ``copy`` of objects holding tensors), as
        PyTorch pickles: the values (through the host), dtype, device, ``requires_grad`` and
        a subclass's attributes; not ``.grad`` or the graph (a non-leaf arrives as a leaf).
        Files go through :func:`minigrad.save`, which never pickles. A tensor in shared memory
        is refused: the receiver would get a copy, not the shared storage."""
        if self.device.type == "cpu" and self.is_shared():  # (a GPU tensor counts as shared)
            raise TypeError(
                "a tensor in shared memory (share_memory_) cannot be pickled: the receiving "
                "process would get a copy, not the shared storage; start processes with fork"
            )
        host = backend.to_device(self._data, self.device, backend.CPU)
        state = dict(self.__dict__)  # users' and subclasses' attributes (Buffer.persistent)
        return _unpickle, (type(self), host, str(self.device), self.requires_grad, state)

    def __copy__(self) -> Tensor:
        """``copy.copy``: a new leaf over the same data (as PyTorch's: changes show in both)."""
        attributes = self.__dict__
        out = _new_leaf(type(self), self._data, self.device, self.requires_grad, attributes)
        out._version_counter = graph.version_counter(self)
        return out

    def _copied_data(self):
        """A copy of the array laid out as this tensor's (channels-last or transposed, as
        ``clone()``); records (sparse, nested, quantized) copy themselves."""
        if type(self._data).__name__ != "ndarray":
            return self._data.copy()
        return _result_layout.dense_copy(self.device.xp, self._data)

    def __deepcopy__(self, memo) -> Tensor:
        """A leaf copy with its own data (and grad), as ``copy.deepcopy`` gives in PyTorch."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment. Use .detach().clone() for a copy of a computed tensor."
            )
        out = type(self)._make(self._copied_data(), self.device, self._requires_grad)
        memo[id(self)] = out
        if self.grad is not None:
            out.grad = self.grad.__deepcopy__(memo)
        if self.__dict__:  # users' attributes, deep-copied as PyTorch does
            out.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return out

    # -- operators ------------------------------------------------------------------------------
    __add__ = _ops.add
    __sub__ = _ops.sub
    __mul__ = _ops.mul
    __truediv__ = _ops.div
    __floordiv__ = _ops.floor_divide
    __mod__ = _ops.remainder
    __pow__ = _ops.pow
    __matmul__ = _ops.matmul
    __neg__ = _ops.neg
    __abs__ = _ops.abs
    __getitem__ = _ops.getitem

    def __radd__(self, other):  # self.add(other), as PyTorch: the graph's edges in that order
        return _ops.add(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __rmul__(self, other):  # self.mul(other), as PyTorch
        return _ops.mul(self, other)

    def __rtruediv__(self, other):
        # PyTorch computes ``number / tensor`` as ``tensor.reciprocal() * number``: two roundings
        return _ops.mul(self.reciprocal(), other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __rmod__(self, other):
        return _ops.remainder(other, self)

    def __rpow__(self, other):
        return _ops.pow(other, self)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __pos__(self):
        return self

    def __eq__(self, other):
        return _ops.compare("equal", self, other)

    def __ne__(self, other):
        return _ops.compare("not_equal", self, other)

    def __lt__(self, other):
        return _ops.compare("less", self, other)

    def __le__(self, other):
        return _ops.compare("less_equal", self, other)

    def __gt__(self, other):
        return _ops.compare("greater", self, other)

    def __ge__(self, other):
        return _ops.compare("greater_equal", self, other)

    def __and__(self, other):
        return _ops.bitwise_and(self, other)

    def __or__(self, other):
        return _ops.bitwise_or(self, other)

    def __xor__(self, other):
        return _ops.bitwise_xor(self, other)

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __lshift__(self, other):
        return _ops.bitwise_left_shift(self, other)

    def __rshift__(self, other):
        return _ops.bitwise_right_shift(self, other)

    def __rlshift__(self, other):
        return _ops.bitwise_left_shift(other, self)

    def __rrshift__(self, other):
        return _ops.bitwise_right_shift(other, self)

    def __contains__(self, element) -> bool:
        """``element in t``: some entry of ``t`` equals ``element`` (a number or a tensor that
        broadcasts against ``t``), as PyTorch."""
        if not isinstance(element, (Tensor, int, float, complex)):
            raise RuntimeError(
                f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a "
                f"{type(element)}."
            )
        return bool((self == element).any())

    def __invert__(self):
        if self.dtype.is_floating_point or self.dtype.is_complex:
            raise TypeError(
                "~ (operator.invert) is only implemented on integer and Boolean-type tensors"
            )
        return _ops.compare("invert", self)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    logical_not = _ops.logical_not

    def logical_and(self, other):
        return _ops.compare("logical_and", self, other)

    def logical_or(self, other):
        return _ops.compare("logical_or", self, other)

    def logical_xor(self, other):
        return _ops.compare("logical_xor", self, other)

    def equal(self, other) -> bool:
        """True if both have the same shape and values (a Python bool, as torch.equal)."""
        return self.shape == other.shape and bool((self == other).all())

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
        xp = self.device.xp
        if self.shape != other.shape:  # PyTorch's broadcast error, not NumPy's ValueError
            _ops.movement._broadcast_pair(tuple(self.shape), tuple(other.shape))
        return bool(xp.allclose(self._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))

    # -- math (each a one-line delegation to minigrad.ops) ---------------------------------------
    add, sub, mul, div, pow = _ops.add, _ops.sub, _ops.mul, _ops.div, _ops.pow
    subtract, multiply, divide, true_divide = _ops.subtract, mul, div, div
    floor_divide, remainder = _ops.floor_divide, _ops.remainder
    neg, negative, abs, absolute = _ops.neg, _ops.neg, _ops.abs, _ops.abs
    exp, log, log1p, expm1 = _ops.exp, _ops.log, _ops.log1p, _ops.expm1
    sqrt, rsqrt, square, reciprocal = _ops.sqrt, _ops.rsqrt, _ops.square, _ops.reciprocal
    sin, cos, tan, tanh, sigmoid, erf = (
        _ops.sin,
        _ops.cos,
        _ops.tan,
        _ops.tanh,
        _ops.sigmoid,
        _ops.erf,
    )
    relu, sign, round, floor, ceil, trunc = (
        _ops.relu,
        _ops.sign,
        _ops.round,
        _ops.floor,
        _ops.ceil,
        _ops.trunc,
    )
    clamp = clip = _ops.clamp
    maximum, minimum = _ops.maximum, _ops.minimum
    masked_fill = _ops.masked_fill
    isnan, isinf, isfinite = _ops.isnan, _ops.isinf, _ops.isfinite
    matmul, outer, ger = _ops.matmul, _ops.outer, _ops.outer

    softmax, log_softmax = _ops.softmax, _ops.log_softmax

    asin, acos, atan, atan2 = _ops.asin, _ops.acos, _ops.atan, _ops.atan2
    arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
    sinh, cosh, asinh, acosh, atanh = _ops.sinh, _ops.cosh, _ops.asinh, _ops.acosh, _ops.atanh
    arcsinh, arccosh, arctanh = asinh, acosh, atanh
    log2, log10, exp2, hypot, fmod = _ops.log2, _ops.log10, _ops.exp2, _ops.hypot, _ops.fmod
    logaddexp, logaddexp2, xlogy = _ops.logaddexp, _ops.logaddexp2, _ops.xlogy
    addcmul, addcdiv, logit, frac = _ops.addcmul, _ops.addcdiv, _ops.logit, _ops.frac
    deg2rad, rad2deg, float_power = _ops.deg2rad, _ops.rad2deg, _ops.float_power
    copysign, fmax, fmin, signbit = _ops.copysign, _ops.fmax, _ops.fmin, _ops.signbit
    positive, heaviside = _ops.positive, _ops.heaviside

    def where(self, condition, other):  # Tensor.where(cond, other) is where(cond, self, other)
        return _ops.where(condition, self, other)

    def mm(self, mat2):
        _expect_dims(self, 2, "mm", "self"), _expect_dims(mat2, 2, "mm", "mat2")
        return _ops.matmul(self, mat2)

    def bmm(self, mat2):
        _expect_dims(self, 3, "bmm", "batch1"), _expect_dims(mat2, 3, "bmm", "batch2")
        return named_as(_ops.matmul(self, mat2), "BmmBackward0")

    @autocast_op("dot")  # (in its inputs' dtype under autocast, as PyTorch's)
    def dot(self, other):
        _expect_dims(self, 1, "dot", "self"), _expect_dims(other, 1, "dot", "tensor")
        return _ops.matmul(self, other)

    @autocast_op("mv")
    def mv(self, vec):
        _expect_dims(self, 2, "mv", "self"), _expect_dims(vec, 1, "mv", "vec")
        return _ops.matmul(self, vec)

    # -- reductions -----------------------------------------------------------------------------
    sum, mean, prod, var, std = _ops.sum, _ops.mean, _ops.prod, _ops.var, _ops.std
    max, min, amax, amin = _ops.max, _ops.min, _ops.amax, _ops.amin
    argmax, argmin, logsumexp, norm = _ops.argmax, _ops.argmin, _ops.logsumexp, _ops.norm
    cumsum, all, any, sum_to_size = _ops.cumsum, _ops.all, _ops.any, _ops.sum_to_size
    sort, argsort, topk, nonzero = _ops.sort, _ops.argsort, _ops.topk, _ops.nonzero
    median, nanmedian, kthvalue = _ops.median, _ops.nanmedian, _ops.kthvalue
    quantile, nanquantile, histc = _ops.quantile, _ops.nanquantile, _ops.histc
    nansum, nanmean, aminmax = _ops.nansum, _ops.nanmean, _ops.aminmax
    count_nonzero, argwhere = _ops.count_nonzero, _ops.argwhere

    # -- shape and indexing ---------------------------------------------------------------------
    reshape, view, permute, expand = _ops.reshape, _ops.view, _ops.permute, _ops.expand
    transpose, swapaxes, movedim = _ops.transpose, _ops.swapaxes, _ops.movedim
    squeeze, unsqueeze, flatten, unflatten = (
        _ops.squeeze,
        _ops.unsqueeze,
        _ops.flatten,
        _ops.unflatten,
    )
    broadcast_to, chunk, unbind = _ops.broadcast_to, _ops.chunk, _ops.unbind

    def split(self, split_size, dim=0):
        """:func:`minigrad.split` (the method names its sizes ``split_size``, as PyTorch's)."""
        return _ops.split(self, split_size, dim)

    flip, repeat, tril, triu = _ops.flip, _ops.repeat, _ops.tril, _ops.triu
    gather, scatter_add, index_select = _ops.gather, _ops.scatter_add, _ops.index_select
    clone, contiguous, narrow = _ops.clone, _ops.contiguous, _ops.narrow
    take, take_along_dim, masked_select = _ops.take, _ops.take_along_dim, _ops.masked_select
    repeat_interleave, unfold = _ops.repeat_interleave, _ops.unfold
    tensor_split = _ops.tensor_split

    def tile(self, *dims, **kwargs):
        """:func:`minigrad.tile`; the method also takes the sizes as ints, ``x.tile(2, 2)``,
        as PyTorch's."""
        return _ops.tile(self, *_one_or_tuple(dims), **kwargs)

    def hsplit(self, *indices, **kwargs):
        """:func:`minigrad.hsplit`; the method also takes the indices as ints,
        ``x.hsplit(1, 2)``, as PyTorch's."""
        return _ops.hsplit(self, *_one_or_tuple(indices), **kwargs)

    def vsplit(self, *indices, **kwargs):
        """:func:`minigrad.vsplit`, also with the indices as ints (``x.vsplit(1, 2)``)."""
        return _ops.vsplit(self, *_one_or_tuple(indices), **kwargs)

    def dsplit(self, *indices, **kwargs):
        """:func:`minigrad.dsplit`, also with the indices as ints (``x.dsplit(1, 2)``)."""
        return _ops.dsplit(self, *_one_or_tuple(indices), **kwargs)

    kron, cross, rot90, swapdims = _ops.kron, _ops.cross, _ops.rot90, _ops.transpose

    def ravel(self):
        """The entries as a 1-D tensor (a view when the layout allows): ``contiguous().view(-1)``,
        as PyTorch's (a copy then a view, ViewBackward0, where reshape records UnsafeView)."""
        return self.contiguous().view(-1)

    roll, diff, unique, bincount = _ops.roll, _ops.diff, _ops.unique, _ops.bincount
    cumprod, cummax, cummin = _ops.cumprod, _ops.cummax, _ops.cummin
    scatter, scatter_reduce, masked_scatter = _ops.scatter, _ops.scatter_reduce, _ops.masked_scatter
    index_add, index_copy, index_fill = _ops.index_add, _ops.index_copy, _ops.index_fill
    diag, diagonal, diag_embed, trace = _ops.diag, _ops.diagonal, _ops.diag_embed, _ops.trace
    addmm, baddbmm, addbmm, lerp = _ops.addmm, _ops.baddbmm, _ops.addbmm, _ops.lerp
    nan_to_num, isclose = _ops.nan_to_num, _ops.isclose

    def det(self):
        from . import linalg  # the public linear-algebra layer sits above the Tensor

        return linalg.det(self)

    def inverse(self):
        from . import linalg

        return linalg.inv(self)

    def slogdet(self):
        from . import linalg, return_types

        return return_types.slogdet(*linalg.slogdet(self))

    def logdet(self):
        from . import linalg

        sign, logabsdet = linalg.slogdet(self)
        return _ops.where(sign < 0, float("nan"), _ops.where(sign == 0, float("-inf"), logabsdet))

    def view_as(self, other):
        return _ops.view(self, other.shape)

    def reshape_as(self, other):
        return _ops.reshape(self, other.shape)

    def expand_as(self, other):
        return _ops.expand(self, other.shape)

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D"
            )
        out = _ops.permute(self, tuple(range(self.ndim))[::-1])  # (a 0-d or 1-d one: itself)
        return named_as(out, "TBackward0")

    T = property(_meta.T)

    @property
    def mT(self):  # noqa: N802
        if self.ndim == 0:  # the identity, deprecated (as PyTorch)
            return _meta.deprecated_identity(self, "Tensor.mT")
        if self.ndim < 2:
            raise RuntimeError(
                f"tensor.mT is only supported on matrices or batches of matrices. Got {self.ndim}-D tensor."
            )
        return _ops.transpose(self, -2, -1)

    # -- branch methods: methods PyTorch programs use (functions in ops, answers in _tensor_meta)
    bitwise_and, bitwise_or, bitwise_xor = _ops.bitwise_and, _ops.bitwise_or, _ops.bitwise_xor
    bitwise_not, gcd, lcm, ldexp = _ops.bitwise_not, _ops.gcd, _ops.lcm, _ops.ldexp
    bitwise_left_shift, bitwise_right_shift = _ops.bitwise_left_shift, _ops.bitwise_right_shift
    frexp, nextafter, sgn, fix = _ops.frexp, _ops.nextafter, _ops.sgn, _ops.fix
    isposinf, isneginf, isreal = _ops.isposinf, _ops.isneginf, _ops.isreal
    clamp_min, clamp_max = _ops.clamp_min, _ops.clamp_max
    greater, less, greater_equal, less_equal, not_equal = __gt__, __lt__, __ge__, __le__, __ne__
    subtract, multiply, divide, true_divide = _ops.subtract, _ops.mul, _ops.div, _ops.div
    fliplr, flipud, moveaxis, msort = _ops.fliplr, _ops.flipud, _ops.moveaxis, _ops.msort
    narrow_copy, split_with_sizes, select = _ops.narrow_copy, _ops.split_with_sizes, _ops.select
    select_scatter, slice_scatter = _ops.select_scatter, _ops.slice_scatter
    diagonal_scatter, diagflat = _ops.diagonal_scatter, _ops.diagflat
    index_put, put, index_reduce = _ops.index_put, _ops.put, _ops.index_reduce
    addmv, addr, inner, vdot, dist = _ops.addmv, _ops.addr, _ops.inner, _ops.vdot, _ops.dist
    cov, corrcoef, renorm = _ops.cov, _ops.corrcoef, _ops.renorm
    logcumsumexp, mode = _ops.logcumsumexp, _ops.mode
    unique_consecutive = _ops.unique_consecutive
    matrix_power, matrix_exp, pinverse = _meta.matrix_power, _meta.matrix_exp, _meta.pinverse
    stft, istft = _meta.stft, _meta.istft
    bernoulli, multinomial = _meta.bernoulli, _meta.multinomial
    apply_, map_ = _meta.apply_, _meta.map_
    is_cpu, output_nr = property(_meta.is_cpu), property(_meta.output_nr)
    is_complex, is_signed, is_nonzero = _ops.is_complex, _meta.is_signed, _meta.is_nonzero
    is_same_size, is_inference, get_device = (
        _meta.is_same_size,
        _meta.is_inference,
        _meta.get_device,
    )
    ndimension, new = dim, _meta.new
    is_conj, is_neg = _ops.is_conj, _ops.is_neg
    grad_dtype = property(_meta.get_grad_dtype, _meta.set_grad_dtype)
    hash_tensor = _hash_tensor
    is_mkldnn = property(_meta.false)
    is_nested = property(_is_nested)
    is_sparse_csr = property(_is_csr)
    is_sparse = property(_sparse_coo.is_sparse)
    is_quantized = property(_qt.is_quantized)  # quantized tensors (branch quant)
    int_repr, q_scale, q_zero_point, qscheme = (
        _qt.int_repr, _qt.q_scale, _qt.q_zero_point, _qt.qscheme_of
    )  # fmt: skip
    q_per_channel_scales, q_per_channel_zero_points, q_per_channel_axis, dequantize = (
        _qt.q_per_channel_scales, _qt.q_per_channel_zero_points,
        _qt.q_per_channel_axis, _qt.dequantize,
    )  # fmt: skip
    conj, conj_physical, resolve_conj = _ops.conj, _ops.conj_physical, _ops.resolve_conj
    resolve_neg, _conj = _ops.resolve_neg, _ops.conj
    real, imag = property(_ops.real, _ops.set_real), property(_ops.imag, _ops.set_imag)
    H, mH = property(_meta.H), property(_meta.mH)  # noqa: N815 - PyTorch's names
    adjoint = _meta.adjoint
    qr, svd, cholesky, angle, dim_order = (
        _meta.qr,
        _meta.svd,
        _meta.cholesky,
        _meta.angle,
        _meta.dim_order,
    )
    unsafe_chunk, unsafe_split = _ops.chunk, split
    unsafe_split_with_sizes = _ops.split_with_sizes
    cholesky_solve, cholesky_inverse = _meta.cholesky_solve, _meta.cholesky_inverse
    triangular_solve, histogram = _meta.triangular_solve, _meta.histogram
    storage_offset, nonzero_static = _meta.storage_offset, _meta.nonzero_static
    resize_, resize_as_ = _meta.resize_, _meta.resize_as_
    is_xpu = is_mps = is_ipu = is_xla = is_vulkan = is_mtia = is_maia = property(_meta.false)
    is_distributed = _meta.false
    # -- branch linalg2: LU, Householder QR, and the methods PyTorch 1.9 removed (they raise)
    lu, lu_solve, geqrf, orgqr, ormqr = (
        _linalg.lu,
        _linalg.lu_solve,
        _linalg.geqrf,
        _linalg.orgqr,
        _linalg.ormqr,
    )
    lstsq, solve, eig, symeig = _linalg.lstsq, _linalg.solve, _linalg.eig, _linalg.symeig


def _check_assigned_grad(t: Tensor, grad) -> None:
    """``t.grad = grad`` is refused for a non-tensor, or another device, dtype or shape (with
    PyTorch's messages): backward would otherwise broadcast into, or cast, a wrong buffer."""
    if not isinstance(grad, Tensor):
        raise TypeError(
            f"assigned grad expected to be a Tensor or None but got grad of type "
            f"{type(grad).__name__}"
        )
    if grad.device != t.device:
        raise RuntimeError(
            f"attempting to assign a gradient with device type '{grad.device}' to a tensor with "
            f"device type '{t.device}'. Please ensure that the gradient and the tensor are on the "
            f"same device"
        )
    if graph.GRAD_DTYPES and id(t) in graph.GRAD_DTYPES:  # (set by grad_dtype's setter)
        _meta.check_grad_dtype(t, grad)
    elif grad._data.dtype != t._data.dtype:
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{grad.dtype.name}' to a tensor with "
            f"dtype '{t.dtype.name}'. The gradient must match the tensor's dtype"
        )
    if grad._data.shape != t._data.shape:
        raise RuntimeError(
            f"attempting to assign a gradient of size '{list(grad.shape)}' to a tensor of size "
            f"'{list(t.shape)}'. Please ensure that the gradient and the tensor are the same size"
        )


def _expect_dims(t: Tensor, ndim: int, op: str, name: str) -> None:
    if t.ndim != ndim:
        raise backend.DimensionError(
            f"{op}: {name} must be a {ndim}D tensor, got {t.ndim}D of shape {list(t.shape)}"
        )


def _one_or_tuple(values: tuple) -> tuple:
    """A method's ``*values`` as the one positional argument of its function: the value
    itself, or the tuple of several (``x.tile(2, 2)`` is ``tile(x, (2, 2))``); none stays none
    (a keyword then)."""
    return values if len(values) <= 1 else (values,)


def parse_to_args(args: tuple, kwargs: dict):
    """The ``(device, dtype, copy)`` asked for by ``Tensor.to`` / ``Module.to`` arguments:
    a device, a dtype or a tensor (its device and dtype), as PyTorch accepts them."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if a is None:  # to(None), to(None, dtype): PyTorch's optional device and dtype
            continue
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, (str, backend.Device)) or type(a) is int:  # (0: the GPU cuda:0)
            device = a
        elif isinstance(a, (dtypes.dtype, type, np.dtype)):
            dtype = a
        elif not isinstance(a, bool):  # a bool by position is non_blocking: nothing to do
            raise TypeError(
                f"to() received an invalid argument {a!r}: expected a device, dtype or tensor"
            )
    if dtype is not None and not isinstance(dtype, (dtypes.dtype, type, np.dtype)):
        raise TypeError(  # (PyTorch's parser: a dtype name is not a dtype)
            f"to() received an invalid combination of arguments - got (dtype={type(dtype).__name__}"
            f", ), but expected a minigrad.dtype as 'dtype' (e.g. minigrad.float32)"
        )
    if _indexed_cpu(device):  # PyTorch's "cpu:0" is not the tensor's "cpu": it copies
        copy = True
    device = backend.device(device) if device is not None else None
    dtype = dtypes.to_dtype(dtype) if dtype is not None else None
    return device, dtype, copy


def _indexed_cpu(device) -> bool:
    """Whether ``device`` names the CPU with an index (``"cpu:0"``, ``device("cpu", 0)``): a
    device unequal to a CPU tensor's ``cpu``, so ``to`` copies there as PyTorch does."""
    if isinstance(device, str):
        return device.startswith("cpu:")
    return isinstance(device, backend.Device) and device.type == "cpu" and device.index is not None


def _inplace_of(function):
    """``t.<name>_(...)``: ``t`` replaced by ``function(t, ...)``, as PyTorch's in-place twins."""

    def method(self, *args, **kwargs):
        return self._inplace(lambda s: function(s, *args, **kwargs), *args, *kwargs.values())

    method.__name__ = method.__qualname__ = f"{function.__name__}_"
    method.__doc__ = f"In-place :func:`minigrad.{function.__name__}`."
    return method


for _fn in (
    _ops.scatter, _ops.scatter_add, _ops.scatter_reduce, _ops.index_add, _ops.index_copy,
    _ops.masked_scatter, _ops.addmm, _ops.baddbmm, _ops.addbmm, _ops.nan_to_num,
    _ops.cumsum, _ops.cumprod,
):  # fmt: skip
    # (autocast leaves in-place ops alone, as PyTorch's: no casts, in the tensor's dtype)
    setattr(Tensor, f"{_fn.__name__}_", autocast_op(f"{_fn.__name__}_")(_inplace_of(_fn)))


class ToDevice(_ops.Op):
    """y = x copied to another device; dx = dy copied back"""

    backward_name = "ToCopyBackward0"
    supports_complex = True

    def __init__(self, target: backend.Device):
        self.target = target

    def forward(self, x):
        out = backend.to_device(x, self.device, self.target)
        return x.copy(order="K") if out is x else out  # to(copy=True) / to("cpu:0"): a copy

    def __call__(self, x):
        out = super().__call__(x)
        out.device = self.target
        return out

    def backward(self, gy):
        return gy.to(self.input_meta[0][2])


# -- branch special: Tensor.lgamma, .polygamma(n), .mvlgamma(p), ... and their in-place forms
for _fn in (_ops.lgamma, _ops.digamma, _ops.erfinv, _ops.erfc, _ops.i0, _ops.sinc):
    setattr(Tensor, _fn.__name__, _fn)
    setattr(Tensor, f"{_fn.__name__}_", _inplace_of(_fn))
Tensor.mvlgamma, Tensor.mvlgamma_ = _ops.mvlgamma, _inplace_of(_ops.mvlgamma)


def _polygamma(self, n):
    """:func:`minigrad.polygamma` ``(n, self)``, as ``torch.Tensor.polygamma``."""
    return _ops.polygamma(n, self)


def _polygamma_(self, n):
    """In-place :func:`minigrad.polygamma` ``(n, self)``."""
    return self._inplace(lambda s: _ops.polygamma(n, s))


Tensor.polygamma, Tensor.polygamma_ = _polygamma, _polygamma_


# -- branch special2: Tensor.igamma/igammac (and in place), hardshrink, prelu
def _hardshrink(self, lambd=0.5):
    """:func:`minigrad.nn.functional.hardshrink` of this tensor."""
    from .nn.functional import hardshrink  # the layer above: imported on use

    return hardshrink(self, lambd)


def _prelu(self, weight):
    """:func:`minigrad.nn.functional.prelu` of this tensor."""
    from .nn.functional import prelu

    return prelu(self, weight)


def igamma(self, other):
    """:func:`minigrad.igamma` ``(self, other)``: the regularized lower incomplete gamma."""
    from .ops.special_poly import gammainc

    return gammainc(self, other)


def igammac(self, other):
    """:func:`minigrad.igammac` ``(self, other)``: the regularized upper incomplete gamma."""
    from .ops.special_poly import gammaincc

    return gammaincc(self, other)


Tensor.igamma, Tensor.igammac = igamma, igammac
Tensor.igamma_, Tensor.igammac_ = _inplace_of(igamma), _inplace_of(igammac)
Tensor.hardshrink, Tensor.prelu = _hardshrink, _prelu


graph.register_tensor_class(Tensor)


def _switch_inference_marking(active: bool) -> None:
    """Installed in grad_mode: tensors are checked for inference mode at construction only
    while some ``inference_mode`` block is open (see ``Tensor._init_marking``)."""
    Tensor._init = Tensor._init_marking if active else Tensor._init_ordinary
    Tensor._make = vars(Tensor)["_make_marking" if active else "_make_ordinary"]


_grad_mode.switch = _switch_inference_marking


def _unpickle(cls, host, device: str, requires_grad: bool, state: dict):
    """A tensor of class ``cls`` rebuilt from a pickle (see ``Tensor.__reduce_ex__``)."""
    dev = backend.device(device)
    return _new_leaf(cls, backend.to_device(host, backend.CPU, dev), dev, requires_grad, state)


def _new_leaf(cls, data, device, requires_grad: bool, attributes):
    """A leaf of class ``cls`` over ``data``, with a subclass's own ``attributes`` (a dict, or
    None: ``Buffer.persistent``, a user's tags)."""
    out = _new(cls)
    out._init(data, device, False, None)
    if attributes:
        out.__dict__.update(attributes)
    out.requires_grad = requires_grad
    return out
