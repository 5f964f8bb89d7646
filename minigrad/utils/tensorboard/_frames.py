"""What PyTorch's JIT tracer reads from the Python stack when it records an op, read from
minigrad's stack the same way: the function the model called (``F.batch_norm``, ``x.view``),
which becomes one ``aten::`` node however many ops minigrad runs inside it, and the names of
the variables that hold the op's inputs (the values' *debug names*: ``input.1``, ``h``).

PyTorch names a value, the first time an op uses it, by a local variable of the innermost
Python frame holding it (``self`` aside): the frame of ``F.relu`` (``input``), of a module's
``forward`` (``input``) or of the model's own code (``h``). minigrad's frames that PyTorch
also has in Python are the modules' ``forward`` methods, the public functions of
``nn.functional`` and the user's code; its other frames (ops, ``Tensor`` methods, private
helpers) are the C++ side of PyTorch and are not looked in.
"""

from __future__ import annotations

import inspect
import os
import sys

_PACKAGE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + os.sep
_MODULES = os.path.join(_PACKAGE, "nn", "modules") + os.sep
_FUNCTIONAL = os.path.join(_PACKAGE, "nn", "functional") + os.sep
_TRACING = (os.path.join(_PACKAGE, "utils", "_tracing.py"), os.path.dirname(__file__) + os.sep)
# Tensor dunders as the ATen ops they call (``x * 2`` is aten::mul)
_DUNDERS = {"truediv": "div", "floordiv": "floor_divide", "mod": "remainder", "pow": "pow",
            "getitem": "slice", "neg": "neg", "invert": "bitwise_not", "and": "logical_and",
            "or": "logical_or", "xor": "logical_xor", "lt": "lt", "le": "le", "gt": "gt",
            "ge": "ge", "eq": "eq", "ne": "ne"}  # fmt: skip


def op_frames() -> list:
    """The frames that applied the op being recorded, innermost first, up to the model's call
    (the tracer's own frames left out)."""
    frames, f = [], sys._getframe(1)
    while f is not None:
        name = f.f_code.co_filename
        if name.startswith(_TRACING[1]) or name == _TRACING[0]:
            if frames and f.f_code.co_name == "trace":
                break  # the model was called from here
        else:
            frames.append(f)
        f = f.f_back
    return frames


def _internal(f) -> bool:
    """A frame that PyTorch runs in C++: minigrad's own, less module forwards and the
    ``nn.functional`` functions that PyTorch writes in Python."""
    path = f.f_code.co_filename
    if not path.startswith(_PACKAGE) or path.startswith(_MODULES):
        return False
    return not (_exported(f) and f.f_code.co_name not in _BUILTIN_FUNCTIONAL)


# nn.functional functions that are C++ builtins in PyTorch (no Python frame to name from)
_BUILTIN_FUNCTIONAL = {"linear", "bilinear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                       "conv_transpose2d", "conv_transpose3d", "gelu", "softplus", "avg_pool1d",
                       "avg_pool2d", "avg_pool3d", "pad", "scaled_dot_product_attention",
                       "logsigmoid", "one_hot", "pixel_shuffle", "pixel_unshuffle",
                       "adaptive_avg_pool1d", "hardshrink", "tanhshrink", "softshrink"}  # fmt: skip
_EXPORTED: dict = {}  # code object -> whether it is a function of minigrad.nn.functional


def _exported(f) -> bool:
    """Whether ``f`` runs a function of ``minigrad.nn.functional`` itself (not a helper)."""
    code = f.f_code
    if code not in _EXPORTED:
        from ...nn import functional

        fn = getattr(functional, code.co_name, None)
        fn = inspect.unwrap(fn) if callable(fn) else None
        _EXPORTED[code] = getattr(fn, "__code__", None) is code
    return _EXPORTED[code]


def _public(f) -> bool:
    if f.f_code.co_filename.startswith(_FUNCTIONAL):
        return _exported(f)
    qualname = getattr(f.f_code, "co_qualname", f.f_code.co_name)
    return "<locals>" not in qualname and not f.f_code.co_name.startswith("_")


def entry(frames):
    """``(frame, aten name)`` of the library function the model's code called to apply the op
    (the outermost of minigrad's frames under the first of the model's; wrappers made by
    decorators skipped), or ``(None, None)``."""
    found = None
    for f in frames:
        if not (_internal(f) or f.f_code.co_filename.startswith(_FUNCTIONAL)):
            break
        name = f.f_code.co_name
        if name.startswith("__") and name.endswith("__"):
            name = _dunder(name)
            found = (f, name) if name else found
        elif _public(f):
            found = (f, name.rstrip("_"))  # (an in-place method as its op: add_ is add)
    return found or (None, None)


def _dunder(name: str) -> str | None:
    core = name.strip("_")
    if core[:1] in "ri" and core[1:] in _BINARY:  # reflected and in-place forms
        core = core[1:]
    return _DUNDERS.get(core, core) if core in _BINARY or core in _DUNDERS else None


_BINARY = {"add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow", "and", "or", "xor"}


def debug_name(tensor, frames) -> str | None:
    """The name PyTorch gives ``tensor``'s value: a local variable of the innermost frame it
    would look in that holds ``tensor`` itself (``self`` aside), or None."""
    for f in frames:
        if _internal(f):
            continue
        for name, value in f.f_locals.items():
            if value is tensor and name != "self":
                return name
        return None
    return None


# ATen's argument order where the Python function's differs (F.batch_norm takes the running
# statistics before the weight; aten::batch_norm after it)
_ATEN_ARGS = {"batch_norm": ("input", "weight", "bias", "running_mean", "running_var")}


def argument_positions(frame) -> dict:
    """id(tensor) -> its position among the arguments of the library call ``frame`` (in
    ATen's order), so that a node lists its inputs as PyTorch's does."""
    if frame is None:
        return {}
    code = frame.f_code
    names = _ATEN_ARGS.get(code.co_name, code.co_varnames[: code.co_argcount])
    local = frame.f_locals
    return {id(local[n]): i for i, n in enumerate(names) if local.get(n) is not None}


_UPSAMPLE = {"nearest": "upsample_nearest", "nearest-exact": "_upsample_nearest_exact",
             "linear": "upsample_linear", "bilinear": "upsample_bilinear",
             "bicubic": "upsample_bicubic", "trilinear": "upsample_trilinear"}  # fmt: skip


def aten_call(frame, name):
    """The ATen op PyTorch records for the library call ``name`` running in ``frame``, where
    its arguments pick it: ``interpolate`` by mode (``upsample_nearest2d``), the recurrent
    layers' shared loop by kind (``lstm``, ``gru``)."""
    local = frame.f_locals if frame is not None else {}
    if name == "interpolate" and local.get("mode") in _UPSAMPLE:
        spatial = getattr(local.get("input"), "ndim", 4) - 2
        aa = "_aa" if local.get("antialias") else ""
        return f"{_UPSAMPLE[local['mode']]}{spatial}d{aa}"
    if name == "run_stack_as_op" and isinstance(local.get("mode"), str):
        return local["mode"].lower()
    return name
