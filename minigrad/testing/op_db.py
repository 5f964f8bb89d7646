"""The op table: every differentiable op with sample inputs, walked by the tests and by
``minigrad gradcheck``.

A row names a function ``fn(m, *args, **kwargs)`` written against a module ``m`` that is either
``minigrad`` or ``torch`` — the same line runs on both, which is how the PyTorch comparison
works. Sample arguments are specs (:class:`T` random float tensors, :class:`V` fixed values,
:class:`Index`, :class:`Mask`) or plain Python values, turned into arrays the same way for both
frameworks.
"""

from __future__ import annotations

from . import op_db_conv_attn, op_db_dtypes, op_db_layers, op_db_nn, op_db_rnn
from .samples import INTEGERS, KINKS, F, Index, Mask, OpInfo, Sample, T, V

# -- sample sets ---------------------------------------------------------------------------------

UNARY = [
    Sample(T((3, 4))),
    Sample(T(())),
    Sample(T((4, 3), transposed=True)),
    Sample(T((5,))),
    Sample(T((0, 3))),  # an empty dim
]
BINARY = [
    Sample(T((3, 4)), T((3, 4))),
    Sample(T((3, 1)), T((1, 4))),
    Sample(T(()), T((2, 3))),
    Sample(T((4, 3), transposed=True), T((4, 3))),
    Sample(T((2, 3)), 1.5),
    Sample(T((0, 3)), T((1, 3))),  # broadcasting against an empty dim
    Sample(T(()), T(())),
]


def unary(**kw):
    """The UNARY samples with other value ranges."""
    return [Sample(T(s.args[0].shape, transposed=s.args[0].transposed, **kw)) for s in UNARY]


POSITIVE = unary(low=0.5, high=2.0)
REDUCE = [
    Sample(T((3, 4))),
    Sample(T((3, 4)), 1),
    Sample(T((2, 3, 4)), (0, 2)),
    Sample(T((2, 3, 4)), -1, keepdim=True),
    Sample(T(())),
    Sample(T((4, 3), transposed=True), 0),
]
# reductions that accept empty input: over the empty dim, along the other, and over all
EMPTY_REDUCE = [Sample(T((0, 3)), 0), Sample(T((0, 3)), 1), Sample(T((0, 3)))]
MATRIX = [Sample(T((3, 4))), Sample(T((2, 4, 4))), Sample(T((4, 3), transposed=True))]


def _inplace_on_view(x, change, square=False):
    """``change`` (an in-place op on a view) applied to a copy ``h`` of ``x`` that is in the
    graph; returns ``h`` (through ``h * h`` when ``square``, so that the region's gradient
    depends on the values). Runs the same on minigrad and torch (CopySlices)."""
    h = x * 1
    change(h)
    return h * h if square else h


def _rows():
    return [
        # arithmetic
        OpInfo("add", lambda m, a, b: a + b, BINARY + [Sample(2.0, T((3,)))]),
        OpInfo("add_alpha", lambda m, a, b: m.add(a, b, alpha=2), BINARY[:2]),
        OpInfo("sub", lambda m, a, b: a - b, BINARY + [Sample(2.0, T((3,)))]),
        OpInfo("mul", lambda m, a, b: a * b, BINARY + [Sample(2.0, T((3,)))]),
        OpInfo(
            "div",
            lambda m, a, b: a / b,
            [
                Sample(T((3, 4)), T((3, 4), 0.5, 2.0)),
                Sample(T((3, 1)), T((1, 4), -2.0, -0.5)),
                Sample(T(()), T((2, 3), 0.5, 2.0)),
                Sample(T((2, 3)), 1.5),
                Sample(2.0, T((3,), 0.5, 2.0)),
            ],
        ),
        OpInfo("neg", lambda m, x: -x, UNARY),
        OpInfo(
            "pow_scalar",
            lambda m, x, e: x**e,
            [
                Sample(T((3, 4), 0.5, 2.0), 2.5),
                Sample(T((3,)), 2),
                Sample(T((3,)), 3.0),
                Sample(T((2, 2), 0.5, 2.0), -1.5),
                Sample(T(()), 0),
            ],
        ),
        OpInfo(
            "pow_tensor",
            lambda m, a, b: a**b,
            [
                Sample(T((3, 4), 0.5, 2.0), T((3, 4))),
                Sample(T((3, 1), 0.5, 2.0), T((1, 4))),
            ],
        ),
        OpInfo("rpow", lambda m, b: 2.0**b, UNARY),
        OpInfo(
            "remainder",
            lambda m, a, b: a % b,
            [
                Sample(T((3, 4), away=(-1.5, 0.0, 1.5)), 1.5),
                Sample(T((3, 4), away=INTEGERS), T((3, 4), 0.6, 0.9)),
            ],
            gradgrad=True,
        ),
        OpInfo("maximum", lambda m, a, b: m.maximum(a, b), BINARY[:4]),
        OpInfo("minimum", lambda m, a, b: m.minimum(a, b), BINARY[:4]),
        OpInfo(
            "maximum_ties",
            lambda m, a, b: m.maximum(a, b),
            [Sample(V([1.0, 2.0, 3.0]), V([1.0, 0.0, 3.0]))],
            gradgrad=False,
            note="gradcheck at a tie is one-sided; checked against PyTorch's half split",
        ),
        OpInfo(
            "where",
            lambda m, c, a, b: m.where(c, a, b),
            [
                Sample(Mask([[True, False, True], [False, False, True]]), T((2, 3)), T((2, 3))),
                Sample(Mask([True, False, True]), T((2, 3)), T((2, 1))),
                Sample(Mask([[True], [False]]), T((2, 3)), 0.5),
            ],
        ),
        OpInfo(
            "masked_fill",
            lambda m, x, mask: x.masked_fill(mask, -1.5),
            [
                Sample(T((2, 3)), Mask([[True, False, True], [False, False, True]])),
                Sample(T((2, 3)), Mask([False, True, False])),
            ],
        ),
        # unary math
        OpInfo("exp", lambda m, x: x.exp(), UNARY),
        OpInfo("log", lambda m, x: x.log(), POSITIVE),
        OpInfo("log1p", lambda m, x: x.log1p(), unary(low=-0.5, high=2.0)),
        OpInfo("expm1", lambda m, x: x.expm1(), UNARY),
        OpInfo("sqrt", lambda m, x: x.sqrt(), POSITIVE),
        OpInfo("rsqrt", lambda m, x: x.rsqrt(), POSITIVE),
        OpInfo("abs", lambda m, x: x.abs(), unary(away=KINKS)),
        OpInfo("sin", lambda m, x: x.sin(), UNARY),
        OpInfo("cos", lambda m, x: x.cos(), UNARY),
        OpInfo("tan", lambda m, x: x.tan(), unary(low=-1.0, high=1.0)),
        OpInfo("tanh", lambda m, x: x.tanh(), UNARY + [Sample(V([-1000.0, -20.0, 0.5, 20.0]))]),
        OpInfo(
            "sigmoid", lambda m, x: x.sigmoid(), UNARY + [Sample(V([-40.0, -5.0, 0.0, 5.0, 40.0]))]
        ),
        OpInfo("erf", lambda m, x: m.erf(x), UNARY),
        OpInfo("relu", lambda m, x: m.relu(x), unary(away=KINKS)),
        OpInfo("leaky_relu", lambda m, x: F(m).leaky_relu(x, 0.2), unary(away=KINKS)),
        OpInfo("elu", lambda m, x: F(m).elu(x, alpha=1.5), unary(away=KINKS)),
        OpInfo("gelu", lambda m, x: F(m).gelu(x), UNARY),
        OpInfo("gelu_tanh", lambda m, x: F(m).gelu(x, approximate="tanh"), UNARY),
        OpInfo("silu", lambda m, x: F(m).silu(x), UNARY),
        OpInfo(
            "softplus", lambda m, x: F(m).softplus(x, beta=2.0, threshold=1.0), unary(away=(0.5,))
        ),
        OpInfo("clamp", lambda m, x: x.clamp(-0.5, 0.5), unary(away=(-0.5, 0.5))),
        OpInfo("clamp_min", lambda m, x: x.clamp(min=0.25), unary(away=(0.25,))),
        OpInfo("clamp_tensor", lambda m, x, lo: x.clamp(min=lo), [Sample(T((3, 4)), T((1, 4)))]),
        OpInfo("sign", lambda m, x: x.sign(), unary(away=KINKS)),
        OpInfo("round", lambda m, x: x.round(), unary(away=INTEGERS)),
        OpInfo("floor", lambda m, x: x.floor(), unary(away=INTEGERS)),
        OpInfo("ceil", lambda m, x: x.ceil(), unary(away=INTEGERS)),
        OpInfo("trunc", lambda m, x: x.trunc(), unary(away=INTEGERS)),
        # reductions
        OpInfo("sum", lambda m, x, *dim, **kw: x.sum(*dim, **kw), REDUCE + EMPTY_REDUCE),
        OpInfo(
            "mean",
            lambda m, x, *dim, **kw: x.mean(*dim, **kw),
            REDUCE + EMPTY_REDUCE[1:2],
            note="the mean over an empty dim is nan, which finite differences cannot check",
        ),
        OpInfo(
            "prod",
            lambda m, x, *dim, **kw: x.prod(*dim, **kw),
            [
                Sample(T((3, 4))),
                Sample(T((3, 4)), 1),
                Sample(T((2, 3)), 0, keepdim=True),
                Sample(V([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0]]), 1),
                Sample(V([1.5, 0.0, -2.0])),
                # zeros: one, two and three per slice, along each dim and over all
                Sample(V([[0.0, 2.0, -1.5, 0.5], [0.0, 0.0, 1.5, 2.0], [0.0, 0.0, 0.0, 3.0]]), 1),
                Sample(V([[0.0, 2.0, -1.5], [0.0, 0.0, 1.5], [2.0, 0.0, 0.0]]), 0, keepdim=True),
                Sample(V([0.0, 2.0, 0.0, -1.5])),
                Sample(V([0.0, 0.0, 0.0])),
                Sample(T(())),
                Sample(T(()), 0),
            ]
            + EMPTY_REDUCE,
            note="Prod.others: O(n) memory, exact first and second derivatives at zeros",
        ),
        OpInfo(
            "amax",
            lambda m, x, *dim, **kw: x.amax(*dim, **kw),
            REDUCE[:4] + [Sample(T((0, 3)), 1), Sample(T((2, 0, 3)), (0, 2), keepdim=True)],
        ),
        OpInfo(
            "amax_ties",
            lambda m, x, d: x.amax(d),
            [Sample(V([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]]), 1)],
            gradgrad=False,
            note="the derivative jumps at a tie",
        ),
        OpInfo(
            "amin",
            lambda m, x, *dim, **kw: x.amin(*dim, **kw),
            REDUCE[:4] + [Sample(T((0, 3)), -1)],
        ),
        OpInfo("max_all", lambda m, x: x.max(), [Sample(T((3, 4)))]),
        OpInfo(
            "max_all_ties",
            lambda m, x: x.max(),
            [Sample(V([1.0, 3.0, 3.0]))],
            gradgrad=False,
            note="the derivative jumps at a tie",
        ),
        OpInfo(
            "max_dim",
            lambda m, x, d, **kw: x.max(d, **kw),
            [
                Sample(T((3, 4)), 1),
                Sample(T((2, 3, 4)), 0, keepdim=True),
                Sample(T((0, 3)), 1),
            ],
        ),
        OpInfo("min_dim", lambda m, x, d: x.min(d), [Sample(T((3, 4)), -1)]),
        OpInfo(
            "var",
            lambda m, x, *dim, **kw: x.var(*dim, **kw),
            [
                Sample(T((3, 4))),
                Sample(T((3, 4)), 1),
                Sample(T((3, 4)), 0, correction=0, keepdim=True),
            ],
        ),
        OpInfo(
            "std",
            lambda m, x, *dim, **kw: x.std(*dim, **kw),
            [Sample(T((3, 4))), Sample(T((3, 4)), 1, correction=0)],
        ),
        OpInfo(
            "logsumexp",
            lambda m, x, d, **kw: x.logsumexp(d, **kw),
            [
                Sample(T((3, 4)), 1),
                Sample(T((2, 3, 4)), (0, 2), keepdim=True),
                Sample(V([1000.0, 1000.5, -3.0]), 0),
                Sample(T((0, 3)), 1),
                Sample(T(()), 0),
            ],
        ),
        OpInfo(
            "norm",
            lambda m, x, *a, **kw: x.norm(*a, **kw),
            [
                Sample(T((3, 4))),
                Sample(T((3, 4)), dim=1),
                Sample(T((3, 4), away=KINKS), p=1, dim=0),
                Sample(T((3, 4)), p=float("inf"), dim=1),
                Sample(T((3, 4), away=KINKS), p=3, dim=1, keepdim=True),
                Sample(T((0, 3)), dim=1),
                Sample(T((2, 0))),
            ],
        ),
        OpInfo(
            "sort",
            lambda m, x, **kw: x.sort(**kw),
            [
                Sample(T((3, 4))),
                Sample(T((3, 4)), dim=0, descending=True),
                Sample(T((0, 3)), descending=True),
                Sample(T(())),
            ],
        ),
        OpInfo(
            "topk",
            lambda m, x, k, **kw: x.topk(k, **kw),
            [
                Sample(T((3, 5)), 2),
                Sample(T((4, 3)), 3, dim=0, largest=False),
                Sample(T((3, 5)), 0),
                Sample(T((0, 4)), 2),
            ],
        ),
        OpInfo(
            "cumsum",
            lambda m, x, d: x.cumsum(d),
            [
                Sample(T((3, 4)), 1),
                Sample(T((5,)), 0),
                Sample(T((4, 3), transposed=True), 0),
                Sample(T((0, 3)), 0),
                Sample(T((0, 3)), 1),
                Sample(T(()), 0),
            ],
        ),
        # shape and indexing
        OpInfo(
            "reshape",
            lambda m, x, *s: x.reshape(*s),
            [Sample(T((3, 4)), 2, -1), Sample(T((4, 3), transposed=True), 12), Sample(T(()), 1, 1)],
        ),
        OpInfo("view", lambda m, x: x.view(2, 6), [Sample(T((3, 4)))]),
        OpInfo("permute", lambda m, x: x.permute(2, 0, 1), [Sample(T((2, 3, 4)))]),
        OpInfo(
            "transpose", lambda m, x: x.transpose(0, -1), [Sample(T((2, 3, 4))), Sample(T((3, 4)))]
        ),
        OpInfo("T", lambda m, x: x.T, [Sample(T((3, 4)))]),
        OpInfo("mT", lambda m, x: x.mT, [Sample(T((2, 3, 4)))]),
        OpInfo("movedim", lambda m, x: m.movedim(x, 0, 2), [Sample(T((2, 3, 4)))]),
        OpInfo(
            "squeeze",
            lambda m, x, *d: x.squeeze(*d),
            [Sample(T((3, 1, 4))), Sample(T((3, 1, 1)), 1)],
        ),
        OpInfo(
            "unsqueeze",
            lambda m, x, d: x.unsqueeze(d),
            [Sample(T((3, 4)), 1), Sample(T((3, 4)), -1), Sample(T(()), 0)],
        ),
        OpInfo("expand", lambda m, x: x.expand(2, 3, 4), [Sample(T((3, 1))), Sample(T((1, 3, 4)))]),
        OpInfo("expand_keep", lambda m, x: x.expand(-1, 4), [Sample(T((3, 1)))]),
        OpInfo("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), [Sample(T((4,)))]),
        OpInfo(
            "flatten",
            lambda m, x, *a: x.flatten(*a),
            [Sample(T((2, 3, 4))), Sample(T((2, 3, 4)), 1)],
        ),
        OpInfo("unflatten", lambda m, x: x.unflatten(1, (2, 3)), [Sample(T((4, 6)))]),
        OpInfo("sum_to_size", lambda m, x: x.sum_to_size(3, 1), [Sample(T((2, 3, 4)))]),
        OpInfo("getitem_basic", lambda m, x: x[1, ::2, None, ...], [Sample(T((3, 4, 2)))]),
        OpInfo(
            "getitem_slice",
            lambda m, x: x[:, 1:3],
            [Sample(T((3, 4))), Sample(T((4, 3), transposed=True))],
        ),
        OpInfo("getitem_int", lambda m, x: x[-1], [Sample(T((3, 4)))]),
        OpInfo(
            "getitem_mask",
            lambda m, x, mask: x[mask],
            [
                Sample(T((2, 3)), Mask([[True, False, True], [False, True, True]])),
                Sample(T((2, 3)), Mask([True, False])),
            ],
        ),
        OpInfo(
            "getitem_index",
            lambda m, x, i: x[i],
            [Sample(T((4, 3)), Index([0, 2, 0, 3])), Sample(T((4, 3)), Index([[1, 1], [0, 3]]))],
        ),
        OpInfo(
            "getitem_int_then_index",
            lambda m, x, i: x[1, None, i],
            [Sample(T((3, 4)), Index([0, 3, 0]))],
            note="PyTorch selects with the int first; NumPy alone would move the dims",
        ),
        OpInfo(
            "getitem_index2",
            lambda m, x, i, j: x[i, j],
            [Sample(T((4, 3)), Index([0, 2, 0]), Index([1, 1, 1]))],
        ),
        OpInfo(
            "index_select",
            lambda m, x, i: x.index_select(1, i),
            [Sample(T((3, 4)), Index([3, 0, 3]))],
        ),
        OpInfo(
            "gather",
            lambda m, x, i: x.gather(1, i),
            [
                Sample(T((3, 4)), Index([[0, 0], [3, 1], [2, 2]])),
                Sample(T((3, 4)), Index([[0, 1, 2, 0]])),
            ],
        ),
        OpInfo(
            "scatter_add",
            lambda m, x, i, s: x.scatter_add(0, i, s),
            [
                Sample(T((3, 4)), Index([[0, 1, 2, 0], [0, 0, 1, 2]]), T((2, 4))),
            ],
        ),
        OpInfo(
            "scatter_add_big_src",
            lambda m, x, i, s: x.scatter_add(0, i, s),
            [
                Sample(T((3, 4)), Index([[2, 2]]), T((2, 3))),
            ],
            torch=False,
            note="PyTorch 2.13 rejects its own gradient when src is larger than index",
        ),
        OpInfo(
            "cat",
            lambda m, a, b, c: m.cat([a, b, c], 1),
            [
                Sample(T((2, 3)), T((2, 1)), T((2, 2))),
                Sample(T((2, 3)), T((2, 0)), T((2, 2))),
                Sample(T((2, 3)), T((0,)), T((2, 2))),  # a legacy empty tensor joins any shape
            ],
        ),
        OpInfo(
            "cat0",
            lambda m, a, b: m.cat([a, b]),
            [Sample(T((2, 3)), T((1, 3), grad=False)), Sample(T((0, 3)), T((2, 3)))],
        ),
        OpInfo("stack", lambda m, a, b: m.stack([a, b], -1), [Sample(T((2, 3)), T((2, 3)))]),
        OpInfo("split", lambda m, x: x.split([1, 3], 1), [Sample(T((2, 4)))]),
        OpInfo("chunk", lambda m, x: x.chunk(3, 0), [Sample(T((7, 2)))]),
        OpInfo("unbind", lambda m, x: x.unbind(1), [Sample(T((2, 3)))]),
        OpInfo(
            "pad",
            lambda m, x, p: F(m).pad(x, p, value=0.5),
            [
                Sample(T((2, 3)), (1, 2)),
                Sample(T((2, 3, 4)), (0, 1, 2, 0)),
                Sample(T((3, 4)), (-1, 1, 1, -1)),
            ],
        ),
        OpInfo(
            "inplace_on_view",
            lambda m, x, w: _inplace_on_view(x, lambda h: h[:, 1].mul_(w)),
            [Sample(T((2, 3)), T((2,))), Sample(T((2, 3)), T(()))],
        ),
        OpInfo(
            "inplace_on_view_of_view",
            lambda m, x, w: _inplace_on_view(x, lambda h: h.t()[1:].add_(w), square=True),
            [Sample(T((2, 3)), T((2, 1)))],
        ),
        OpInfo(
            "inplace_copy_into_view",
            lambda m, x, w: _inplace_on_view(x, lambda h: h.view(6)[::2].copy_(w), square=True),
            [Sample(T((2, 3)), T((3,)))],
        ),
        OpInfo(
            "inplace_on_view_of_no_grad_base",
            lambda m, w: _inplace_on_view(
                m.zeros(2, 3, dtype=w.dtype, device=w.device), lambda b: b[1].addcmul_(w, w)
            ),
            [Sample(T((3,)))],
        ),
        OpInfo(
            "narrow",
            lambda m, x, d, s, n: m.narrow(x, d, s, n),
            [
                Sample(T((3, 4)), 1, 1, 2),
                Sample(T((3, 4)), -2, -2, 2),
                Sample(T((2, 3, 4)), 2, 0, 0),
            ],
        ),
        OpInfo(
            "flip",
            lambda m, x, d: x.flip(d),
            [Sample(T((3, 4)), (0,)), Sample(T((2, 3, 4)), (0, 2))],
        ),
        OpInfo(
            "repeat",
            lambda m, x, *r: x.repeat(*r),
            [Sample(T((2, 3)), 2, 1), Sample(T((3,)), 2, 2)],
        ),
        OpInfo("tile", lambda m, x: x.tile((2,)), [Sample(T((2, 3)))]),
        OpInfo("tril", lambda m, x, *k: x.tril(*k), [Sample(T((3, 4))), Sample(T((2, 3, 3)), -1)]),
        OpInfo("triu", lambda m, x, *k: x.triu(*k), [Sample(T((3, 4)), 1)]),
        OpInfo("clone", lambda m, x: x.clone(), [Sample(T((3, 4)))]),
        OpInfo("contiguous", lambda m, x: x.contiguous(), [Sample(T((4, 3), transposed=True))]),
        # linear algebra
        OpInfo(
            "matmul",
            lambda m, a, b: a @ b,
            [
                Sample(T((3, 4)), T((4, 2))),
                Sample(T((4,)), T((4, 2))),
                Sample(T((3, 4)), T((4,))),
                Sample(T((4,)), T((4,))),
                Sample(T((2, 3, 4)), T((4, 5))),
                Sample(T((2, 1, 3, 4)), T((3, 4, 2))),
                Sample(T((3, 4)), T((2, 4, 2))),
                Sample(T((3, 4), transposed=True), T((4, 2), transposed=True)),
            ],
        ),
        OpInfo("outer", lambda m, a, b: m.outer(a, b), [Sample(T((3,)), T((4,)))]),
        OpInfo(
            "einsum",
            lambda m, eq, *xs: m.einsum(eq, *xs),
            [
                Sample("ij,jk->ik", T((2, 3)), T((3, 4))),
                Sample("bij,bjk->bik", T((2, 2, 3)), T((2, 3, 2))),
                Sample("i,j->ij", T((3,)), T((2,))),
                Sample("ij,k->i", T((2, 3)), T((4,))),
                Sample("ij->", T((2, 3))),
                Sample("ij,jk", T((2, 3)), T((3, 2))),
                Sample("...id,jd->...ij", T((2, 3, 4)), T((5, 4))),  # Performer's features
                Sample("...ij,...jk", T((2, 1, 3, 4)), T((3, 4, 2))),  # broadcast batch dims
            ],
        ),
    ]


FORWARD_ONLY = [
    OpInfo(
        "eq", lambda m, a, b: a == b, [Sample(V([1.0, 2.0, 3.0]), V([1.0, 0.0, 3.0]))], grad=False
    ),
    OpInfo("lt", lambda m, a, b: a < b, BINARY[:2], grad=False),
    OpInfo("ge_scalar", lambda m, a: a >= 0.5, UNARY[:1], grad=False),
    OpInfo(
        "floor_divide", lambda m, a, b: a // b, [Sample(T((3, 4), away=INTEGERS), 0.7)], grad=False
    ),
    OpInfo(
        "argmax",
        lambda m, x, *d, **kw: x.argmax(*d, **kw),
        [
            Sample(T((3, 4))),
            Sample(T((3, 4)), 1, keepdim=True),
            Sample(T((0, 3)), 1),
            Sample(T((2, 0, 3)), -1, keepdim=True),
        ],
        grad=False,
    ),
    OpInfo(
        "argsort",
        lambda m, x, **kw: x.argsort(**kw),
        [Sample(T((3, 4))), Sample(T((3, 4)), dim=0, descending=True)],
        grad=False,
    ),
    OpInfo(
        "nonzero",
        lambda m, x: x.nonzero(),
        [Sample(Mask([[True, False, True], [False, False, True]]))],
        grad=False,
    ),
    OpInfo("argmin", lambda m, x, *d: x.argmin(*d), [Sample(T((3, 4)), 0)], grad=False),
    OpInfo(
        "logical_and",
        lambda m, a, b: m.logical_not(a) & b,
        [Sample(Mask([True, False, True]), Mask([True, True, False]))],
        grad=False,
    ),
    OpInfo("isfinite", lambda m, x: (x / x).isfinite(), [Sample(V([0.0, 1.0, 2.0]))], grad=False),
]

OP_DB = (
    _rows()
    + op_db_nn.ROWS
    + op_db_conv_attn.ROWS
    + op_db_rnn.ROWS
    + op_db_layers.ROWS
    + FORWARD_ONLY
    + op_db_dtypes.ROWS
)

from . import op_db_extra  # noqa: E402 - issue 12's tensor ops and minigrad.linalg

OP_DB += op_db_extra.ROWS + op_db_extra.FORWARD_ONLY

from . import op_db_more  # noqa: E402 - functions found missing by running PyTorch programs

OP_DB += op_db_more.ROWS + op_db_more.FORWARD_ONLY

# Op classes with no row here, and the test that checks them instead.
EXEMPT = {
    "Cast": "tests/test_tensor.py::test_cast_gradient (float64 finite differences cannot see a cast)",
    "ToDevice": "tests/test_devices.py::test_gradient_crosses_devices (needs two devices)",
    "JoinChunks": "tests/test_windows_phases.py::test_chunks_join_into_one_result (only "
    "convolution results above SCRATCH_BYTES take it; its backward is Cat's)",
    "LastWrites": "tests/test_programs17_fixes.py::test_every_write_of_a_repeated_index_gets_"
    "its_places_gradient (a repeated index's overwritten writes get PyTorch's gradient, which "
    "finite differences, seeing no change, cannot confirm)",
}

from . import op_db_layers2  # noqa: E402 - branch layers2: activations, alpha dropout, norms

OP_DB += op_db_layers2.ROWS

from . import op_db_losses2  # noqa: E402 - branch losses2: CTC, margin and hinge losses

OP_DB += op_db_losses2.ROWS

from . import op_db_spatial  # noqa: E402 - branch spatial: 3-D conv/pooling, unpool, grid_sample

OP_DB += op_db_spatial.ROWS

from . import op_db_special  # noqa: E402 - branch special: the special functions

OP_DB += op_db_special.ROWS + op_db_special.FORWARD_ONLY

from . import op_db_methods  # noqa: E402 - branch methods: the methods PyTorch programs use

OP_DB += op_db_methods.ROWS + op_db_methods.FORWARD_ONLY

from . import op_db_sparse  # noqa: E402 - branch sparse: sparse COO tensors

OP_DB += op_db_sparse.ROWS

from . import op_db_linalg2  # noqa: E402 - branch linalg2: LU, Householder products, cond, ...

OP_DB += op_db_linalg2.ROWS + op_db_linalg2.FORWARD_ONLY

from . import op_db_surface  # noqa: E402 - branch surface: gradient, as_strided, *_copy, ATen forms

OP_DB += op_db_surface.ROWS + op_db_surface.FORWARD_ONLY

from . import op_db_special2  # noqa: E402 - branch special2: Bessel, polynomials, zeta, igamma

OP_DB += op_db_special2.ROWS + op_db_special2.FORWARD_ONLY

from . import op_db_nested  # noqa: E402 - branch nested: nested tensors (minigrad.nested)

OP_DB += op_db_nested.ROWS

from . import op_db_quant  # noqa: E402 - branch quant: fake quantization

OP_DB += op_db_quant.ROWS
EXEMPT.update(op_db_quant.EXEMPT)
from . import op_db_sparse_compressed  # noqa: E402 - branch sparse2: CSR, CSC, BSR, BSC

OP_DB += op_db_sparse_compressed.ROWS

from . import op_db_widen  # noqa: E402 - edges15: methods, linalg and real FFTs the sweep missed

OP_DB += op_db_widen.ROWS + op_db_widen.FORWARD_ONLY
