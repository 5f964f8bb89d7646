"""Matrix products: matmul (1-D, 2-D and batched with broadcasting), outer, einsum."""

from __future__ import annotations

import math
import re

import numpy as np

from .. import _torch_function as _tf
from .. import dtypes
from ..autograd import graph
from .base import Op, autocast_inputs, kernel_dtypes, refuse_dtype
from .complex import conjugates
from .elementwise import promote


def times_transposed(xp, x, w):
    """x·Wᵀ for 2-D x (M, K) and W (N, K): a linear layer's product, and ``x @ W.T``.

    OpenBLAS (NumPy's BLAS) multiplies a few rows by a large transposed matrix up to 3x slower
    than it computes the same product transposed, (W·xᵀ)ᵀ: an LSTM step (16 rows by a 1024x256
    weight) takes 0.21 ms one way and 0.12 ms the other. ``python -m benchmarks.gemm_layouts``
    prints the table this rule comes from (rerun it on another BLAS or CPU).
    """
    m, (n, k) = x.shape[0], w.shape
    if xp is np and 4 <= m <= 64 and n >= 512 and (k >= 256 or m <= 32):
        return np.ascontiguousarray((w @ x.T).T)
    return x @ w.T


class MatMul(Op):
    """C = A @ B; dA = dC @ Bᴴ, dB = Aᴴ @ dC (1-D operands act as a row or column vector; ᴴ is
    the transpose for real tensors)"""

    supports_complex = True
    save_inputs = True

    def forward(self, a, b):
        if (
            a.ndim > 2
            and b.ndim > 1
            and a.shape[-1] == 1
            and a.dtype == dtypes.kernel_dtype(a.dtype)
        ):
            # stacked outer products (per-sample weight gradients under vmap): NumPy's matmul
            # is ~10x slower than einsum when the contracted dim is 1 (einsum has no bfloat16)
            return self.xp.einsum("...ij,...jk->...ik", a, b)
        try:  # bfloat16: NumPy accumulates in float32 and returns float32; round once
            if a.ndim == 2 and b.ndim == 2 and b.T.flags.c_contiguous:  # x @ W.T
                return times_transposed(self.xp, a, b.T).astype(a.dtype, copy=False)
            return self.xp.matmul(a, b).astype(a.dtype, copy=False)
        except ValueError:
            raise RuntimeError(_mismatch(a.shape, b.shape)) from None

    def backward(self, gc):
        a, b = self.saved
        need_a, need_b = self.needs_input_grad
        if gc._data.dtype.kind == "c":
            a, b = conjugates(a, b)
        if a.ndim == 1 and b.ndim == 1:
            return (gc * b if need_a else None), (gc * a if need_b else None)
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g2 = gc.unsqueeze(-2) if a.ndim == 1 else gc
        g2 = g2.unsqueeze(-1) if b.ndim == 1 else g2
        ga = gb = None
        if need_a:
            ga = g2 @ b2.mT
            ga = ga.squeeze(-2) if a.ndim == 1 else ga
        if need_b:
            if b2.ndim == 2 and a2.ndim > 2:  # one GEMM over the flattened batch, no batch sum
                gb = a2.reshape(-1, a2.shape[-1]).mT @ g2.reshape(-1, g2.shape[-1])
            else:
                gb = a2.mT @ g2
            gb = gb.squeeze(-1) if b.ndim == 1 else gb
        return ga, gb

    def name(self) -> str:
        # PyTorch's last node for (a.ndim, b.ndim): vector @ matrix squeezes an mm's result;
        # batched products end in a reshaping view, except a matrix @ a batch that needs grad,
        # which ends in a copy (bmm's own node is named by bmm)
        ndims = tuple(len(m[0]) for m in self.input_meta if m is not None)
        named = _PRODUCT_NAMES.get(ndims)
        if named is not None or len(ndims) != 2:
            return named or self.label() + "Backward0"
        if ndims[0] == 2 and self.edges[1] is not None:
            return "CloneBackward0"
        return "UnsafeViewBackward0"


_PRODUCT_NAMES = {
    (2, 2): "MmBackward0",
    (2, 1): "MvBackward0",
    (1, 1): "DotBackward0",
    (1, 2): "SqueezeBackward4",
}


def _mismatch(sa, sb) -> str:
    if len(sa) == 2 and len(sb) == 2:
        return f"mat1 and mat2 shapes cannot be multiplied ({sa[0]}x{sa[1]} and {sb[0]}x{sb[1]})"
    return f"matmul: shapes {list(sa)} and {list(sb)} cannot be multiplied"


@kernel_dtypes("addmm_impl_cpu_", bools_only=True)  # (no bool matrix products in PyTorch)
def matmul(input, other):
    """Matrix product with NumPy/PyTorch rules for 1-D, 2-D and batched operands."""
    try:
        other.ndim  # noqa: B018 - a tensor-like operand takes the call, as in PyTorch
    except AttributeError as e:
        return _tf.operand_takes("matmul", (input, other), e)
    if input.ndim == 0 or other.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {input.ndim}D and "
            f"{other.ndim}D"
        )
    if input.dtype is not other.dtype:  # (autocast casts both first, as PyTorch's)
        input, other = autocast_inputs("MatMul", input, other)
    # PyTorch's matmul never promotes; a size mismatch of matrices is reported first
    if input.dtype is not other.dtype and _sizes_agree(input, other):
        _refuse_compressed_integers(input, other)
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: "  # PyTorch's words
            f"{dtypes.cpp_type_name(input.dtype)} != {dtypes.cpp_type_name(other.dtype)}"
        )
    return MatMul()(input, other)


def _refuse_compressed_integers(input, other) -> None:
    """With a sparse compressed operand, PyTorch's MKL kernel refuses integer and bool dtypes
    before it compares the operands' dtypes."""
    from .._sparse_compressed import SparseCompressed

    if SparseCompressed in (type(input._data), type(other._data)):
        for x in (input, other):
            refuse_dtype(x.dtype, "addmm_out_sparse_csr_impl_mkl", "matmul")


def _sizes_agree(input, other) -> bool:
    """Whether the contracted sizes of a matmul agree (two vectors: always, as PyTorch's dot
    reports their dtypes first)."""
    if input.ndim == 1 and other.ndim == 1:
        return True
    return input.shape[-1] == other.shape[-2 if other.ndim > 1 else -1]


def outer(input, vec2):
    """The outer product of two vectors (``torch.outer``): 1-D operands, as PyTorch checks."""
    for name, v in (("self", input), ("vec2", vec2)):
        if getattr(v, "ndim", 1) != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D")
    return input.unsqueeze(-1) * vec2


class Einsum(Op):
    """y = einsum(equation, *x); dxᵢ = einsum of dy with the other operands into xᵢ's subscripts"""

    supports_complex = True
    save_inputs = True

    def __init__(self, inputs: list, output: str):
        self.inputs, self.output = inputs, output

    @dtypes.computed_in_float32  # NumPy's einsum has no bfloat16 loop
    def forward(self, *arrays):
        eq = ",".join(self.inputs) + "->" + self.output
        if arrays and arrays[0].dtype.kind in "biu" and self._sums_alone():
            arrays = [a.astype(self.xp.int64) for a in arrays]  # PyTorch's sum: int64
        return self.xp.einsum(eq, *arrays, optimize=self._worth_optimizing(arrays))

    def _sums_alone(self) -> bool:
        """Whether a letter appears in one operand only and not in the output: PyTorch sums it
        out of that operand first (``sum``, which gives integers in int64), where letters
        shared by two operands go through a batched product, which keeps the dtype."""
        for i, subs in enumerate(self.inputs):
            others = set("".join(s for j, s in enumerate(self.inputs) if j != i) + self.output)
            if set(subs) - others:
                return True
        return False

    def _worth_optimizing(self, arrays) -> bool:
        """Whether to let NumPy plan the contraction (pairwise, through BLAS): for three or more
        operands, or two with a summed index and enough work (2¹⁶ multiply-adds and up) to pay
        the planner's ~15 µs. ``bix,iox->box`` at 32 per index takes 0.13 ms planned and 0.51
        ms in einsum's own loop; ``bo,bi->boi`` (nothing summed) is fastest unplanned."""
        if len(arrays) > 2:
            return True
        sizes = {}
        for subs, a in zip(self.inputs, arrays):
            sizes.update(zip(subs, getattr(a, "shape", ())))
        summed = set("".join(self.inputs)) - set(self.output)
        return bool(summed) and len(arrays) == 2 and math.prod(sizes.values()) >= 1 << 16

    def name(self) -> str:
        # PyTorch's last node: one operand ends in a sum over the summed letters, or else in a
        # permute; several end in the view of a batched product when letters are summed, or
        # else in an elementwise product
        summed = set("".join(self.inputs)) - set(self.output)
        if len(self.inputs) == 1:
            return "SumBackward1" if summed else "PermuteBackward0"
        return "ViewBackward0" if summed else "MulBackward0"

    def backward(self, gy):
        operands = self.saved
        if gy._data.dtype.kind == "c":
            operands = conjugates(*operands)
        grads = []
        for i, (subs, edge) in enumerate(zip(self.inputs, self.edges)):
            if edge is None:
                grads.append(None)
                continue
            others = [(s, t) for j, (s, t) in enumerate(zip(self.inputs, operands)) if j != i]
            present = set(self.output).union(*(s for s, _ in others))
            kept = "".join(c for c in subs if c in present)
            g = einsum(
                ",".join([self.output] + [s for s, _ in others]) + "->" + kept,
                gy,
                *[t for _, t in others],
            )
            if kept != subs:  # letters summed away in this operand alone: broadcast back
                sizes = dict(zip(kept, g.shape))
                g = g.reshape([sizes.get(c, 1) for c in subs]).expand(operands[i].shape)
            grads.append(g)
        return tuple(grads)


def _sublist_equation(args):
    """``einsum(a, [0, 1], b, [1, 2], [0, 2])`` (PyTorch's sublist format: each operand followed
    by its dims as ints < 52 or ``...``, then optionally the output's) as ``("ab,bc->ac", ops)``."""

    def letters(sublist):
        if not all(d is Ellipsis or isinstance(d, int) and 0 <= d < 52 for d in sublist):
            raise ValueError(
                f"einsum(): subscript in sublist format must be an int in [0, 52) or Ellipsis, "
                f"got {list(sublist)}"
            )
        return "".join("..." if d is Ellipsis else _EINSUM_LETTERS[d] for d in sublist)

    operands = args[0:-1:2] if len(args) % 2 else args[0::2]
    inputs = [letters(s) for s in args[1::2][: len(operands)]]
    output = "->" + letters(args[-1]) if len(args) % 2 else ""
    return ",".join(inputs) + output, tuple(operands)


_EINSUM_LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
_EINSUM_LETTERS += [chr(c) for c in range(ord("A"), ord("Z") + 1)]


def _ellipsis_as_letters(inputs, rhs, operands):
    """``...`` spelled as unused letters (right-aligned, so an operand with fewer broadcast dims
    takes the last ones; size-1 dims broadcast as NumPy's einsum does): ``...id,jd->...ij`` on
    4-D and 2-D operands is ``ABid,jd->ABij``, whose backward is the ordinary one."""
    free = [c for c in _EINSUM_LETTERS if c not in "".join(inputs) + rhs]
    counts = []
    for i, (subs, t) in enumerate(zip(inputs, operands)):
        named = len(subs.replace("...", ""))
        if "..." in subs and t.ndim < named:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({named}) is more than the "
                f"number of dimensions ({t.ndim}) for operand {i}"
            )
        counts.append(t.ndim - named if "..." in subs else 0)
    ell = "".join(free[: max(counts)])
    inputs = [s.replace("...", ell[len(ell) - n :]) for s, n in zip(inputs, counts)]
    return inputs, rhs.replace("...", ell)


def einsum(equation: str, *operands):
    """Einstein summation, ``einsum("ij,jk->ik", a, b)``, ``einsum("...id,jd->...ij", q, w)``
    or the sublist format ``einsum(a, [0, 1], b, [1, 2], [0, 2])``; a letter repeated in one
    operand takes its diagonal (``"ii->i"``, the trace ``"ii"``), differentiably."""
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation, *operands))
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(operands):
        fewer = "fewer" if len(operands) < len(inputs) else "more"
        raise RuntimeError(
            f"einsum(): {fewer} operands were provided than specified in the equation "
            f"({len(inputs)} subscripts, {len(operands)} operands)"
        )
    _check_output_subscripts(lhs, rhs if arrow else "")
    if not arrow:
        counts = {c: lhs.count(c) for c in set(re.sub(r"[^a-zA-Z]", "", lhs))}
        rhs = "".join(sorted(c for c, n in counts.items() if n == 1))
        rhs = "..." + rhs if "." in lhs else rhs  # broadcast dims lead, as in PyTorch
    if "." in eq:
        inputs, rhs = _ellipsis_as_letters(inputs, rhs, operands)
    for subs, t in zip(inputs, operands):
        if "." not in subs and len(subs) != t.ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(subs)}) does not match "
                f"the number of dimensions ({t.ndim}) for operand {inputs.index(subs)} and no "
                f"ellipsis was given"
            )
    _check_subscript_sizes(inputs, operands, set(lhs))
    if any(len(set(sub)) != len(sub) for sub in inputs):  # "ii->i", "iij->ij": diagonals first
        inputs, operands = zip(*(_take_diagonals(sub, t) for sub, t in zip(inputs, operands)))
        inputs = list(inputs)
    _bmm_dtypes(inputs, rhs, operands)
    return Einsum(inputs, rhs)(*promote(*operands))


def _spread_operands(args: tuple) -> tuple:
    """``einsum(eq, [a, b])`` as ``einsum(eq, a, b)``, as PyTorch's einsum calls itself again
    with the operands spread before a ``__torch_function__`` handler (an fx tracer) sees them."""
    if len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], (list, tuple)):
        return (args[0], *args[1])
    return args


einsum.normalize_arguments = _spread_operands


def _take_diagonals(subs: str, t):
    """An operand whose subscripts repeat a letter (``"ii"``) as its diagonal over the two
    dims, the letter then last (``diagonal`` is differentiable: the gradient of a trace or a
    diagonal needs no rule of its own); repeated until every letter is once."""
    while len(set(subs)) != len(subs):
        c = next(c for c in subs if subs.count(c) > 1)
        p = subs.index(c)
        q = subs.index(c, p + 1)
        t = t.diagonal(dim1=p, dim2=q)
        subs = subs[:p] + subs[p + 1 : q] + subs[q + 1 :] + c
    return subs, t


def _check_output_subscripts(lhs: str, rhs: str) -> None:
    """PyTorch's errors for an output letter that no operand has, or that comes twice."""
    for c in dict.fromkeys(rhs.replace(".", "")):
        if rhs.count(c) > 1:
            raise RuntimeError(
                f"einsum(): output subscript {c} appears more than once in the output"
            )
        if c not in lhs:
            raise RuntimeError(
                f"einsum(): output subscript {c} does not appear in the equation for any input "
                f"operand"
            )


def _check_subscript_sizes(inputs, operands, named) -> None:
    """PyTorch's errors for a letter (of the equation, ``named``; not one standing for ``...``)
    whose sizes differ: repeated in one operand, or across operands where neither is 1."""
    seen = {}
    for i, (subs, t) in enumerate(zip(inputs, operands)):
        own = {}
        for c, n in zip(subs, getattr(t, "shape", ())):
            if c not in named:
                continue
            if c in own and own[c] != n:
                raise RuntimeError(
                    f"einsum(): subscript {c} is repeated for operand {i} but the sizes don't "
                    f"match, {n} != {own[c]}"
                )
            own[c] = n
        for c, n in own.items():
            if c in seen and n != seen[c] and 1 not in (n, seen[c]):
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {n} for operand {i} which does not "
                    f"broadcast with previously seen size {seen[c]}"
                )
            seen[c] = n if seen.get(c, 1) == 1 else seen[c]


def _bmm_dtypes(inputs, rhs, operands) -> None:
    """Raise where PyTorch's einsum would: it folds the operands left to right, first summing
    the letters an operand alone has (bool and integers sum to int64), then multiplying the
    result with the next operand, through ``bmm`` where they share a letter summed away there;
    ``bmm`` takes one dtype, and no bool."""
    dts = [t.dtype if isinstance(t, graph.Tensor) else dtypes.result_type(t) for t in operands]

    def own_sum(i, d):
        others = rhs + "".join(s for j, s in enumerate(inputs) if j != i)
        summed = any(c not in others for c in inputs[i])
        return dtypes.int64 if summed and not (d.is_floating_point or d.is_complex) else d

    letters, d = set(inputs[0]), own_sum(0, dts[0])
    for i in range(1, len(inputs)):
        later = set(rhs + "".join(inputs[i + 1 :]))
        other = own_sum(i, dts[i])
        if any(c in letters and c not in later for c in inputs[i]):
            if d is dtypes.bool:
                raise NotImplementedError("einsum(): \"bmm\" not implemented for 'Bool'")
            if d is not other:
                raise RuntimeError(
                    f"einsum(): expected scalar type {dtypes.scalar_type_name(d)} but found "
                    f"{dtypes.scalar_type_name(other)} (operands {i - 1} and {i} are contracted "
                    f"with bmm, which takes one dtype)"
                )
        letters = (letters | set(inputs[i])) & later
        d = dtypes.promote_types(d, other)
