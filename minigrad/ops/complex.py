"""Complex tensors: the ops that build and take apart complex numbers, and the rule their
gradients follow.

PyTorch's convention, which minigrad keeps: for a real loss ``L`` of a complex tensor
``z = x + iy`` the gradient is ``z.grad = ∂L/∂x + i·∂L/∂y``, so that ``z -= lr * z.grad`` is
gradient descent on both parts. Backward through ``w = f(z)`` then gives
``grad_z = conj(∂w/∂z)·grad_w + (∂w/∂z̄)·conj(grad_w)``:

- for a holomorphic ``f`` (products, exp, log, sin, ...) it is ``conj(f'(z))·grad_w``: the
  real formula with its derivative conjugated (:func:`holomorphic`, :func:`conjugates`);
- for ``conj`` it is ``conj(grad_w)``; for real-valued ``|z|``, ``angle``, ``real``, ``imag``
  it follows from the two partial derivatives (see each op);
- a real input that fed a complex computation gets the real part (the engine takes it).

Only ops that declare ``supports_complex`` accept complex tensors; the others raise
``NotImplementedError`` naming the op, so that nothing computes a silently wrong value
(NumPy would happily order complex numbers for ``max`` or ``relu``).

``x.real`` and ``x.imag`` are views that write through to ``x``, as PyTorch's (an in-place
change through one is recorded on ``x`` as replacing that part only); ``x.conj()`` is a lazy
conjugate view (:mod:`minigrad.ops.conj_view`).
"""

from __future__ import annotations

import builtins
import functools

from .. import dtypes
from ..autograd import graph
from .base import Op, autocast_op
from .conj_view import conj_physical, refuse_conj


def conjugates(*factors) -> tuple:
    """The conjugates of the factors a product's backward multiplies a complex gradient by
    (tensors, Python numbers or None). Callers test the gradient's dtype first, inline: a
    real gradient means a real product, whose factors are used as they are."""
    return tuple(_conjugate(f) for f in factors)


def _conjugate(x):
    if isinstance(x, graph.Tensor):
        return conj_physical(x)
    return x.conjugate() if isinstance(x, builtins.complex) else x


def holomorphic(op_cls):
    """Class decorator for an op whose function is holomorphic (exp, log, sin, x**y, ...) and
    whose backward multiplies the gradient by the derivative: for complex tensors the
    derivative must be conjugated, which is ``conj(backward(conj(grad)))`` for any backward
    linear in the gradient. Real tensors take the backward as written."""
    real_backward = op_cls.backward

    def backward(self, gy):
        if gy._data.dtype.kind != "c":
            return real_backward(self, gy)
        grads = real_backward(self, conj_physical(gy))
        if isinstance(grads, tuple):
            return tuple(None if g is None else conj_physical(g) for g in grads)
        return conj_physical(grads)

    backward.__doc__ = real_backward.__doc__
    op_cls.backward, op_cls.supports_complex = backward, True
    return op_cls


class Real(Op):
    """w = Re z, a view that writes through to z (as PyTorch's); grad_z = grad_w (a real
    gradient, as a complex number)"""

    supports_complex = True
    is_view = True
    selects_part = "real"  # an in-place write through the view replaces only this part

    def forward(self, z):
        return z.real

    def backward(self, gw):
        return gw  # the engine casts it to the input's complex dtype


class Imag(Op):
    """w = Im z, a view that writes through to z; grad_z = i·grad_w"""

    supports_complex = True
    is_view = True
    selects_part = "imag"

    def forward(self, z):
        return z.imag

    def backward(self, gw):
        return self.formula(_times_i, gw)


def _times_i(ns, g):
    return g * 1j


class Abs(Op):
    """w = |z| (real); grad_z = grad_w·z/|z| (0 at z = 0, as PyTorch)"""

    supports_complex = True
    save_inputs = True
    save_output = True

    def forward(self, z):
        return self.xp.abs(z)

    def backward(self, gw):
        z, w = self.saved
        return self.formula(_abs_vjp, gw, z, w)


def _abs_vjp(ns, g, z, w):
    return g * z / (w + (w == 0))  # z is 0 where w is: the quotient is 0 there


class Angle(Op):
    """w = atan2(Im z, Re z) (real); grad_z = grad_w·i·z/|z|² (0 at z = 0)"""

    supports_complex = True
    save_inputs = True

    def forward(self, z):
        return self.xp.angle(z)

    def backward(self, gw):
        (z,) = self.saved
        return self.formula(_angle_vjp, gw, z)


def _angle_vjp(ns, g, z):
    squared = (z * ns.conj(z)).real
    return g * 1j * z / (squared + (squared == 0))


class ViewAsReal(Op):
    """w = the parts of z on a last dim of 2, a view sharing z's memory (as PyTorch's: writes
    through it reach z); grad_z = grad_w[..., 0] + i·grad_w[..., 1]"""

    supports_complex = True
    is_view = True
    splits_complex = True  # (an in-place write through it: see movement.view_positions)

    def forward(self, z):
        re = z.real  # a view of the real parts; the imaginary part is one real item further
        shape, strides = z.shape + (2,), z.strides + (re.itemsize,)
        return self.xp.lib.stride_tricks.as_strided(re, shape=shape, strides=strides)

    def backward(self, gw):
        return self.formula(_view_as_real_vjp, gw)


class ViewAsComplex(Op):
    """w = x[..., 0] + i·x[..., 1], a view sharing x's memory (as PyTorch's); grad_x = the
    parts of grad_w on a last dim of 2"""

    supports_complex = True
    is_view = True
    joins_complex = True  # in-place writes through it under autograd are refused (not recorded)

    def forward(self, x):
        cdtype = self.xp.complex64 if x.dtype == self.xp.float32 else self.xp.complex128
        return x.view(cdtype)[..., 0]

    def backward(self, gw):
        return self.formula(_view_as_complex_vjp, gw)


def _view_as_complex_vjp(ns, g):
    return ns.stack([g.real, g.imag], -1)


def _view_as_real_vjp(ns, g):
    return g[..., 0] + g[..., 1] * 1j


class Complex(Op):
    """w = re + i·im; grad_re = Re grad_w, grad_im = Im grad_w"""

    supports_complex = True

    def forward(self, re, im):
        return re + im * 1j

    def backward(self, gw):
        need_re, need_im = self.needs_input_grad
        return self.formula(_parts, gw, need_re, need_im)


def _parts(ns, g, need_re, need_im):
    return (g.real if need_re else None), (g.imag if need_im else None)


class Polar(Op):
    """w = r·(cos θ + i·sin θ); grad_r = Re(grad_w·conj(w/r)), grad_θ = Re(grad_w·conj(i·w))"""

    supports_complex = True
    save_inputs = True
    save_output = True

    def forward(self, r, theta):
        return r * (self.xp.cos(theta) + self.xp.sin(theta) * 1j)

    def backward(self, gw):
        r, theta, w = self.saved
        return self.formula(_polar_vjp, gw, theta, w, *self.needs_input_grad)


def _polar_vjp(ns, g, theta, w, need_r, need_theta):
    gr = g.real * ns.cos(theta) + g.imag * ns.sin(theta) if need_r else None
    gt = (g * ns.conj(w * 1j)).real if need_theta else None
    return gr, gt


def refuse_complex(input, op: str) -> None:
    """Raise for a complex ``input`` to a function that orders values (sorting, arg-max, ...)
    and runs on arrays outside an :class:`Op`, as PyTorch refuses it."""
    if isinstance(input, graph.Tensor) and input._data.dtype.kind == "c":
        raise RuntimeError(
            f"{op}(): does not support complex input (complex numbers have no order)"
        )


def real_only(fn):
    """Decorate a function that PyTorch defines for real tensors only (losses, norms, distances,
    interpolation, ...) but that is built from ops which accept complex numbers: a complex
    tensor argument raises ``RuntimeError``, as in PyTorch, instead of giving whatever the
    composition computes."""
    return _refusing_complex(fn, RuntimeError, "not implemented for complex tensors")


def complex_not_implemented(fn):
    """Decorate a function that PyTorch defines for complex tensors but minigrad computes for
    real ones only (it would drop or mistreat the imaginary parts): ``NotImplementedError``."""
    return _refusing_complex(
        fn, NotImplementedError, "minigrad does not support complex tensors here yet"
    )


def _refusing_complex(fn, error, reason: str):
    @functools.wraps(fn)
    def run(*args, **kwargs):
        for a in args + tuple(kwargs.values()):
            if isinstance(a, graph.Tensor) and a._data.dtype.kind == "c":
                raise error(f"{fn.__name__}: {reason} (got {a.dtype})")
        return fn(*args, **kwargs)

    return run


# -- public functions -----------------------------------------------------------------------------


def is_complex(input) -> bool:
    """Whether ``input``'s dtype is complex (complex64 or complex128)."""
    return input._data.dtype.kind == "c"


def real(input):
    """The real part of a complex tensor, a view that writes through to it; a real tensor
    itself."""
    return Real()(input) if input._data.dtype.kind == "c" else input


def imag(input):
    """The imaginary part of a complex tensor, a view that writes through to it; refused for
    real tensors, as PyTorch."""
    if input._data.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Imag()(input)


def set_real(input, value) -> None:
    """``z.real = value``: ``value`` copied into the real part, in place, as PyTorch."""
    real(input).copy_(value)


def set_imag(input, value) -> None:
    """``z.imag = value``: ``value`` copied into the imaginary part, in place."""
    imag(input).copy_(value)


def complex_abs(input):
    """``|z|`` of a complex tensor, a real tensor of the matching precision."""
    return Abs()(input)


def complex_angle(input):
    """The argument of each complex number, in (-π, π]."""
    return Angle()(input)


def view_as_real(input):
    """The real and imaginary parts of a complex tensor on a new last dimension of size 2."""
    if not is_complex(input):
        raise RuntimeError(f"view_as_real is only supported for complex tensors, got {input.dtype}")
    refuse_conj(
        input,
        "view_as_real doesn't work on unresolved conjugated tensors.  To resolve the conjugate "
        "tensor so you can view it as real, use self.resolve_conj(); however, be warned that the "
        "resulting tensor will NOT alias the original.",
    )
    return ViewAsReal()(input)


@autocast_op("view_as_complex")
def view_as_complex(input):
    """A complex tensor viewing a float32/float64 tensor whose last dimension (size 2, stride
    1) holds the real and imaginary parts: it shares ``input``'s memory, as PyTorch's."""
    if input.dtype not in (dtypes.float32, dtypes.float64):
        if input.dtype is dtypes.float16:  # PyTorch's complex32 has no counterpart here
            raise NotImplementedError("view_as_complex of a float16 tensor (complex32)")
        raise RuntimeError(
            "view_as_complex is only supported for half, float and double tensors, but got a "
            f"tensor of scalar type: {dtypes.scalar_type_name(input.dtype)}"
        )
    if input.ndim == 0 or input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    try:
        strides, offset = input.stride(), input.storage_offset()
    except NotImplementedError:  # under vmap: the op's forward checks the batch's array
        strides, offset = (1,), 0
    if strides[-1] != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(st % 2 for st in strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if offset % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return ViewAsComplex()(input)


def complex(real, imag):
    """``real + i·imag`` from two float32 or two float64 tensors (broadcast)."""
    _check_parts(real, imag, "complex", ("real", "imag"))
    return Complex()(real, imag)


@autocast_op("polar")
def polar(abs, angle):
    """``abs·(cos(angle) + i·sin(angle))`` from two float32 or two float64 tensors."""
    _check_parts(abs, angle, "polar", ("abs", "angle"))
    return Polar()(abs, angle)


def _check_parts(a, b, op: str, names: tuple) -> None:
    for position, (x, name) in enumerate(zip((a, b), names), 1):
        if not isinstance(x, graph.Tensor):
            raise TypeError(
                f"{op}(): argument '{name}' (position {position}) must be Tensor, not "
                f"{type(x).__name__}"
            )
    if a.dtype is not b.dtype:
        raise RuntimeError(  # (PyTorch's words; ours name the op after them)
            f"Expected object of scalar type {dtypes.scalar_type_name(a.dtype)} but got scalar "
            f"type {dtypes.scalar_type_name(b.dtype)} for second argument (in {op}())"
        )
    if a.dtype not in (dtypes.float32, dtypes.float64):
        raise RuntimeError(
            f"{op}: expected both inputs to be float or double tensors but got {a.dtype} and "
            f"{b.dtype}"
        )
