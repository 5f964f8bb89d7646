"""Sparse COO tensors (minigrad.sparse): construction, layout and repr, the ops that take
them and the refusal of the rest, gradients (compared with PyTorch), sparse Embedding
gradients and the optimizers that take them (compared with torch.optim step by step)."""

import copy
import pickle

import numpy as np
import pytest

import minigrad
from minigrad import nn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")

IDX = [[0, 1, 1, 0], [2, 0, 2, 2]]  # (0, 2) twice: uncoalesced
VALS = [3.0, 4.0, 5.0, 1.5]


def both(fn):
    """``fn`` run on minigrad and on torch."""
    return fn(minigrad), fn(torch)


def sparse(m, values=VALS, size=(2, 3), **kw):
    return m.sparse_coo_tensor(m.tensor(IDX), m.tensor(values, **kw), size)


def same_repr(ours, theirs):
    assert repr(ours) == repr(theirs).replace("torch.", "minigrad.")


def close(a, b, tol=1e-6):
    a = a.to_dense() if a.is_sparse else a
    b = b.to_dense() if b.is_sparse else b
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


# -- construction and metadata ------------------------------------------------------------------
def test_construction_metadata_and_repr_as_torch():
    ours, theirs = both(sparse)
    same_repr(ours, theirs)
    assert (
        ours.is_sparse
        and ours.layout is minigrad.sparse_coo
        and minigrad.ones(1).is_sparse is False
    )
    assert (ours.shape, ours.dtype, ours.ndim, ours._nnz()) == ((2, 3), minigrad.float32, 2, 4)
    assert (ours.sparse_dim(), ours.dense_dim(), ours.is_coalesced()) == (2, 0, False)
    same_repr(ours.coalesce(), theirs.coalesce())
    assert ours.coalesce().is_coalesced() and ours.coalesce().coalesce()._nnz() == 3
    close(ours, theirs)
    with pytest.raises(RuntimeError, match="uncoalesced"):
        ours.indices()
    with pytest.raises(RuntimeError, match="uncoalesced"):
        ours.values()
    assert ours._indices().tolist() == IDX and ours._values().tolist() == VALS


def test_reprs_of_hybrid_empty_float64_and_requires_grad_tensors():
    def cases(m):
        hybrid = m.sparse_coo_tensor(m.tensor([[0, 2]]), m.ones(2, 3), (4, 3))
        empty = m.sparse_coo_tensor(m.zeros(2, 0, dtype=m.int64), m.zeros(0), (2, 2))
        leaf = m.sparse_coo_tensor(m.tensor(IDX), m.tensor(VALS), (2, 3), requires_grad=True)
        wide = sparse(m, dtype=m.float64)
        return hybrid, empty, leaf, wide, m.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse()

    for ours, theirs in zip(*both(cases)):
        same_repr(ours, theirs)
        assert ours.sparse_dim() == theirs.sparse_dim() and ours.dense_dim() == theirs.dense_dim()


def test_inferred_size_legacy_constructor_and_construction_errors():
    assert minigrad.sparse_coo_tensor(IDX, VALS).shape == (2, 3)
    legacy = minigrad.sparse.FloatTensor(minigrad.tensor(IDX), minigrad.tensor(VALS), (2, 3))
    assert legacy.dtype is minigrad.float32 and legacy.to_dense().sum().item() == 13.5
    with pytest.raises(RuntimeError, match="size is inconsistent with indices"):
        minigrad.sparse_coo_tensor(IDX, VALS, (2, 2))
    with pytest.raises(RuntimeError, match="number of indices and values must match"):
        minigrad.sparse_coo_tensor(IDX, VALS[:3], (2, 3))
    with pytest.raises(RuntimeError, match="sparse_dim"):
        minigrad.sparse_coo_tensor(IDX, VALS, (2, 3, 4))


def test_to_sparse_round_trip_and_hybrid_to_sparse():
    dense = minigrad.tensor([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]])
    ours = dense.to_sparse()
    assert ours.is_coalesced() and ours.to_dense().tolist() == dense.tolist()
    assert dense.to_sparse_coo().indices().tolist() == [[0, 1, 1], [1, 0, 2]]
    same_repr(
        minigrad.tensor([[0.0, 0], [1, 2]]).to_sparse(1),
        torch.tensor([[0.0, 0], [1, 2]]).to_sparse(1),
    )
    assert dense.to_dense() is dense


def test_device_dtype_clone_copy_and_pickle():
    s = sparse(minigrad)
    moved = s.to("fakegpu")
    assert moved.is_sparse and moved.device.type == "fakegpu"
    assert moved.to("cpu").to_dense().tolist() == s.to_dense().tolist()
    assert s.double().dtype is minigrad.float64 and s.double().is_sparse
    for other in (s.clone(), copy.deepcopy(s), pickle.loads(pickle.dumps(s))):
        assert other.is_sparse and other.to_dense().tolist() == s.to_dense().tolist()


def test_save_numpy_and_dense_ops_refuse_sparse_tensors_by_name():
    s = sparse(minigrad)
    with pytest.raises(TypeError, match="Sparse layout tensor to numpy"):
        s.numpy()
    with pytest.raises(NotImplementedError, match="^Exp: .*sparse COO"):
        s.exp()
    with pytest.raises(NotImplementedError, match="^Reshape: .*sparse COO"):
        s.view(-1)
    with pytest.raises(NotImplementedError, match="sparse"):
        minigrad.nn.functional.softplus(s)  # (relu runs on sparse values since sparse2)


def test_dense_errors_are_unchanged_by_the_sparse_fallback():
    with pytest.raises(TypeError):  # a dense op's own TypeError passes through
        minigrad.ones(2) + "x"
    assert minigrad.ops.base.sparse_rules  # rules are looked up only after a forward fails


# -- arithmetic ---------------------------------------------------------------------------------
def test_arithmetic_as_torch():
    def run(m):
        s, d = sparse(m), m.arange(6.0).reshape(2, 3)
        return s * 2, 3 * s, s / 2, -s, s + s, s - s.coalesce(), d + s, d - s, d * s, s.t()

    for ours, theirs in zip(*both(run)):
        assert ours.is_sparse == theirs.is_sparse
        close(ours, theirs)
    a, b = sparse(minigrad).coalesce(), sparse(minigrad).coalesce()
    assert (a + b).is_coalesced() and not (sparse(minigrad) + a).is_coalesced()


def test_sparse_plus_dense_raises_as_torch():
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        sparse(minigrad) + minigrad.ones(2, 3)
    with pytest.raises(NotImplementedError, match="two sparse"):
        sparse(minigrad) * sparse(minigrad)


def test_products_sums_and_softmax_as_torch():
    def run(m):
        s, d = sparse(m, dtype=m.float64), m.arange(6.0, dtype=m.float64).reshape(3, 2) - 2
        vec = m.tensor([1.0, -2.0, 0.5], dtype=m.float64)
        sc = s.coalesce()
        return (
            m.sparse.mm(s, d), m.spmm(s, d), m.mm(s, d), s @ d, s @ vec, s.matmul(d),
            m.mm(d, s), m.sparse.addmm(m.ones(2, 2, dtype=m.float64), s, d, beta=0.5, alpha=2),
            m.sparse.sum(s), m.sparse.sum(s, 0), m.sparse.sum(s, dim=1), s.sum(),
            m.sparse.softmax(sc, 1), m.sparse.log_softmax(sc, 0), m.sparse.softmax(sc, 0),
        )  # fmt: skip

    for ours, theirs in zip(*both(run)):
        assert ours.is_sparse == theirs.is_sparse
        close(ours, theirs, 1e-12)


# -- autograd -----------------------------------------------------------------------------------
@pytest.mark.parametrize("product", ["sparse.mm", "mm", "spmm", "matmul"])
def test_gradients_of_values_and_dense_operand_as_torch(product):
    def run(m):
        v = m.tensor(VALS, dtype=m.float64, requires_grad=True)
        d = (m.arange(6.0, dtype=m.float64).reshape(3, 2) / 3).requires_grad_()
        s = m.sparse_coo_tensor(m.tensor(IDX), v, (2, 3))
        fn = {"sparse.mm": m.sparse.mm, "mm": m.mm, "spmm": m.spmm, "matmul": m.matmul}[product]
        (fn(s, d) * m.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=m.float64)).sum().backward()
        leaf = m.sparse_coo_tensor(m.tensor(IDX), v.detach(), (2, 3), requires_grad=True)
        fn(leaf, d.detach()).pow(2).sum().backward()
        return v.grad, d.grad, leaf.grad

    ours, theirs = both(run)
    for a, b in zip(ours, theirs):
        assert a.is_sparse == b.is_sparse  # sparse.mm keeps the pattern; mm gives a dense grad
        close(a, b, 1e-12)


def test_to_dense_and_values_backward_give_sparse_gradients():
    def run(m):
        leaf = m.sparse_coo_tensor(m.tensor(IDX), m.tensor(VALS), (2, 3), requires_grad=True)
        (leaf.to_dense() * m.arange(6.0).reshape(2, 3)).sum().backward()
        return leaf.grad

    ours, theirs = both(run)
    same_repr(ours, theirs)


def test_gradcheck_and_gradgradcheck_through_sparse_ops():
    d = minigrad.randn(3, 2, dtype=minigrad.float64, requires_grad=True)
    v = minigrad.randn(4, dtype=minigrad.float64, requires_grad=True)

    def f(values, dense):
        s = minigrad.sparse_coo_tensor(minigrad.tensor(IDX), values, (2, 3))
        out = minigrad.spmm(s, dense) + minigrad.sparse.mm(s.coalesce() * 2.0, dense).tanh()
        return out + minigrad.sparse.softmax(s.coalesce(), 1).to_dense().sum()

    assert minigrad.autograd.gradcheck(f, (v, d))
    assert minigrad.autograd.gradgradcheck(f, (v, d))


def test_gradcheck_takes_sparse_inputs_and_outputs():
    leaf = minigrad.sparse_coo_tensor(IDX, VALS, (2, 3), dtype=minigrad.float64).requires_grad_()
    d = minigrad.randn(3, 2, dtype=minigrad.float64, requires_grad=True)
    assert minigrad.autograd.gradcheck(lambda s, x: minigrad.sparse.mm(s, x).sin(), (leaf, d))
    assert minigrad.autograd.gradcheck(lambda s: s * 3.0, (leaf,))  # a sparse output
    assert minigrad.autograd.gradgradcheck(lambda s, x: (s @ x) ** 2, (leaf, d))


# -- sparse gradients: Embedding, accumulation, optimizers ---------------------------------------
def _embedding(m, **kw):
    e = m.nn.Embedding(6, 3, sparse=True, **kw)
    with m.no_grad():
        e.weight.copy_(m.tensor(np.arange(18.0).reshape(6, 3) / 7 - 1, dtype=m.float32))
    return e


def test_embedding_sparse_with_scale_grad_by_freq_raises_as_torch():
    for m in (minigrad, torch):
        out = _embedding(m, scale_grad_by_freq=True)(m.tensor([1, 1])).sum()
        with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse"):
            out.backward()


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 1}])
def test_embedding_sparse_gradient_as_torch(kw):
    def run(m):
        e = _embedding(m, **kw)
        (e(m.tensor([[1, 2], [1, 4]])) ** 2).sum().backward()
        return e.weight.grad

    ours, theirs = both(run)
    same_repr(ours, theirs)
    out = minigrad.nn.functional.embedding(
        minigrad.tensor([0]), _embedding(minigrad).weight, sparse=True
    )
    out.sum().backward()


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}])
def test_embedding_bag_sparse_gradient_as_torch(mode, kw):
    def run(m):
        bag = m.nn.EmbeddingBag(6, 3, mode=mode, sparse=True, **kw)
        with m.no_grad():
            bag.weight.copy_(_embedding(m).weight)
        out = bag(m.tensor([1, 2, 4, 1, 5]), m.tensor([0, 2]))
        (out * m.tensor([[1.0, 2, 3], [-1, 0.5, 2]])).sum().backward()
        return bag.weight.grad

    ours, theirs = both(run)
    same_repr(ours, theirs)
    with pytest.raises(ValueError, match="max mode does not support sparse weights"):
        minigrad.nn.EmbeddingBag(6, 3, mode="max", sparse=True)(minigrad.tensor([[1, 2]]))


def test_sparse_gradients_accumulate_and_mix_with_dense_ones():
    def run(m):
        e = _embedding(m)
        e(m.tensor([1, 3])).sum().backward()
        e(m.tensor([1])).sum().backward()
        sparse_sum = e.weight.grad
        (e(m.tensor([0])).sum() + e.weight.sum()).backward()  # dense + sparse: dense
        return sparse_sum, e.weight.grad

    (s_ours, d_ours), (s_theirs, d_theirs) = both(run)
    assert s_ours.is_sparse and s_ours._nnz() == s_theirs._nnz() == 3
    close(s_ours, s_theirs)
    assert not d_ours.is_sparse and not d_theirs.is_sparse
    close(d_ours, d_theirs)
    e = _embedding(minigrad)
    w = e.weight
    (e(minigrad.tensor([2])).sum() + (w * w).sum()).backward()  # two grads into one buffer
    expected = 2 * w.detach().to_dense()
    expected[2] += 1
    close(w.grad, expected)


def test_zero_grad_of_sparse_gradients():
    def run(m):
        e = _embedding(m)
        e(m.tensor([1, 3])).sum().backward()
        m.optim.SGD(e.parameters(), lr=0.1).zero_grad(set_to_none=False)
        return e.weight.grad

    ours, theirs = both(run)
    assert ours._nnz() == 0
    same_repr(ours, theirs)


OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, maximize=True)),
    ("SparseAdam", dict(lr=0.1)),
    ("SparseAdam", dict(lr=0.05, betas=(0.8, 0.9), maximize=True)),
]


@pytest.mark.parametrize(
    "name,kw", OPTIMIZERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZERS)]
)
def test_optimizers_with_sparse_gradients_step_by_step_as_torch(name, kw):
    def run(m):
        e = _embedding(m)
        opt = getattr(m.optim, name)(e.parameters(), **kw)
        weights = []
        for t in range(4):
            opt.zero_grad()
            (e(m.tensor([[1, 2, 1], [4, 1, 0]][t % 2])) ** 2).sum().backward()
            opt.step()
            weights.append(e.weight.detach().numpy().copy())
        return weights

    for a, b in zip(*both(run)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "name", ["Adam", "AdamW", "RMSprop", "Adadelta", "NAdam", "RAdam", "Adamax", "ASGD", "Rprop"]
)
def test_optimizers_that_refuse_sparse_gradients_raise_torchs_error(name):
    messages = []
    for m in (minigrad, torch):
        e = _embedding(m)
        e(m.tensor([1])).sum().backward()
        with pytest.raises(RuntimeError) as info:
            getattr(m.optim, name)(e.parameters()).step()
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize(
    "name,kw,match",
    [
        ("SGD", dict(lr=0.1, weight_decay=0.1), r"add\(sparse, dense\) is not supported"),
        ("Adagrad", dict(weight_decay=0.1), "weight_decay option is not compatible"),
    ],
)
def test_weight_decay_with_sparse_gradients_raises_as_torch(name, kw, match):
    for m in (minigrad, torch):
        e = _embedding(m)
        e(m.tensor([1])).sum().backward()
        with pytest.raises(RuntimeError, match=match):
            getattr(m.optim, name)(e.parameters(), **kw).step()


def test_sparse_adam_refuses_dense_gradients_and_bad_settings():
    lin = nn.Linear(2, 2)
    lin(minigrad.ones(1, 2)).sum().backward()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
        minigrad.optim.SparseAdam(lin.parameters()).step()
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        minigrad.optim.SparseAdam(lin.parameters(), betas=(0.9, 1.0))


def test_clip_grad_norm_refuses_sparse_gradients_as_torch():
    for m in (minigrad, torch):
        e = _embedding(m)
        e(m.tensor([1])).sum().backward()
        with pytest.raises(NotImplementedError):
            m.nn.utils.clip_grad_norm_(e.parameters(), 1.0)


def test_spmm_on_the_stand_in_gpu_device():
    s = sparse(minigrad, dtype=minigrad.float64).to("fakegpu")
    d = minigrad.ones(3, 2, dtype=minigrad.float64, device="fakegpu", requires_grad=True)
    out = minigrad.spmm(s, d)
    out.sum().backward()
    assert out.device.type == "fakegpu" and out.to("cpu").tolist() == [[4.5, 4.5], [9.0, 9.0]]
    assert d.grad.to("cpu").tolist() == [[4.0, 4.0], [0.0, 0.0], [9.5, 9.5]]


@pytest.mark.parametrize("name,kw", [("SparseAdam", {}), ("SGD", dict(lr=0.1, momentum=0.9))])
def test_optimizer_state_dict_round_trip_with_sparse_gradients(name, kw):
    def steps(e, opt, ids):
        for i in ids:
            opt.zero_grad()
            (e(minigrad.tensor([i, 2])) ** 2).sum().backward()
            opt.step()

    e = _embedding(minigrad)
    opt = getattr(minigrad.optim, name)(e.parameters(), **kw)
    steps(e, opt, [1, 3, 1])
    other = _embedding(minigrad)
    first = getattr(minigrad.optim, name)(other.parameters(), **kw)
    steps(other, first, [1])
    resumed = getattr(minigrad.optim, name)(other.parameters(), **kw)
    resumed.load_state_dict(first.state_dict())
    steps(other, resumed, [3, 1])
    close(other.weight, e.weight)
