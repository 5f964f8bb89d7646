"""What each operation means on a MaskedTensor: elementwise ops keep the mask, shape ops move
it with the data, reductions reduce the kept elements; the methods, operators and the
``__torch_function__`` table of :class:`MaskedTensor` are built here from those rules."""

from __future__ import annotations

import builtins

from ..._unsupported import UnsupportedAttributeError
from .. import _ops
from .core import MaskedTensor, is_masked_tensor

# Elementwise functions of one tensor (extra arguments are plain values).
UNARY = (
    "abs absolute acos arccos acosh arccosh angle asin arcsin asinh arcsinh atan arctan atanh "
    "arctanh bitwise_not ceil clamp clip conj cos cosh deg2rad digamma erf erfc erfinv exp exp2 "
    "expm1 fix floor frac i0 isfinite isinf isnan isneginf isposinf isreal lgamma log log10 "
    "log1p log2 logical_not logit nan_to_num neg negative positive rad2deg reciprocal relu "
    "round rsqrt sigmoid sign sgn signbit sin sinc sinh sqrt square tan tanh trunc "
    "gelu silu elu selu celu leaky_relu softplus softsign hardtanh hardsigmoid hardswish mish "
    "relu6 logsigmoid tanhshrink softshrink hardshrink"
).split()
# Elementwise functions of two tensors (or a tensor and a number).
BINARY = (
    "add sub subtract mul multiply div divide true_divide floor_divide remainder fmod pow "
    "float_power atan2 arctan2 maximum minimum fmax fmin hypot copysign nextafter xlogy "
    "logaddexp logaddexp2 eq ne lt le gt ge greater greater_equal less less_equal not_equal "
    "logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor"
).split()
# Shape and copy methods: the same call moves the data and the mask.
SHAPE = (
    "reshape view flatten unflatten squeeze unsqueeze transpose swapaxes swapdims permute t "
    "expand flip roll movedim moveaxis narrow select repeat tile contiguous clone "
    "diagonal cpu cuda"
).split()
CASTS = "float double half bfloat16 int long short bool".split()
REDUCTIONS = "sum mean amax amin argmax argmin prod norm var std logsumexp all any".split()
NORMALIZATIONS = "softmax log_softmax softmin".split()


def _mg():
    import minigrad

    return minigrad


def _masks_match(a: MaskedTensor, b: MaskedTensor) -> None:
    if a.get_mask() is b.get_mask():
        return  # the same mask object: no comparison (and no device sync) needed
    if a.shape != b.shape or not bool((a.get_mask() == b.get_mask()).all()):
        raise ValueError(
            "Input masks must match. If you need support for this, please open an issue on Github."
        )


def _data(x):
    return x.get_data() if is_masked_tensor(x) else x


def _with_mask(data, mask) -> MaskedTensor:
    """Wrap ``data``, broadcasting ``mask`` to its shape (a plain tensor operand may
    broadcast the result)."""
    if tuple(mask.shape) != tuple(data.shape):
        mask = mask.expand(data.shape).contiguous()
    return MaskedTensor._wrap(data, mask)


def elementwise(fn, *args, **kwargs) -> MaskedTensor:
    """Run ``fn`` on the data of the MaskedTensor arguments; their masks must be equal."""
    masked = [a for a in args if is_masked_tensor(a)]
    if masked[0].is_sparse or masked[0]._is_csr:
        return _sparse_elementwise(fn, masked[0], args, kwargs)
    for other in masked[1:]:
        _masks_match(masked[0], other)
    return _with_mask(fn(*[_data(a) for a in args], **kwargs), masked[0].get_mask())


def _sparse_elementwise(fn, first: MaskedTensor, args, kwargs) -> MaskedTensor:
    """``fn`` on the specified values of sparse MaskedTensors sharing one pattern (numbers as
    they are); the pattern and mask stay."""
    mg, csr = _mg(), first._is_csr
    layout = first.layout
    values = []
    for a in args:
        if is_masked_tensor(a):
            if (
                a.layout != layout
                or a.get_mask() is not first.get_mask()
                and a.shape != first.shape
            ):
                raise ValueError("Input masks must match (one sparse layout and pattern)")
            data = a.get_data() if csr else a.get_data().coalesce()
            values.append(data.values())
        elif isinstance(a, mg.Tensor) and a.ndim > 0:
            raise NotImplementedError(
                f"MaskedTensor: {getattr(fn, '__name__', fn)} of a sparse MaskedTensor with a "
                "dense tensor operand is not supported; use MaskedTensors of one pattern"
            )
        else:
            values.append(a)
    out = fn(*values, **kwargs)
    data = first.get_data() if csr else first.get_data().coalesce()
    if csr:
        rebuilt = mg.sparse_csr_tensor(data.crow_indices(), data.col_indices(), out, data.shape)
    else:
        rebuilt = mg.sparse_coo_tensor(data.indices(), out, tuple(data.shape))
    return MaskedTensor._wrap(rebuilt, first.get_mask())


def _output_mask(mask, dim, keepdim: bool, op: str):
    dims = _ops._canonical_dim(dim, mask.ndim, op)
    return _ops._reduced_any(mask, dims, keepdim) if dims else mask.clone()


def reduce(name: str, self: MaskedTensor, *args, **kwargs) -> MaskedTensor:
    """A reduction of the kept elements; outputs with no kept element are masked out."""
    if self.is_sparse or self._is_csr:  # the kept elements of its strided form
        self = self.to_dense()
    data, mask = self.get_data(), self.get_mask()
    params = _bind_reduction(name, args, kwargs)
    dim, keepdim = params.pop("dim"), params.pop("keepdim")
    if name in ("all", "any"):
        fill = name == "all"
        filled = _mg().where(mask, data.bool(), fill)
        full = filled.all() if fill else filled.any()
        if dim is None:
            result = full.reshape((1,) * data.ndim) if keepdim else full
        else:
            result = getattr(filled, name)(dim, keepdim=keepdim)
    else:
        if name in ("argmax", "argmin") and dim is None:
            keepdim = False
        result = getattr(_ops, name)(data, dim=dim, keepdim=keepdim, mask=mask, **params)
    return MaskedTensor._wrap(result, _output_mask(mask, dim, keepdim, name))


def _bind_reduction(name: str, args, kwargs) -> dict:
    """Tensor-method arguments of a reduction as the keywords of ``minigrad.masked``'s."""
    names = {"norm": ("ord", "dim", "keepdim"), "var": ("dim", "unbiased", "keepdim"),
             "std": ("dim", "unbiased", "keepdim")}.get(name, ("dim", "keepdim"))  # fmt: skip
    if len(args) > len(names):
        raise TypeError(f"MaskedTensor.{name}: too many positional arguments {args}")
    params = dict(zip(names, args))
    for key, value in kwargs.items():
        if key in params:
            raise TypeError(f"MaskedTensor.{name}: got multiple values for argument {key!r}")
        params["ord" if key == "p" else key] = value
    params.setdefault("dim", None)
    params["keepdim"] = bool(params.get("keepdim", False))
    if params["dim"] == () and name in ("amax", "amin"):
        params["dim"] = None
    if name == "norm" and params.get("ord") == "fro":
        params["ord"] = 2.0
    return params


def normalization(name: str, self: MaskedTensor, dim, dtype=None, **kwargs) -> MaskedTensor:
    """softmax-like ops: normalize the kept elements, keep the mask."""
    result = getattr(_ops, name)(self.get_data(), dim, dtype=dtype, mask=self.get_mask())
    return MaskedTensor._wrap(result, self.get_mask())


def _mask_or_true(x):
    """A MaskedTensor's mask; True (kept) for a plain tensor or number."""
    return x.get_mask() if is_masked_tensor(x) else True


def where(condition, input, other) -> MaskedTensor:
    """Elements of ``input`` where ``condition`` holds, else of ``other``; the mask is
    chosen the same way (a plain tensor or number counts as unmasked)."""
    mg = _mg()
    cond = _data(condition)
    data = mg.where(cond, _data(input), _data(other))
    mask = mg.where(cond, _mask_or_true(input), _mask_or_true(other))
    return _with_mask(data, mask)


def shape_op(name: str, self: MaskedTensor, *args, **kwargs):
    """The same shape (or copy) call on the data and on the mask."""
    data = getattr(self.get_data(), name)(*args, **kwargs)
    mask = getattr(self.get_mask(), name)(*args, **kwargs)
    if isinstance(data, tuple | list):
        return type(data)(MaskedTensor._wrap(d, m) for d, m in zip(data, mask))
    return MaskedTensor._wrap(data, mask)


def joining(fn, tensors, *args, **kwargs) -> MaskedTensor:
    """cat/stack: join the data and the masks alike."""
    if not builtins.all(is_masked_tensor(t) for t in tensors):
        raise TypeError(f"MaskedTensor: {fn.__name__} needs every tensor to be a MaskedTensor")
    data = fn([t.get_data() for t in tensors], *args, **kwargs)
    mask = fn([t.get_mask() for t in tensors], *args, **kwargs)
    return MaskedTensor._wrap(data, mask)


# -- the __torch_function__ table: public functions called with a MaskedTensor argument
_ALIASES = {
    "vector_norm": "norm", "concat": "cat", "concatenate": "cat",
    # Tensor's operators, as a plain tensor on the left hands them on (tensor > masked)
    "__eq__": "eq", "__ne__": "ne", "__lt__": "lt", "__le__": "le", "__gt__": "gt",
    "__ge__": "ge", "__and__": "bitwise_and", "__or__": "bitwise_or", "__xor__": "bitwise_xor",
}  # fmt: skip


def torch_function(func, args, kwargs):
    """Run ``func`` (a public minigrad function) on MaskedTensor arguments by its rule."""
    name = getattr(func, "__name__", "")
    name = _ALIASES.get(name, name)
    if name in UNARY or name in BINARY:
        return elementwise(func, *args, **kwargs)
    if name == "where":
        return where(*args, **kwargs)
    if name in ("cat", "stack"):
        return joining(func, *args, **kwargs)
    if name in NORMALIZATIONS:
        self, *rest = args
        dim = rest[0] if rest else kwargs.pop("dim", None)
        dtype = kwargs.pop("dtype", rest[2] if len(rest) > 2 else None)
        return normalization(name, self, dim, dtype)
    if name in REDUCTIONS or name in SHAPE or name in CASTS or name in ("to", "detach"):
        self, *rest = args
        if is_masked_tensor(self):
            return getattr(self, name)(*rest, **kwargs)
    module = getattr(func, "__module__", "minigrad") or "minigrad"
    raise NotImplementedError(
        f"MaskedTensor: {module}.{name} is not supported on masked tensors (supported: "
        "elementwise functions, reductions, softmax/log_softmax/softmin, where, cat, stack "
        "and shape functions)"
    )


# -- methods and operators of MaskedTensor
def _unary_method(name: str):
    def method(self, *args, **kwargs):
        if self.is_sparse or self._is_csr:
            tensor = _mg().Tensor
            return _sparse_elementwise(getattr(tensor, name), self, (self, *args), kwargs)
        return _with_mask(getattr(self.get_data(), name)(*args, **kwargs), self.get_mask())

    method.__name__ = name
    method.__doc__ = f"Elementwise ``{name}`` of the data; the mask is kept."
    return method


def _sparse(x) -> bool:
    return is_masked_tensor(x) and (x.is_sparse or x._is_csr)


def _binary_method(name: str):
    def method(self, other, *args, **kwargs):
        if _sparse(self) or _sparse(other):
            tensor = _mg().Tensor
            return _sparse_elementwise(getattr(tensor, name), self, (self, other, *args), kwargs)
        if is_masked_tensor(other):
            _masks_match(self, other)
        data = getattr(self.get_data(), name)(_data(other), *args, **kwargs)
        return _with_mask(data, self.get_mask())

    method.__name__ = name
    method.__doc__ = f"Elementwise ``{name}``; a MaskedTensor ``other`` must have this mask."
    return method


def _operator(fn, reflected: bool = False):
    def method(self, other):
        if _sparse(self) or _sparse(other):
            pair = (other, self) if reflected else (self, other)
            return _sparse_elementwise(fn, self, pair, {})
        if is_masked_tensor(other):
            _masks_match(self, other)
        a, b = self.get_data(), _data(other)
        return _with_mask(fn(b, a) if reflected else fn(a, b), self.get_mask())

    return method


def _inplace_method(name: str):
    def method(self, *args, **kwargs):
        other = args[0] if args else None
        if is_masked_tensor(other):
            _masks_match(self, other)
        getattr(self.get_data(), name)(*[_data(a) for a in args], **kwargs)
        return self

    method.__name__ = name
    method.__doc__ = f"In-place ``{name}`` of the data; the mask is kept."
    return method


def _reduction_method(name: str):
    def method(self, *args, **kwargs):
        return reduce(name, self, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = (
        f"``{name}`` of the kept elements (see ``minigrad.masked.{name}``); results that saw "
        "no kept element are masked out."
    )
    return method


def _normalization_method(name: str):
    def method(self, dim, dtype=None):
        return normalization(name, self, dim, dtype)

    method.__name__ = name
    method.__doc__ = f"``{name}`` of the kept elements along ``dim``; the mask is kept."
    return method


def _shape_method(name: str):
    def method(self, *args, **kwargs):
        return shape_op(name, self, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"``{name}`` of the data and of the mask alike."
    return method


def _cast_method(name: str):
    def method(self, *args, **kwargs):
        return MaskedTensor._wrap(getattr(self.get_data(), name)(*args, **kwargs), self.get_mask())

    method.__name__ = name
    method.__doc__ = f"The data converted by ``{name}``; the mask is kept."
    return method


def _to(self, *args, **kwargs) -> MaskedTensor:
    """The data converted (dtype, device); the mask moves with it."""
    data = self.get_data().to(*args, **kwargs)
    return MaskedTensor._wrap(data, self.get_mask().to(data.device))


def _detach(self) -> MaskedTensor:
    """The same elements and mask, cut from the graph."""
    return MaskedTensor._wrap(self.get_data().detach(), self.get_mask())


def _getitem(self, index) -> MaskedTensor:
    return MaskedTensor._wrap(self.get_data()[index], self.get_mask()[index])


def _iter(self):
    return (self[i] for i in range(len(self)))


def _getattr(self, name: str):
    if not name.startswith("_") and hasattr(_mg().Tensor, name):
        raise UnsupportedAttributeError(
            f"MaskedTensor.{name} is not implemented (minigrad.Tensor has it)"
        )
    raise AttributeError(f"'MaskedTensor' object has no attribute {name!r}")


_OPERATORS = {
    "add": "add", "sub": "sub", "mul": "mul", "truediv": "truediv", "floordiv": "floordiv",
    "mod": "mod", "pow": "pow", "and": "and_", "or": "or_", "xor": "xor",
}  # fmt: skip
_COMPARISONS = {"eq": "eq", "ne": "ne", "lt": "lt", "le": "le", "gt": "gt", "ge": "ge"}


def install() -> None:
    """Give MaskedTensor its methods and operators (only those minigrad.Tensor has)."""
    import operator

    tensor = _mg().Tensor
    cls = MaskedTensor
    for names, make in ((UNARY, _unary_method), (BINARY, _binary_method),
                        (SHAPE, _shape_method), (CASTS, _cast_method)):  # fmt: skip
        for name in names:
            if hasattr(tensor, name) and name not in cls.__dict__:
                setattr(cls, name, make(name))
    for name in REDUCTIONS:
        setattr(cls, name, _reduction_method(name))
    for name in NORMALIZATIONS:
        setattr(cls, name, _normalization_method(name))
    for name in ("add_", "sub_", "mul_", "div_", "pow_", "clamp_", "neg_", "exp_", "abs_"):
        if hasattr(tensor, name):
            setattr(cls, name, _inplace_method(name))
    for dunder, op in {**_OPERATORS, **_COMPARISONS}.items():
        setattr(cls, f"__{dunder}__", _operator(getattr(operator, op)))
    for dunder, op in _OPERATORS.items():
        setattr(cls, f"__r{dunder}__", _operator(getattr(operator, op), reflected=True))
    cls.__neg__ = _unary_method("neg")
    cls.__abs__ = _unary_method("abs")
    cls.__invert__ = _unary_method("__invert__")
    cls.__matmul__ = _no_matmul
    cls.to, cls.detach, cls.__getitem__, cls.__iter__ = _to, _detach, _getitem, _iter
    cls.T = property(lambda self: shape_op("permute", self, *reversed(range(self.ndim))))
    cls.mT = property(lambda self: shape_op("transpose", self, -2, -1))
    cls.__getattr__ = _getattr


def _no_matmul(self, other):
    raise NotImplementedError(
        "MaskedTensor: matmul is not supported (what a masked element means in a product of "
        "matrices is not defined; use to_tensor(0) first)"
    )
