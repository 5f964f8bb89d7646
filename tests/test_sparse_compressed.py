"""Sparse compressed tensors (CSR, CSC, BSR, BSC) against PyTorch: construction and its
errors, conversions between layouts, repr, products and their gradients."""

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:.*[Ss]parse:UserWarning")

A = [[0.0, 2.0, 0.0, 1.0], [3.0, 0.0, 4.0, 0.0]]
B = [[1.0, 0.0], [0.0, 0.0], [5.0, 6.0], [0.0, 1.0]]
BATCH = [[[1.0, 0.0], [0.0, 2.0]], [[0.0, 2.0], [3.0, 0.0]]]


def _same(fn):
    """Run ``fn`` with torch and minigrad; both results (or both errors: minigrad's of torch's
    type or a subclass, such as backend.DimensionError for a RuntimeError) must agree."""
    results = []
    for lib in (torch, minigrad):
        try:
            results.append(fn(lib))
        except Exception as e:  # (the error itself is compared)
            results.append(e)
    t, m = results
    if isinstance(t, Exception):
        assert isinstance(m, Exception), f"torch raised {t!r}, minigrad gave {m!r}"
        assert isinstance(m, type(t)) and str(m).replace("minigrad.", "torch.") == str(t)
        return
    assert not isinstance(m, Exception), f"minigrad raised {m!r}; torch gave {t!r}"
    _compare(t, m)


def _compare(t, m):
    if isinstance(t, (tuple, list)):
        assert len(t) == len(m)
        for a, b in zip(t, m):
            _compare(a, b)
    elif isinstance(t, torch.Tensor):
        assert repr(m).replace("minigrad.", "torch.") == repr(t)
        if t.layout is torch.strided:
            np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-6)
    else:
        assert t == m


CONVERSIONS = {
    "csr": lambda L: L.tensor(A).to_sparse_csr(),
    "csc": lambda L: L.tensor(A).to_sparse_csc(),
    "bsr": lambda L: L.tensor(A).to_sparse_bsr((1, 2)),
    "bsc": lambda L: L.tensor(A).to_sparse_bsc((2, 2)),
    "bsr_int": lambda L: L.tensor(A).to_sparse_bsr(2),
    "csr_to_coo": lambda L: L.tensor(A).to_sparse_csr().to_sparse(),
    "csc_to_coo": lambda L: L.tensor(A).to_sparse_csc().to_sparse_coo(),
    "bsr_to_coo": lambda L: L.tensor(A).to_sparse_bsr((1, 2)).to_sparse(),
    "csr_to_csc": lambda L: L.tensor(A).to_sparse_csr().to_sparse_csc(),
    "csc_to_csr": lambda L: L.tensor(A).to_sparse_csc().to_sparse_csr(),
    "csr_to_bsr": lambda L: L.tensor(A).to_sparse_csr().to_sparse_bsr((1, 2)),
    "csr_to_bsc": lambda L: L.tensor(A).to_sparse_csr().to_sparse_bsc((2, 2)),
    "bsr_to_bsc": lambda L: L.tensor(A).to_sparse_bsr((1, 2)).to_sparse_bsc((1, 2)),
    "bsr_to_csr": lambda L: L.tensor(A).to_sparse_bsr((1, 2)).to_sparse_csr(),
    "bsr_blocksize": lambda L: L.tensor(A).to_sparse_bsr((1, 2)).to_sparse_bsr((1, 1)),
    "coo_to_csr": lambda L: L.tensor(A).to_sparse().to_sparse_csr(),
    "coo_to_bsc": lambda L: L.tensor(A).to_sparse().to_sparse_bsc(2),
    "coo3_to_csr": lambda L: L.ones(2, 3, 4).to_sparse().to_sparse_csr(),
    "layout": lambda L: L.tensor(A).to_sparse(layout=L.sparse_bsr, blocksize=(1, 2)),
    "layout_no_block": lambda L: L.tensor(A).to_sparse(layout=L.sparse_bsr),
    "layout_block": lambda L: L.tensor(A).to_sparse(layout=L.sparse_csr, blocksize=(1, 2)),
    "indivisible": lambda L: L.tensor(A).to_sparse_bsr((3, 2)),
    "batch": lambda L: L.tensor(BATCH).to_sparse_csr(),
    "batch_dense": lambda L: L.tensor(BATCH).to_sparse_csc().to_dense(),
    "batch_counts": lambda L: L.tensor([[[1.0, 0], [0, 0]], [[0, 2], [3, 0]]]).to_sparse_csr(),
    "hybrid": lambda L: L.tensor(BATCH).to_sparse_csr(dense_dim=1),
    "hybrid_dense": lambda L: L.tensor(BATCH).to_sparse_bsr((1, 2), dense_dim=1).to_dense(),
    "dense_dim_range": lambda L: L.ones(3, 2).to_sparse_csr(dense_dim=1),
    "to_dense": lambda L: L.tensor(A).to_sparse_bsc((2, 2)).to_dense(),
    "to_dense_dtype": lambda L: L.tensor(A).to_sparse_csr().to_dense(L.float64),
    "to_dense_masked_grad": lambda L: L.tensor(A).to_sparse_csr().to_dense(masked_grad=True),
    "t": lambda L: L.tensor(A).to_sparse_csr().t(),
    "bsr_t": lambda L: L.tensor(A).to_sparse_bsr((1, 2)).t(),
    "bsr_t_dense": lambda L: L.tensor(A).to_sparse_bsr((1, 2)).t().to_dense(),
    "mul": lambda L: L.tensor(A).to_sparse_csr() * 2,
    "neg": lambda L: -L.tensor(A).to_sparse_bsr(2),
    "sum": lambda L: L.tensor(A).to_sparse_csr().sum(),
    "sum_dtype": lambda L: L.tensor(A).to_sparse_csr().sum(dtype=L.float64),
    "sum_rows": lambda L: L.tensor(M).to_sparse_csr().sum(-1, keepdim=True),
    "sum_cols": lambda L: L.tensor(M).to_sparse_csr().sum(0, keepdim=True, dtype=L.float64),
    "sum_both": lambda L: L.tensor(M).to_sparse_csr().sum((0, 1), keepdim=True),
    "sum_csc": lambda L: L.tensor(M).to_sparse_csc().sum(1, keepdim=True),
    "sum_no_keepdim": lambda L: L.tensor(M).to_sparse_csr().sum(1),
    "double": lambda L: L.tensor(A).to_sparse_csr().double(),
    "clone": lambda L: L.tensor(A).to_sparse_csr().clone(),
    "add": lambda L: L.tensor(A).to_sparse_csr() + L.tensor(A).to_sparse_csr(),
    "dense_add": lambda L: L.ones(2, 4) + L.tensor(A).to_sparse_csr(),
    "crow": lambda L: L.tensor(A).to_sparse_csr().crow_indices(),
    "col": lambda L: L.tensor(A).to_sparse_bsr(2).col_indices(),
    "ccol": lambda L: L.tensor(A).to_sparse_csc().ccol_indices(),
    "row": lambda L: L.tensor(A).to_sparse_bsc(2).row_indices(),
    "row_of_csr": lambda L: L.tensor(A).to_sparse_csr().row_indices(),
    "crow_of_csc": lambda L: L.tensor(A).to_sparse_csc().crow_indices(),
    "indices_of_csr": lambda L: L.tensor(A).to_sparse_csr().indices(),
    "values": lambda L: L.tensor(A).to_sparse_bsr(2).values(),
    "dims": lambda L: [
        (s.sparse_dim(), s.dense_dim(), s._nnz(), s.is_sparse, s.is_sparse_csr)
        for s in [L.tensor(BATCH).to_sparse_csr(dense_dim=1)]
    ][0],  # fmt: skip
    "layouts": lambda L: str(L.tensor(A).to_sparse_bsc(2).layout).split(".")[1],
}


@pytest.mark.parametrize("name", sorted(CONVERSIONS))
def test_layouts_and_conversions(name):
    _same(CONVERSIONS[name])


def _t(L, v, **kw):
    return L.tensor(v, **kw)


CONSTRUCT = {
    "csr": lambda L: L.sparse_csr_tensor(_t(L, [0, 1, 3]), _t(L, [1, 0, 2]), _t(L, [1.0, 2, 3])),
    "csr_size": lambda L: L.sparse_csr_tensor([0, 1, 3], [1, 0, 2], [1.0, 2, 3], (2, 4)),
    "csr_lists": lambda L: L.sparse_csr_tensor([0, 1, 3], [1, 0, 2], [10, 20, 30]),
    "csr_grad": lambda L: L.sparse_csr_tensor(
        [0, 1, 3], [1, 0, 2], [1.0, 2, 3], dtype=L.float64, requires_grad=True
    ),
    "int32": lambda L: L.sparse_csr_tensor(
        _t(L, [0, 1, 3], dtype=L.int32), _t(L, [1, 0, 2], dtype=L.int32), [1.0, 2, 3], (2, 3)
    ).crow_indices(),
    "csc": lambda L: L.sparse_csc_tensor([0, 1, 3], [1, 0, 2], [1.0, 2, 3], (3, 2)),
    "bsr": lambda L: L.sparse_bsr_tensor([0, 1, 2], [1, 0], L.ones(2, 2, 2), (4, 4)),
    "bsc_infer": lambda L: L.sparse_bsc_tensor([0, 1, 2], [1, 0], L.ones(2, 2, 2)),
    "compressed": lambda L: L.sparse_compressed_tensor(
        [0, 1, 3], [1, 0, 2], [1.0, 2, 3], (3, 2), layout=L.sparse_csc
    ),
    "batched": lambda L: L.sparse_csr_tensor([[0, 1, 3]], [[1, 0, 2]], [[1.0, 2, 3]]),
    "empty": lambda L: L.sparse_csr_tensor(_t(L, [0, 0]), _t(L, [], dtype=L.int64), [], (1, 3)),
    # PyTorch's errors (it checks the invariants when asked; minigrad always does)
    "no_layout": lambda L: L.sparse_compressed_tensor([0, 1], [0], [1.0], (1, 1)),
    "coo_layout": lambda L: L.sparse_compressed_tensor([0, 1], [0], [1.0], layout=L.sparse_coo),
    "wrong_layout": lambda L: L.sparse_csr_tensor([0, 1], [0], [1.0], layout=L.sparse_csc),
    "ndim": lambda L: L.sparse_csr_tensor([[0, 1, 3]], [1, 0, 2], [1.0, 2, 3], (2, 3)),
    "scalar": lambda L: L.sparse_csr_tensor(_t(L, 3), _t(L, [1, 0, 2]), [1.0, 2, 3], (2, 3)),
    "nnz": lambda L: L.sparse_csr_tensor([0, 1, 3], [1, 0, 2, 3], [1.0, 2, 3], (2, 3)),
    "size_dims": lambda L: L.sparse_csr_tensor([0, 1, 3], [1, 0, 2], [1.0, 2, 3], (2, 3, 4)),
    "rows": lambda L: L.sparse_csr_tensor([0, 1, 3], [1, 0, 2], [1.0, 2, 3], (4, 3)),
    "col_range": lambda L: L.sparse_csr_tensor([0, 1, 3], [1, 0, 2], [1.0, 2, 3], (2, 2)),
    "first": lambda L: L.sparse_csc_tensor([1, 1, 3], [1, 0, 2], [1.0, 2, 3], (3, 2)),
    "last": lambda L: L.sparse_csr_tensor([0, 1, 2], [1, 0, 2], [1.0, 2, 3], (2, 3)),
    "steps": lambda L: L.sparse_csr_tensor([0, 3, 1, 3], [0, 1, 2], [1.0, 2, 3], (3, 3)),
    "sorted": lambda L: L.sparse_csr_tensor([0, 2, 3], [1, 1, 2], [1.0, 2, 3], (2, 3)),
    "batch_dims": lambda L: L.sparse_csr_tensor([[0, 1, 3]], [[1, 0, 2]], [[1.0, 2, 3]], (2, 2, 3)),
    "block_dims": lambda L: L.sparse_bsr_tensor([0, 1, 2], [1, 0], L.ones(2, 2), (4, 4)),
    "divisible": lambda L: L.sparse_bsr_tensor([0, 1, 2], [1, 0], L.ones(2, 2, 2), (4, 5)),
    "row_blocks": lambda L: L.sparse_bsr_tensor([0, 1, 2], [1, 0], L.ones(2, 2, 2), (6, 4)),
}


@pytest.mark.parametrize("name", sorted(CONSTRUCT))
def test_constructors(name):
    with torch.sparse.check_sparse_tensor_invariants():
        _same(CONSTRUCT[name])


def _values_and_dense(L, seed=0):
    rng = np.random.default_rng(seed)
    v = L.tensor(rng.standard_normal(3), dtype=L.float64, requires_grad=True)
    d = L.tensor(rng.standard_normal((3, 2)), dtype=L.float64, requires_grad=True)
    return v, d


def _csr(L, v):
    return L.sparse_csr_tensor(L.tensor([0, 1, 3]), L.tensor([1, 0, 2]), v, (2, 3))


PRODUCTS = {
    "matmul": lambda L, s, d: s @ d,
    "mm": lambda L, s, d: L.mm(s, d),
    "matmul_fn": lambda L, s, d: L.matmul(s, d[:, 0]),
    "addmm": lambda L, s, d: L.addmm(L.ones(2, 2, dtype=L.float64), s, d, beta=0.5, alpha=2),
    "sparse_mm": lambda L, s, d: L.sparse.mm(s, d),
    "sparse_addmm": lambda L, s, d: L.sparse.addmm(L.ones(2, 2, dtype=L.float64), s, d),
    "csc_mm": lambda L, s, d: s.to_sparse_csc() @ d,
    "dense_mm": lambda L, s, d: d @ s,
}


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_products_and_gradients(name):
    """Values, the values' gradient and the dense operand's gradient, as PyTorch's."""
    out = []
    for L in (torch, minigrad):
        v, d = _values_and_dense(L)
        y = PRODUCTS[name](L, _csr(L, v), d)
        g = L.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)), dtype=L.float64)
        y.backward(g)
        out.append([y.detach().numpy(), v.grad.numpy(), d.grad.numpy()])
    for a, b in zip(*out):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


LEAF = {
    "mm": lambda L, s, d: L.mm(s, d),
    "sparse_mm": lambda L, s, d: L.sparse.mm(s, d),
    "addmm": lambda L, s, d: L.addmm(L.zeros(2, 2, dtype=L.float64), s, d),
    "dense_mm": lambda L, s, d: d.t() @ s.t(),
    "vector_mm": lambda L, s, d: d[:2, 0] @ s,
    "to_dense": lambda L, s, d: s.to_dense() * 2,
    "to_csc": lambda L, s, d: s.to_sparse_csc().to_dense(),
    "csr_csr": lambda L, s, d: (s @ s.t().to_sparse_csr()).to_dense(),
    "sampled": lambda L, s, d: L.sparse.sampled_addmm(s, d[:2], d.t()).to_dense(),
}


@pytest.mark.parametrize("name", sorted(LEAF))
def test_leaf_gradient_layout(name):
    """A CSR leaf's gradient: dense from torch.mm/addmm/@, CSR of its pattern from sparse.mm,
    to_dense, conversions and sparse products, as PyTorch's."""
    fns = LEAF
    grads = []
    for L in (torch, minigrad):
        s = L.sparse_csr_tensor(
            [0, 1, 3], [1, 0, 2], [1.0, 2, 3], (2, 3), dtype=L.float64, requires_grad=True
        )
        d = L.tensor(np.arange(6.0).reshape(3, 2), dtype=L.float64)
        fns[name](L, s, d).sum().backward()
        grads.append(s.grad)
    _compare(*grads)
    np.testing.assert_allclose(grads[1].to_dense().numpy(), grads[0].to_dense().numpy())


SPARSE_PRODUCTS = {
    "csr_csr": lambda L: L.tensor(A).to_sparse_csr() @ L.tensor(B).to_sparse_csr(),
    "csr_csr_mm": lambda L: L.mm(L.tensor(A).to_sparse_csr(), L.tensor(B).to_sparse_csr()),
    "coo_coo": lambda L: L.mm(L.tensor(A).to_sparse(), L.tensor(B).to_sparse()),
    "coo_coo_sparse": lambda L: L.sparse.mm(L.tensor(A).to_sparse(), L.tensor(B).to_sparse()),
    "coalesced": lambda L: L.sparse.mm(
        L.tensor(A).to_sparse(), L.tensor(B).to_sparse()
    ).is_coalesced(),
    "empty": lambda L: L.zeros(2, 4).to_sparse_csr() @ L.tensor(B).to_sparse_csr(),
    "shapes": lambda L: L.tensor(A).to_sparse_csr() @ L.tensor(A).to_sparse_csr(),
    "bsr_mm": lambda L: L.mm(L.tensor(A).to_sparse_bsr((2, 2)), L.tensor(B)),
    "mv": lambda L: L.tensor(A).to_sparse_csc() @ L.tensor([1.0, 2, 3, 4]),
}


@pytest.mark.parametrize("name", sorted(SPARSE_PRODUCTS))
def test_sparse_products(name):
    _same(SPARSE_PRODUCTS[name])


def test_sparse_product_gradients():
    """COO x COO and CSR x CSR: the values' gradients as PyTorch's."""
    for to in ("to_sparse",):  # (PyTorch has no backward of CSR x CSR into a dense leaf)
        grads = []
        for L in (torch, minigrad):
            a = L.tensor(A, dtype=L.float64, requires_grad=True)
            b = L.tensor(B, dtype=L.float64, requires_grad=True)
            y = L.sparse.mm(getattr(a, to)(), getattr(b, to)()).to_dense()
            y.backward(L.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=L.float64))
            grads.append((a.grad.numpy(), b.grad.numpy()))
        for x, y in zip(*grads):
            np.testing.assert_allclose(y, x)


def test_conversion_gradients():
    """Dense -> BSR keeps whole blocks: their entries' gradients reach the dense tensor."""
    grads = []
    for L in (torch, minigrad):
        x = L.tensor(A, requires_grad=True)
        w = L.arange(8.0).reshape(2, 2, 2)
        (x.to_sparse_bsr((2, 2)).values() * w).sum().backward()
        y = L.tensor(A, requires_grad=True)
        (y.to_sparse_csr().to_sparse_csc().values() * L.arange(4.0)).sum().backward()
        grads.append((x.grad.numpy(), y.grad.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_allclose(b, a)


def test_gradcheck_through_values():
    v, d = _values_and_dense(minigrad)
    assert minigrad.autograd.gradcheck(lambda v, d: _csr(minigrad, v) @ d, (v, d))
    assert minigrad.autograd.gradgradcheck(lambda v, d: _csr(minigrad, v) @ d, (v, d))


def test_index_and_gradient_errors():
    """Errors where minigrad's message differs from PyTorch's wording (PyTorch writes "bot")."""
    t = minigrad.tensor
    with pytest.raises(RuntimeError, match="must have the same dtype, but got Float and Long"):
        minigrad.sparse_csr_tensor(t([0.0, 1]), t([0]), [1.0])
    with pytest.raises(RuntimeError, match="dtype must be Int or Long, but got Float"):
        minigrad.sparse_csr_tensor(t([0.0, 1]), t([0.0]), [1.0])
    with pytest.raises(RuntimeError, match="floating point"):
        minigrad.sparse_csr_tensor([0, 1], [0], [1], requires_grad=True)


def test_scalar_division_keeps_the_pattern():
    """(PyTorch has no CSR division; minigrad divides the values.)"""
    s = minigrad.tensor(A).to_sparse_csc() / 2
    assert s.layout is minigrad.sparse_csc
    np.testing.assert_allclose(s.to_dense().numpy(), np.array(A) / 2)


def test_unsupported_ops_refuse_by_name():
    s = minigrad.tensor(A).to_sparse_csr()
    with pytest.raises(NotImplementedError, match="sparse"):
        s.exp()
    with pytest.raises(TypeError, match="to_dense"):
        s.numpy()
    with pytest.raises(NotImplementedError, match="batch"):
        minigrad.tensor(BATCH).to_sparse_csr().to_sparse_csc()


# -- sparse results: sparse_mask, smm, hspmm, sspaddmm, sampled_addmm ---------------------------
M = [[0.0, 2.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [3.0, 0.0, 4.0, 0.0]]
N = [[1.0, 0.0], [3.0, 0.0], [5.0, 0.0], [7.0, 0.0]]
C = [[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]]


def _numbered(L):
    return L.arange(12.0).reshape(3, 4) + 1


MASKED = {
    "mask": lambda L: _numbered(L).sparse_mask(L.tensor(M).to_sparse()),
    "mask_uncoalesced": lambda L: L.ones(3, 4).sparse_mask(
        L.sparse_coo_tensor([[0, 0], [1, 1]], [1.0, 2], (3, 4))
    ),
    "mask_csr": lambda L: _numbered(L).sparse_mask(L.tensor(M).to_sparse_csr()),
    "mask_bsr": lambda L: L.ones(2, 4).sparse_mask(L.ones(2, 4).to_sparse_bsr(2)),
    "mask_sparse_self": lambda L: L.tensor(M).to_sparse().sparse_mask(L.tensor(M).to_sparse()),
    "mask_shape": lambda L: L.ones(2, 2).sparse_mask(L.tensor(M).to_sparse()),
    "smm": lambda L: L.smm(L.tensor(M).to_sparse(), L.tensor(N)),
    "smm_method": lambda L: L.tensor(M).to_sparse().smm(L.tensor(N)),
    "hspmm": lambda L: L.hspmm(L.tensor(M).to_sparse(), L.tensor(N)),
    "sspaddmm": lambda L: L.sspaddmm(
        L.tensor(C).to_sparse(), L.tensor(M).to_sparse(), L.tensor(N), beta=0.5, alpha=2
    ),
    "sspaddmm_method": lambda L: (
        L.tensor(C).to_sparse().sspaddmm(L.tensor(M).to_sparse(), L.tensor(N))
    ),
    "sampled_addmm": lambda L: L.sparse.sampled_addmm(
        L.tensor([[1.0, 0, 0], [0, 0, 2], [0, 1, 0]]).to_sparse_csr(),
        L.tensor(M),
        L.arange(12.0).reshape(4, 3),
        beta=0.5,
        alpha=2,
    ),  # fmt: skip
    "sampled_addmm_shapes": lambda L: L.sparse.sampled_addmm(
        L.ones(3, 3).to_sparse_csr(), L.tensor(M), L.tensor(N)
    ),
    "sampled_addmm_inner": lambda L: L.sparse.sampled_addmm(
        L.ones(3, 3).to_sparse_csr(), L.tensor(M), L.ones(2, 4)
    ),
}


@pytest.mark.parametrize("name", sorted(MASKED))
def test_sparse_results(name):
    _same(MASKED[name])


def test_sampled_addmm_gradients():
    grads = []
    for L in (torch, minigrad):
        rng = np.random.default_rng(3)
        v = L.tensor(rng.standard_normal(3), dtype=L.float64, requires_grad=True)
        a = L.tensor(rng.standard_normal((2, 4)), dtype=L.float64, requires_grad=True)
        b = L.tensor(rng.standard_normal((4, 3)), dtype=L.float64, requires_grad=True)
        y = L.sparse.sampled_addmm(_csr(L, v), a, b, beta=0.5, alpha=2.0).values()
        y.backward(L.tensor([1.0, -2.0, 0.5], dtype=L.float64))
        grads.append([t.grad.numpy() for t in (v, a, b)])
    for x, y in zip(*grads):
        np.testing.assert_allclose(y, x, rtol=1e-12)


@pytest.mark.parametrize("combo", ["ss", "ms"])  # (PyTorch fails on "sm")
def test_leaf_gradients_accumulate(combo):
    """sparse.mm twice keeps a CSR .grad; a dense gradient with a CSR one gives a dense one."""
    grads = []
    for L in (torch, minigrad):
        s = L.sparse_csr_tensor([0, 1, 3], [1, 0, 2], [1.0, 2, 3], (2, 3), requires_grad=True)
        for c in combo:
            (L.sparse.mm(s, L.ones(3, 2)) if c == "s" else L.mm(s, L.ones(3, 2))).sum().backward()
        grads.append(s.grad)
    _compare(*grads)
    np.testing.assert_allclose(grads[1].to_dense().numpy(), grads[0].to_dense().numpy())


# -- in place, pickling, the strided-only methods, products with dense tensors ------------------
def _pickled(x):
    import pickle

    return pickle.loads(pickle.dumps(x))


MORE = {
    "pickle": lambda L: _pickled(L.tensor(A).to_sparse_bsr(2)),
    "zero_csr": lambda L: L.tensor(A).to_sparse_csr().zero_(),
    "zero_coo": lambda L: L.tensor(A).to_sparse().zero_(),
    "zero_leaf": lambda L: L.tensor(A).to_sparse_csr().requires_grad_().zero_(),
    "stride": lambda L: L.tensor(A).to_sparse_csr().stride(),
    "is_contiguous": lambda L: L.tensor(A).to_sparse_csc().is_contiguous(),
    "csr_add_dense": lambda L: L.tensor(A).to_sparse_csr() + L.ones(2, 4),
    "csr_mul_dense": lambda L: L.tensor(A).to_sparse_csr() * L.arange(8.0).reshape(2, 4),
    "dense_mul_csr": lambda L: L.arange(8.0).reshape(2, 4) * L.tensor(A).to_sparse_csr(),
    "to_sparse_dim": lambda L: L.tensor(A).to_sparse_csr().to_sparse(1),
    "resize_grow": lambda L: L.tensor(A).to_sparse().sparse_resize_((3, 5), 2, 0),
    "resize_shrink": lambda L: L.tensor(A).to_sparse().sparse_resize_((2, 3), 2, 0),
    "resize_sparse_dims": lambda L: L.tensor(A).to_sparse().sparse_resize_((2, 4, 1), 3, 0),
    "resize_dense_dims": lambda L: L.tensor(A).to_sparse().sparse_resize_((2, 4, 1), 2, 1),
    "resize_len": lambda L: L.tensor(A).to_sparse().sparse_resize_((2, 4), 3, 0),
    "resize_clear": lambda L: L.tensor(A).to_sparse().sparse_resize_and_clear_((3, 5, 2), 1, 2),
    "resize_empty": lambda L: L.sparse_coo_tensor(
        L.zeros(2, 0, dtype=L.int64), L.zeros(0), (2, 2)
    ).sparse_resize_((3, 3, 3), 1, 2),
    "resize_leaf": lambda L: L.tensor(A).to_sparse().requires_grad_().sparse_resize_((3, 5), 2, 0),
}


@pytest.mark.parametrize("name", sorted(MORE))
def test_more_as_torch(name):
    _same(MORE[name])


def test_mul_by_dense_gradients():
    """The values' gradient as PyTorch's (whose backward to the dense factor fails); the dense
    factor's gradient is the upstream one at the sparse entries."""
    grads = []
    for L in (torch, minigrad):
        v, _ = _values_and_dense(L)
        w = L.tensor(np.arange(6.0).reshape(2, 3), dtype=L.float64, requires_grad=L is minigrad)
        (_csr(L, v) * w).values().backward(L.tensor([1.0, -1.0, 2.0], dtype=L.float64))
        grads.append(v.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0])
    values = v.detach().numpy()
    np.testing.assert_allclose(w.grad.numpy(), [[0, values[0], 0], [-values[1], 0, 2 * values[2]]])


def test_devices(device):
    """Every layout on each device: conversions, products and index arrays stay there."""
    x = minigrad.tensor(A, device=device)
    ones = minigrad.ones(4, 2, device=device)
    for s in (x.to_sparse_csr(), x.to_sparse_csc(), x.to_sparse_bsr(2), x.to_sparse_bsc((1, 2))):
        assert s.device == x.device and s.values().device == x.device
        np.testing.assert_allclose(s.to_dense().cpu().numpy(), A)
        np.testing.assert_allclose((s @ ones).cpu().numpy(), np.array(A) @ np.ones((4, 2)))
    c = minigrad.tensor(A).to_sparse_csr().to(device)
    assert c.crow_indices().device == x.device
    product = (c @ c.t().to_sparse_csr()).to_dense().cpu().numpy()
    np.testing.assert_allclose(product, np.array(A) @ np.array(A).T)
    sampled = minigrad.sparse.sampled_addmm(c, x[:, :3], minigrad.ones(3, 4, device=device))
    np.testing.assert_allclose(sampled.values().cpu().numpy(), [4.0, 3.0, 10.0, 11.0])


@pytest.mark.parametrize("seed", range(3))
def test_random_patterns(seed):
    """Matrices with empty rows, columns and batches: every layout's indices and values, and the
    dense form back, as PyTorch's."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 4, 6)) * (rng.random((3, 4, 6)) < 0.3)
    x[:, 1] = 0  # an empty row in every batch
    x[0, :, 1] = 0
    convert = {
        "csr": lambda t: t[0].to_sparse_csr(),
        "csc": lambda t: t[0].to_sparse_csc(),
        "bsr": lambda t: t[0].to_sparse_bsr((2, 3)),
        "bsc": lambda t: t[0].to_sparse_bsc((2, 2)),
        "coo_csr": lambda t: t[2].to_sparse().to_sparse_csr(),
        "csr_csc": lambda t: t[1].to_sparse_csr().to_sparse_csc(),
        "csr_bsr": lambda t: t[1].to_sparse_csr().to_sparse_bsr((1, 3)),
    }
    for fn in convert.values():
        out = [fn(L.tensor(x)) for L in (torch, minigrad)]
        _compare(*out)
        np.testing.assert_allclose(out[1].to_dense().numpy(), out[0].to_dense().numpy())
        np.testing.assert_allclose(out[1].to_sparse().to_dense().numpy(), out[0].to_dense().numpy())
    batched = (x[0] != 0) * (rng.random((3, 4, 6)) + 1)  # one pattern, so one nnz per batch
    for layout in ("to_sparse_csr", "to_sparse_csc"):
        _same(lambda L, layout=layout: getattr(L.tensor(batched), layout)())
        _same(lambda L, layout=layout: getattr(L.tensor(batched), layout)().to_dense())
    _same(lambda L: L.tensor(batched).to_sparse_bsr((2, 3)))
    _same(lambda L: L.tensor(batched).to_sparse_bsc((2, 2)).to_dense())


UNARY = ["abs", "sin", "tan", "tanh", "sqrt", "relu", "sign", "floor", "ceil", "round", "trunc",
         "expm1", "log1p", "asin", "atan", "sinh", "asinh", "atanh", "erf", "erfinv", "sgn"]  # fmt: skip
COMPOSED = ["frac", "deg2rad", "rad2deg"]  # (of the ops above, scalars and +: compressed only)
SIGNED = [[0.0, 0.5, 0.0, -1.25], [0.3, 0.0, -1.7, 0.0]]  # (no -0. results: printed as torch)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # (nan outside the domain)
@pytest.mark.parametrize("name", UNARY + COMPOSED)
def test_zero_preserving_elementwise(name):
    """f(0) = 0 ops run on the stored values, in every layout (COO coalesced first)."""
    _same(lambda L: getattr(L, name)(L.tensor(SIGNED).to_sparse_csr()))
    _same(lambda L: getattr(L, name)(L.tensor(SIGNED).to_sparse_bsc(2)))
    if name in COMPOSED:
        return
    _same(
        lambda L: getattr(L, name)(
            L.sparse_coo_tensor([[0, 0, 1], [1, 1, 0]], [0.2, 0.3, 0.4], (2, 2))
        )
    )


LIKE = {
    "zeros_like": lambda L: L.zeros_like(L.tensor(A).to_sparse_bsr(2)),
    "zeros_like_csr": lambda L: L.zeros_like(L.tensor(A).to_sparse_csr()),
    "full_like": lambda L: L.full_like(L.tensor(A).to_sparse_bsr(2), 5.0),
    "ones_like": lambda L: L.ones_like(L.tensor(A).to_sparse_csc(), dtype=L.float64),
    "ones_like_grad": lambda L: L.ones_like(L.tensor(A).to_sparse_csc(), requires_grad=True),
    "other_layout": lambda L: L.zeros_like(L.tensor(A).to_sparse_bsr(2), layout=L.strided),
    "randn_like": lambda L: L.randn_like(L.tensor(A).to_sparse_csr()).values().shape,
    "spmm": lambda L: L.spmm(L.tensor(A).to_sparse_csr(), L.ones(4, 2)),
}


@pytest.mark.parametrize("name", sorted(LIKE))
def test_like_factories(name):
    """*_like of a compressed tensor keeps its layout (zeros_like: no entries), as PyTorch."""
    _same(LIKE[name])


def test_gradcheck_takes_compressed_inputs():
    """A compressed input that requires grad is checked through its values, as PyTorch's
    gradcheck (masked=False) does; a compressed output is compared in its dense form."""
    s = minigrad.sparse_csr_tensor(
        [0, 1, 3], [1, 0, 2], [1.0, 2, 3], (2, 3), dtype=minigrad.float64, requires_grad=True
    )
    b = minigrad.sparse_bsr_tensor(
        [0, 1, 2], [1, 0], minigrad.randn(2, 1, 2, dtype=minigrad.float64), requires_grad=True
    )
    d = minigrad.randn(3, 2, dtype=minigrad.float64)
    assert minigrad.autograd.gradcheck(lambda s: s @ d, (s,))
    assert minigrad.autograd.gradgradcheck(lambda s: s @ d, (s,))
    assert minigrad.autograd.gradcheck(lambda s: s.to_sparse_csc(), (s,))
    assert minigrad.autograd.gradcheck(lambda b: b.t().to_dense() * 2, (b,))


def test_check_sparse_tensor_invariants_switch():
    """PyTorch's switch works as a context manager and decorator (minigrad always checks)."""
    results = []
    for L in (torch, minigrad):
        c = L.sparse.check_sparse_tensor_invariants
        states = [c.is_enabled()]
        with c():
            states.append(c.is_enabled())
            with c(enable=False):
                states.append(c.is_enabled())
        states.append(c.is_enabled())
        states.append(c()(c.is_enabled)())
        c.enable()
        states.append(c.is_enabled())
        c.disable()
        results.append(states)
    assert results[0] == results[1]
    with pytest.raises(RuntimeError, match="is not satisfied"):
        minigrad.sparse_csr_tensor([0, 1, 3], [1, 0, 5], [1.0, 2, 3], (2, 3))
