"""Edge-input sweep of the op table against PyTorch (the engine of tests/test_edges_torch.py).

Every row of ``minigrad/testing/op_db*.py`` with a PyTorch counterpart has its own samples
turned into edge variants, run in both frameworks and compared: integer and bool inputs where
the sample is float (``dtype``), mixed-dtype tensors, 0-d tensors and Python scalars
(``promote``), a zero-size dim (``empty``), 0-d inputs (``zerod``), transposed, strided and
expanded views with their gradients (``noncontig``), negative and out-of-range dims (``dims``),
in-place forms on integer, expanded and leaf tensors (``inplace``) and ``out=`` tensors of the
wrong dtype or shape (``out``). Either both frameworks raise (minigrad with an exception of
PyTorch's type), or both give the same shapes, dtypes and values (NaN positions too).

The test samples these cases; the full sweep (about a minute) runs as a script::

    python tests/edges_sweep.py                 # every case, a table of outcomes
    python tests/edges_sweep.py -v -c dtype     # one category, each mismatch printed
    python tests/edges_sweep.py -r cumsum -v    # the rows whose name contains "cumsum"
"""

from __future__ import annotations

import argparse
import collections
import math
import sys
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

import minigrad
from minigrad.testing import op_db_sparse_compressed
from minigrad.testing.op_db import OP_DB
from minigrad.testing.samples import C, T, V, make_arrays

INT_DTYPES = ("int64", "int32", "uint8", "int8", "bool")
# pairs of dtypes for two float arguments; ``@0d`` makes the second one a 0-d tensor
PROMOTE_PAIRS = (
    ("uint8", "int8"),
    ("bool", "bool"),
    ("float16", "float64@0d"),
    ("int64", "float32@0d"),
    ("int32", "int64@0d"),
    ("bool", "float32"),
)
LAYOUTS = ("transposed", "strided", "expanded")
CATEGORIES = ("dtype", "promote", "empty", "zerod", "noncontig", "dims", "inplace", "out")
# outcomes that are agreements: both compute the same, both raise (same exception type)
AGREE = ("same", "both_raise")
# (rows, categories) whose variants crash PyTorch 2.13 itself (a segmentation fault in
# to_dense of a compressed sparse tensor with empty or 0-d values): not run
TORCH_CRASHES = [({op.name for op in op_db_sparse_compressed.ROWS}, {"empty", "zerod"})]


@dataclass
class Arg:
    """One argument of a variant: a NumPy array turned into a tensor in ``dtype`` with
    ``layout`` (``None`` keeps the array's dtype), or a plain Python value."""

    value: object
    dtype: str | None = None
    layout: str = "contiguous"
    grad: bool = False
    wants_grad: bool = False

    def tensor(self, m):
        """The argument for module ``m`` (minigrad or torch)."""
        if not isinstance(self.value, np.ndarray):
            return self.value
        a = self.value if self.dtype is None else _cast(self.value, self.dtype)
        t = _build(m, a, self.layout)
        if self.grad:
            t.requires_grad_(True)
        return t


@dataclass
class Case:
    """One edge variant of one sample of one row."""

    op: object
    index: int
    category: str
    variant: str
    args: list
    kwargs: dict
    call: object = None  # fn(m, op, args, kwargs) when not the row's own function
    grads: bool = False  # compare the gradients of the inputs that require grad
    # the arguments of the reference run, when it is minigrad itself on contiguous copies (an
    # expanded view repeats values: ties and singular matrices, where PyTorch may legitimately
    # pick other maxima, singular vectors or subgradients)
    reference: list | None = None

    @property
    def id(self) -> str:
        return f"{self.op.name}-{self.index}-{self.category}-{self.variant}"

    def run(self, m):
        """(the result and the inputs, captured warnings) for module ``m``; raises as it does."""
        args = [a.tensor(m) for a in self.args]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if self.call is not None:
                result = self.call(m, self.op, args, self.kwargs)
            else:
                result = self.op.fn(m, *args, **self.kwargs)
        return result, args, [str(w.message) for w in caught]


def _cast(a: np.ndarray, dtype: str) -> np.ndarray:
    """``a`` as ``dtype``: small integers (halves doubled, rounded) for integer dtypes, the sign
    for bool; ``@0d`` takes the first element as a 0-d array."""
    dtype, _, zerod = dtype.partition("@")
    if zerod:
        a = a.reshape(-1)[:1].reshape(()) if a.size else np.zeros(())
    if a.dtype.kind != "f" or dtype.startswith("float"):
        return a.astype(dtype)
    ints = np.clip(np.round(a * 2), -8, 8)
    if dtype == "bool":
        return ints > 0
    if dtype.startswith("uint"):
        ints = np.abs(ints)
    return ints.astype(dtype)


def _build(m, a: np.ndarray, layout: str):
    """A tensor of module ``m`` with ``a``'s values (for ``expanded``: the first slice of ``a``
    repeated along dim 0) as a transposed, strided (every other element) or expanded view."""
    new = minigrad.tensor if m is minigrad else (lambda x: torch.from_numpy(x))
    if layout == "transposed":
        return new(np.ascontiguousarray(a.swapaxes(-1, -2))).transpose(-1, -2)
    if layout == "strided":
        return new(np.ascontiguousarray(np.repeat(a, 2, axis=-1)))[..., ::2]
    if layout == "expanded":
        return new(np.ascontiguousarray(a[:1])).expand(*a.shape)
    return new(np.array(a, order="C"))  # (ascontiguousarray would make 0-d arrays 1-d)


# -- deriving the variants -------------------------------------------------------------------


def _base(op, index):
    """The sample's arguments as :class:`Arg` (float64 floats) and which are float tensors."""
    specs = op.samples[index].args
    arrays = make_arrays(op, index)
    args, floats = [], []
    for i, (spec, a) in enumerate(zip(specs, arrays)):
        if isinstance(spec, C) and isinstance(a, np.ndarray):
            args.append(Arg(a.astype("complex128")))
        elif isinstance(spec, (T, V)):
            args.append(Arg(np.asarray(a, dtype="float64")))
            args[-1].wants_grad = op.grad and spec.grad  # (noncontig variants ask for it)
            floats.append(i)
        else:
            args.append(Arg(a))
    return args, floats


def _with(args, changes):
    """A copy of ``args`` with ``{position: Arg}`` replaced."""
    out = list(args)
    for i, arg in changes.items():
        out[i] = arg
    return out


def _dtype_cases(op, index, args, floats, kwargs):
    for dtype in INT_DTYPES:
        changes = {i: Arg(args[i].value, dtype) for i in floats}
        yield "dtype", dtype, _with(args, changes), kwargs


def _promote_cases(op, index, args, floats, kwargs):
    if len(floats) >= 2:
        i, j = floats[:2]
        for a, b in PROMOTE_PAIRS:
            changes = {i: Arg(args[i].value, a), j: Arg(args[j].value, b)}
            yield "promote", f"{a}+{b}", _with(args, changes), kwargs
    elif len(floats) == 1:
        i = floats[0]
        for dtype in ("int64", "uint8", "bool", "float16"):
            changes = {i: Arg(args[i].value, dtype + "@0d")}
            yield "promote", f"0d-{dtype}", _with(args, changes), kwargs
        if any(isinstance(a.value, float) for a in args):  # int tensor with a float scalar
            yield (
                "promote",
                "int-with-scalar",
                _with(args, {i: Arg(args[i].value, "int64")}),
                kwargs,
            )


def _empty_cases(op, index, args, floats, kwargs):
    for axis in (0, -1):
        changes = {}
        for i in floats:
            a = args[i].value
            if a.ndim and a.shape[axis] > 1:
                changes[i] = Arg(a[:0] if axis == 0 else a[..., :0])
        if changes:
            yield "empty", f"dim{axis}", _with(args, changes), kwargs


def _zerod_cases(op, index, args, floats, kwargs):
    if not floats or not all(args[i].value.size for i in floats):
        return
    changes = {i: Arg(args[i].value.reshape(-1)[:1].reshape(())) for i in floats}
    if changes:
        yield "zerod", "first", _with(args, changes), kwargs


def _noncontig_cases(op, index, args, floats, kwargs):
    for layout in LAYOUTS:
        changes, copies = {}, {}
        for i in floats:
            a = args[i].value
            if a.ndim >= (2 if layout == "transposed" else 1) and a.size:
                grad = args[i].wants_grad
                changes[i] = Arg(a, None, layout, grad=grad)
                copies[i] = Arg(np.broadcast_to(a[:1], a.shape).copy(), grad=grad)
        if changes:
            reference = _with(args, copies) if layout == "expanded" else None
            yield "noncontig", layout, _with(args, changes), kwargs, None, reference


def _ndim(args):
    return max((a.value.ndim for a in args if isinstance(a.value, np.ndarray)), default=0)


def _dims_cases(op, index, args, floats, kwargs):
    ndim = _ndim(args)
    for i, a in enumerate(args):
        v = a.value
        if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < ndim:
            yield "dims", f"arg{i}-neg", _with(args, {i: Arg(v - ndim)}), kwargs
            yield "dims", f"arg{i}-oob", _with(args, {i: Arg(ndim + 3)}), kwargs
    dim = kwargs.get("dim")
    if isinstance(dim, int) and not isinstance(dim, bool) and 0 <= dim < max(ndim, 1):
        yield "dims", "kw-neg", args, {**kwargs, "dim": dim - max(ndim, 1)}
        yield "dims", "kw-oob", args, {**kwargs, "dim": ndim + 3}
    if isinstance(dim, tuple) and dim and all(isinstance(d, int) for d in dim):
        yield "dims", "kw-tuple-oob", args, {**kwargs, "dim": (*dim[:-1], -ndim - 2)}


def method_name(op):
    """The one name the row's function calls (``x.exp()``, ``m.cumsum(x, 1)``), or None."""
    names = op.fn.__code__.co_names
    return names[0] if len(names) == 1 else None


def _inplace_call(name):
    def call(m, op, args, kwargs):
        result = getattr(args[0], name + "_")(*args[1:], **kwargs)
        return result, args[0]

    return call


def _passes_through(op) -> bool:
    """Whether the row's function only forwards its arguments (no literal in its body, such as
    ``x.scatter_add(0, i, s)``'s dim), so that ``args[0].<name>_(*args[1:])`` is the same call."""
    return all(c is None or isinstance(c, str) for c in op.fn.__code__.co_consts)


def _inplace_cases(op, index, args, floats, kwargs):
    name = method_name(op)
    if not _passes_through(op):
        return
    if not floats or floats[0] != 0 or name is None or not hasattr(torch.Tensor, name + "_"):
        return
    call = _inplace_call(name)
    first = args[0].value
    yield "inplace", "float64", args, kwargs, call
    yield "inplace", "int64-self", _with(args, {0: Arg(first, "int64")}), kwargs, call
    every = {i: Arg(args[i].value, "int64") for i in floats}
    yield "inplace", "int64-all", _with(args, every), kwargs, call
    if first.ndim and first.size and first.shape[0] > 1:
        yield (
            "inplace",
            "expanded-self",
            _with(args, {0: Arg(first, None, "expanded")}),
            kwargs,
            call,
        )
    yield "inplace", "leaf-requires-grad", _with(args, {0: Arg(first, grad=True)}), kwargs, call


def _out_call(name, make_out):
    def call(m, op, args, kwargs):
        plain = getattr(m, name)(*args, **kwargs)
        out = make_out(m, plain)
        result = getattr(m, name)(*args, **kwargs, out=out)
        return result, out

    return call


OUTS = {
    "same": lambda m, r: m.empty(r.shape, dtype=r.dtype),
    "int64": lambda m, r: m.empty(r.shape, dtype=m.int64),
    "float64": lambda m, r: m.empty(r.shape, dtype=m.float64),
    "wrong-shape": lambda m, r: m.empty(r.numel() + 2, dtype=r.dtype),
    "empty": lambda m, r: m.empty(0, dtype=r.dtype),
}


def _out_cases(op, index, args, floats, kwargs):
    name = method_name(op)
    if not _passes_through(op):
        return
    if not floats or name is None or name not in minigrad._out.NAMES:
        return
    if not callable(getattr(torch, name, None)):
        return
    for variant, make_out in OUTS.items():
        yield "out", variant, args, kwargs, _out_call(name, make_out)


DERIVE = {
    "dtype": _dtype_cases,
    "promote": _promote_cases,
    "empty": _empty_cases,
    "zerod": _zerod_cases,
    "noncontig": _noncontig_cases,
    "dims": _dims_cases,
    "inplace": _inplace_cases,
    "out": _out_cases,
}


def cases(rows=None, categories=CATEGORIES) -> list[Case]:
    """Every edge case of the rows (default: the whole op table) with a PyTorch counterpart."""
    found = []
    for op in OP_DB if rows is None else rows:
        if not op.torch or op.raises is not None:
            continue
        for index in range(len(op.samples)):
            args, floats = _base(op, index)
            kwargs = op.samples[index].kwargs
            for category in categories:
                if any(op.name in r and category in c for r, c in TORCH_CRASHES):
                    continue
                for made in DERIVE[category](op, index, args, floats, kwargs):
                    cat, variant, a, kw = made[:4]
                    call = made[4] if len(made) > 4 else None
                    ref = made[5] if len(made) > 5 else None
                    grads = cat == "noncontig" and op.grad
                    found.append(Case(op, index, cat, variant, a, kw, call, grads, ref))
    return found


# -- running and comparing -------------------------------------------------------------------


@dataclass
class Outcome:
    """How a case ended: ``kind`` is one of AGREE or a mismatch category."""

    kind: str
    detail: str = ""


def _attempt(case, m):
    try:
        return case.run(m), None
    except Exception as e:
        return None, e


def flat(result) -> list:
    """``result``'s leaves in order: tuples and lists opened, a dict as its sorted keys each
    followed by its value's leaves (a ``Size`` is one leaf)."""
    if isinstance(result, dict):
        return [x for k in sorted(result, key=str) for x in (k, *flat(result[k]))]
    if isinstance(result, (tuple, list)) and not isinstance(result, (torch.Size, minigrad.Size)):
        return [x for r in result for x in flat(r)]
    return [result]


def compare(case) -> Outcome:
    """Run ``case`` in both frameworks and say how they compare."""
    if case.reference is not None:
        ref = Case(case.op, case.index, case.category, case.variant, case.reference, case.kwargs)
        _, t_err = _attempt(case, torch)  # (where PyTorch refuses the view, minigrad must)
        raw, ref_err = _attempt(ref, minigrad) if t_err is None else (None, t_err)
        expected = None if raw is None else _as_torch(raw)  # compared as PyTorch's would be
        t_err = t_err or ref_err
    else:
        expected, t_err = _attempt(case, torch)
    got, m_err = _attempt(case, minigrad)
    if t_err is not None and m_err is not None:
        return _compare_errors(t_err, m_err, case.category)
    if t_err is not None:
        return Outcome("silent", f"PyTorch raises {_short(t_err)}; minigrad computes")
    if m_err is not None:
        kind = "missing" if isinstance(m_err, NotImplementedError) else "m_raises"
        return Outcome(kind, f"minigrad raises {_short(m_err)}")
    (res_t, _, warn_t), (res_m, _, warn_m) = expected, got
    outcome = compare_values(flat(res_m), flat(res_t), op_tolerance(case.op))
    if outcome.kind != "same" or not case.grads:
        return outcome if outcome.kind != "same" else _compare_warnings(warn_m, warn_t, case)
    if case.reference is not None:
        return _compare_grads(raw, got, True, case.op)
    return _compare_grads(expected, got, False, case.op)


def _as_torch(run):
    """A minigrad run's (result, args, warnings) with its tensors as PyTorch tensors."""

    def conv(x):
        if isinstance(x, minigrad.Tensor):
            return torch.from_numpy(np.array(x.detach().cpu().numpy())).requires_grad_(
                x.requires_grad
            )
        if isinstance(x, (tuple, list)):
            return [conv(y) for y in x]
        return x

    result, args, caught = run
    return conv(result), conv(args), caught


def _short(e) -> str:
    return f"{type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}"


def _compare_errors(t_err, m_err, category) -> Outcome:
    """Both raise: the same type (minigrad's may be a subclass), and where a dim argument is out
    of range (the ``dims`` variants), a message saying so. Elsewhere PyTorch's "Dimension out
    of range" comes from its own lookup of a dim that a 0-d or empty input lacks, and
    minigrad's message names the rank the op needs instead."""
    if isinstance(m_err, type(t_err)):
        dims = category == "dims"
        if dims and "Dimension out of range" in str(t_err) and "out of range" not in str(m_err):
            return Outcome("exc_message", f"PyTorch {_short(t_err)}; minigrad {_short(m_err)}")
        return Outcome("both_raise")
    return Outcome("exc_type", f"PyTorch {_short(t_err)}; minigrad {_short(m_err)}")


def _compare_warnings(warn_m, warn_t, case) -> Outcome:
    resized_t = any("resized" in w for w in warn_t)
    resized_m = any("resized" in w for w in warn_m)
    if resized_t != resized_m:
        return Outcome("warning", f"resize warning: PyTorch {resized_t}, minigrad {resized_m}")
    return Outcome("same")


def op_tolerance(op):
    """(rtol, atol) by dtype name for the outputs of op-table row ``op``."""

    def tolerance(name: str) -> tuple[float, float]:
        if name == "float64":
            return 1e-7, 1e-10
        return op.float32_tol if name == "float32" else (max(op.float32_tol[0], 2e-3), 1e-3)

    return tolerance


def compare_values(outs_m, outs_t, tolerance) -> Outcome:
    """Compare two flattened results leaf by leaf: tensors by type, dtype, shape and (unless
    ``tolerance`` is None) values within ``tolerance(dtype name)`` = (rtol, atol); Python
    scalars, strings, sizes and dtypes by value; other objects (modules, optimizers,
    iterators) only by being there."""
    if len(outs_m) != len(outs_t):
        return Outcome("shape", f"{len(outs_m)} outputs, PyTorch {len(outs_t)}")
    for a, b in zip(outs_m, outs_t):
        outcome = compare_one(a, b, tolerance)
        if outcome.kind != "same":
            return outcome
    return Outcome("same")


def compare_one(a, b, tolerance) -> Outcome:
    """One leaf of :func:`compare_values`."""
    if not isinstance(b, torch.Tensor):
        if isinstance(a, minigrad.Tensor):
            return Outcome("type", f"a tensor where PyTorch gives {type(b).__name__}")
        return _compare_plain(a, b)
    if b.layout != torch.strided or b.is_nested or b.is_quantized:
        return Outcome("same")  # dense tensors only; the table's own tests cover the others
    if not isinstance(a, minigrad.Tensor):
        return Outcome("type", f"{type(a).__name__} where PyTorch gives a tensor")
    name = str(b.dtype).split(".")[-1]
    if a.dtype.name != name:
        return Outcome("dtype", f"dtype {a.dtype.name}, PyTorch {name}")
    if tuple(a.shape) != tuple(b.shape):
        return Outcome("shape", f"shape {tuple(a.shape)}, PyTorch {tuple(b.shape)}")
    if tolerance is None:
        return Outcome("same")
    x, y = a.detach().cpu().numpy(), b.detach().resolve_conj().numpy()
    if x.dtype.kind in "biu":
        if not np.array_equal(x, y):
            return Outcome("values", f"{x.ravel()[:6]} vs PyTorch {y.ravel()[:6]}")
        return Outcome("same")
    rtol, atol = tolerance(name)
    wide = "complex128" if x.dtype.kind == "c" else "float64"
    x64, y64 = x.astype(wide), y.astype(wide)
    if not np.array_equal(np.isnan(x64), np.isnan(y64)):
        return Outcome("values", f"NaN at other places: {x.ravel()[:6]} vs {y.ravel()[:6]}")
    if not np.allclose(x64, y64, rtol=rtol, atol=atol, equal_nan=True):
        return Outcome("values", f"{x.ravel()[:6]} vs PyTorch {y.ravel()[:6]}")
    return Outcome("same")


def _compare_plain(a, b) -> Outcome:
    if isinstance(b, torch.Size):
        same = isinstance(a, minigrad.Size) and tuple(a) == tuple(b)
    elif isinstance(b, torch.dtype):
        same = str(a).split(".")[-1] == str(b).split(".")[-1]
    elif isinstance(b, (bool, int, float, complex, str, type(None))):
        same = a == b or (a != a and b != b)
        same = same or (isinstance(b, float) and math.isclose(a, b, rel_tol=1e-6))
    else:
        return Outcome("same")  # modules, optimizers, iterators: built is what is compared
    return Outcome("same") if same else Outcome("values", f"{a!r} where PyTorch gives {b!r}")


def _grads(m, result, args):
    """The gradients of ``result``'s float outputs that require grad (weighted by fixed random
    numbers) with respect to the ``args`` that require grad, in module ``m``."""
    outs = [
        r
        for r in flat(result)
        if hasattr(r, "requires_grad") and r.requires_grad and r.is_floating_point()
    ]
    ins = [a for a in args if hasattr(a, "requires_grad") and a.requires_grad]
    if not outs or not ins:
        return None
    rng = np.random.default_rng(0)
    new = torch.tensor if m is torch else minigrad.tensor
    vs = [new(rng.uniform(-1, 1, tuple(o.shape))) for o in outs]
    return m.autograd.grad(outs, ins, vs, allow_unused=True)


def _compare_grads(expected, got, reference, op) -> Outcome:
    try:
        gt = _grads(minigrad if reference else torch, *expected[:2])
    except Exception:
        return Outcome("same")  # the reference cannot differentiate it: nothing to compare
    if gt is None:
        return Outcome("same")
    if reference:
        gt = _as_torch((gt, [], []))[0]
    try:
        gm = _grads(minigrad, *got[:2])
    except Exception as e:
        return Outcome("grad", f"minigrad's backward raises {_short(e)}")
    for a, b in zip(gm or [], gt):
        if b is None:
            continue
        if a is None:
            return Outcome("grad", "no gradient where PyTorch has one")
        outcome = compare_one(a, b, op_tolerance(op))
        if outcome.kind != "same":
            return Outcome("grad", outcome.detail)
    return Outcome("same")


# -- the allow-list --------------------------------------------------------------------------

# (row name, category, variant or "*") -> why minigrad differs from PyTorch on purpose
_VIEW_BUG = (
    "PyTorch 2.13 calls .view() inside on a non-contiguous input and fails ('view size is not "
    "compatible'); minigrad computes the same values as for a contiguous copy"
)
_MKL_EMPTY_BATCH = (
    "PyTorch 2.13's CPU FFT (oneMKL) fails on an empty batch dim ('Inconsistent configuration "
    "parameters'); minigrad returns the empty spectrum, as for any batch size (an empty "
    "transformed dim raises 'Invalid number of data points (0)' in both)"
)
_FFT_EMPTY_BATCH = ("fft", "ifft", "rfft", "ihfft", "irfft", "hfft", "fft2", "rfftn", "irfft2")
ALLOWED: dict = {
    **{(f"{name}_real", "empty", "*"): _MKL_EMPTY_BATCH for name in _FFT_EMPTY_BATCH},
    ("pixel_unshuffle", "empty", "*"): (
        "PyTorch 2.13 returns an empty input unchanged (its empty shortcut skips the reshape); "
        "minigrad gives the unshuffled shape (*, C*r*r, H/r, W/r), as for non-empty input"
    ),
    ("addmv", "empty", "dim-1"): (
        "PyTorch 2.13's empty-matrix shortcut returns beta*input without broadcasting it "
        "against mat @ vec; minigrad broadcasts, as for non-empty input"
    ),
    ("local_response_norm", "dtype", "int64"): (
        "PyTorch average-pools an int64 input in int64 (truncating the window means); minigrad "
        "computes the norm of integers in float"
    ),
    ("local_response_norm", "promote", "int-with-scalar"): "as local_response_norm, int64",
    ("local_response_norm_nd", "dtype", "int64"): "as local_response_norm, int64",
    ("local_response_norm_nd", "promote", "int-with-scalar"): "as local_response_norm, int64",
    ("take_along_dim", "noncontig", "*"): _VIEW_BUG,
    ("kron", "noncontig", "*"): _VIEW_BUG,
    ("conv_tbc", "noncontig", "*"): _VIEW_BUG,
    ("local_response_norm_nd", "noncontig", "*"): _VIEW_BUG,
    ("native_group_norm", "noncontig", "*"): (
        "PyTorch's native_group_norm asserts a contiguous input; minigrad takes any layout"
    ),
    ("view", "noncontig", "expanded"): (
        "harness: the expanded case is compared with minigrad on a contiguous copy, which a "
        "view accepts; PyTorch refuses the expanded view as minigrad does"
    ),
    ("batch_norm_running_stats", "noncontig", "expanded"): (
        "harness: an expanded running_mean cannot be updated in place (both frameworks refuse "
        "it); the reference run on a contiguous copy succeeds"
    ),
    ("instance_norm_running_stats", "noncontig", "expanded"): "as batch_norm_running_stats",
    ("lobpcg", "noncontig", "expanded"): (
        "harness: repeated rows make the matrix singular; the reference is minigrad's own run"
    ),
    ("lu_unpack_solve", "noncontig", "expanded"): "as lobpcg: a singular matrix",
    ("tril", "inplace", "expanded-self"): (
        "PyTorch 2.13's tril_/triu_/addmv_/baddbmm_ skip the internal-overlap check and write "
        "through an expanded view; minigrad refuses, as PyTorch's other in-place ops do"
    ),
    ("triu", "inplace", "expanded-self"): "as tril",
    ("addmv", "inplace", "expanded-self"): "as tril",
    ("baddbmm", "inplace", "expanded-self"): "as tril",
    ("where", "out", "*"): (
        "PyTorch's out= overload of where takes tensors only; minigrad's also takes a Python "
        "number for other, as where without out= does in both"
    ),
    ("pad_modes", "dims", "arg3-neg"): (
        "PyTorch 2.13's circular pad reads uninitialised memory where a negative width crops "
        "more than the other side's width leaves to wrap (its output holds garbage, or it "
        "raises an internal-overlap error); minigrad raises that the padding wraps around more "
        "than once"
    ),
    ("lobpcg", "promote", "*"): (
        "PyTorch 2.13's lobpcg fails on float16 and integer matrices inside its Python code (a "
        "KeyError, an IndexError); minigrad raises a RuntimeError naming the dtypes it takes"
    ),
    ("narrow_copy", "dims", "arg1-oob"): (
        "PyTorch raises a RuntimeError from an internal assert; minigrad's IndexError names "
        "the dim and its range, as every other op's"
    ),
}


def allowed(case) -> str | None:
    """The reason a mismatch of ``case`` is deliberate, or None."""
    for key in ((case.op.name, case.category, case.variant), (case.op.name, case.category, "*")):
        if key in ALLOWED:
            return ALLOWED[key]
    return None


def known_open(case, outcome) -> bool:
    """Whether the mismatch is one of the triaged, not yet fixed ones (tests/edges_known.py)."""
    from edges_known import KNOWN

    return (case.op.name, case.category, outcome.kind) in KNOWN


def sweep(all_cases, verbose=False, out=sys.stdout, trace=False):
    """Run the cases; returns {outcome kind: count} and the list of (case, outcome) mismatches."""
    counts, mismatches = collections.Counter(), []
    for case in all_cases:
        if trace:
            print(case.id, file=sys.stderr, flush=True)
        minigrad.manual_seed(0)
        torch.manual_seed(0)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            outcome = compare(case)
        kind = outcome.kind
        if kind not in AGREE and kind != "missing" and allowed(case):
            kind = "allowed"
        counts[(case.category, kind)] += 1
        if kind not in AGREE + ("allowed",):
            mismatches.append((case, outcome))
            if verbose:
                print(f"{case.id}: [{kind}] {outcome.detail}", file=out)
    return counts, mismatches


def sampled(all_cases, every: int):
    """A deterministic sample of about one case in ``every`` (by a hash of the case id)."""
    return [c for c in all_cases if zlib.crc32(c.id.encode()) % every == 0]


def _table(counts, out=sys.stdout):
    kinds = sorted({k for _, k in counts})
    print(f"{'category':<10}" + "".join(f"{k:>12}" for k in kinds) + f"{'total':>8}", file=out)
    for cat in CATEGORIES:
        row = [counts.get((cat, k), 0) for k in kinds]
        print(f"{cat:<10}" + "".join(f"{n:>12}" for n in row) + f"{sum(row):>8}", file=out)


def write_known(ops=None, api=None):
    """Rewrite tests/edges_known.py with the op sweep's open ``ops`` keys and the API sweep's
    ``api`` keys (tests/edges_api.py); either left None keeps the file's current set."""
    import edges_known

    sets = {"KNOWN": ops, "KNOWN_API": api}
    text = KNOWN_HEADER
    for name, keys in sets.items():
        keys = sorted(getattr(edges_known, name) if keys is None else keys)
        text += f"{name} = {{\n" + "".join(f"    {k!r},\n" for k in keys) + "}\n"
    (Path(__file__).parent / "edges_known.py").write_text(text)


KNOWN_HEADER = '''"""The edge-sweep mismatches triaged and still open (``--write-known`` of tests/edges_sweep.py
and tests/edges_api.py writes this file over the full sweep). ``KNOWN``: (row, category,
outcome) of the op sweep; most are ops where PyTorch has no integer or bool kernel and minigrad
computes in float, or raises another exception type. ``KNOWN_API``: (case, category, outcome)
of the modules, optimizers and data utilities sweep. They are not deliberate (those are the
``ALLOWED`` tables, each with its reason). The tests fail on any mismatch not listed, so the
lists can only shrink."""

# fmt: off
'''


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--category", action="append", choices=CATEGORIES)
    parser.add_argument("-r", "--row", help="only rows whose name contains this")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every mismatch")
    parser.add_argument("--trace", action="store_true", help="name each case before it runs")
    parser.add_argument("--write-known", action="store_true", help="rewrite tests/edges_known.py")
    parser.add_argument("--every", type=int, default=1, help="run one case in EVERY")
    ns = parser.parse_args(argv)
    rows = [op for op in OP_DB if ns.row is None or ns.row in op.name]
    all_cases = cases(rows, tuple(ns.category or CATEGORIES))
    if ns.every > 1:
        all_cases = sampled(all_cases, ns.every)
    start = time.perf_counter()
    counts, mismatches = sweep(all_cases, ns.verbose, trace=ns.trace)
    _table(counts)
    if ns.write_known:
        write_known(ops={(c.op.name, c.category, o.kind) for c, o in mismatches})
    print(
        f"{len(all_cases)} cases, {len(mismatches)} mismatches, {time.perf_counter() - start:.1f} s"
    )


if __name__ == "__main__":
    main()
