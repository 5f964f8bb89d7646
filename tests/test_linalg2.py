"""Branch linalg2: LinAlgError and the *_ex functions, LU's pivots and errors, Householder
products, the removed functions, randomized low-rank SVD/PCA, all against PyTorch. The
gradients are checked in the op table (minigrad/testing/op_db_linalg2.py)."""

import math
import warnings

import numpy as np
import pytest

import minigrad
from minigrad.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")


def _pair(a):
    return minigrad.tensor(a), torch.tensor(a)


def _same_error(fm, ft, a_np, *more):
    """Both raise the same exception type (minigrad's LinAlgError where torch's is)."""
    xm, xt = _pair(a_np)
    rest_m = [minigrad.tensor(x) for x in more]
    rest_t = [torch.tensor(x) for x in more]
    with pytest.raises(Exception) as et:
        ft(xt, *rest_t)
    with pytest.raises(Exception) as em:
        fm(xm, *rest_m)
    linalg_error = isinstance(et.value, torch.linalg.LinAlgError)
    assert isinstance(em.value, minigrad.linalg.LinAlgError) == linalg_error, em.value
    for base in (RuntimeError, NotImplementedError, ValueError, TypeError):
        assert isinstance(em.value, base) == isinstance(et.value, base), (em.value, et.value)
    return str(em.value), str(et.value)


SINGULAR = np.stack([np.eye(3), np.zeros((3, 3))])
NOT_PD = np.stack([np.eye(3), np.diag([1.0, -1.0, 1.0])])


def test_linalg_error_is_a_runtime_error_with_torch_messages():
    assert issubclass(minigrad.linalg.LinAlgError, RuntimeError)
    cases = [
        ("inv", SINGULAR),
        ("inverse", SINGULAR),
        ("cholesky", NOT_PD),
    ]
    for name, a in cases:
        fm = getattr(minigrad.linalg, name, None) or getattr(minigrad, name)
        ft = getattr(torch.linalg, name, None) or getattr(torch, name)
        ours, theirs = _same_error(fm, ft, a)
        assert ours.split(": ", 1)[1] == theirs.split(": ", 1)[1]
    ours, theirs = _same_error(minigrad.linalg.solve, torch.linalg.solve, SINGULAR, np.ones(3))
    assert ours == theirs


@pytest.mark.parametrize("name", ["inv_ex", "cholesky_ex", "solve_ex"])
def test_ex_functions_report_info(name):
    a = NOT_PD if name == "cholesky_ex" else SINGULAR
    args = (np.ones((2, 3)),) if name == "solve_ex" else ()
    fm, ft = getattr(minigrad.linalg, name), getattr(torch.linalg, name)
    rm = fm(*_pair(a)[:1], *[minigrad.tensor(x) for x in args])
    rt = ft(torch.tensor(a), *[torch.tensor(x) for x in args])
    assert type(rm).__name__ == type(rt).__name__ and rm._fields[-1] == "info"
    assert rm.info.dtype == minigrad.int32
    np.testing.assert_array_equal(rm.info.numpy(), rt.info.numpy())
    np.testing.assert_allclose(rm[0].numpy()[0], rt[0].numpy()[0])  # the regular element
    if name == "cholesky_ex":  # the partial factor, as LAPACK leaves it
        np.testing.assert_allclose(rm.L.numpy(), rt.L.numpy())
    ours, theirs = _same_error(
        lambda x, *r: fm(x, *r, check_errors=True),
        lambda x, *r: ft(x, *r, check_errors=True),
        a,
        *args,
    )
    assert ours.split(": ", 1)[1] == theirs.split(": ", 1)[1]


def test_ex_functions_regular_input_and_upper():
    a = np.array([[4.0, 1.0], [1.0, 3.0]])
    lm, lt = (
        minigrad.linalg.cholesky_ex(_pair(a)[0], upper=True),
        torch.linalg.cholesky_ex(torch.tensor(a), upper=True),
    )
    np.testing.assert_allclose(lm.L.numpy(), lt.L.numpy())
    assert int(lm.info) == 0


@pytest.mark.parametrize(
    "shape", [(3, 3), (2, 5, 5), (6, 3), (3, 6), (2, 1, 4, 2), (0, 3), (2, 0, 0), (2, 90, 75)]
)  # the last in panels (blocked)
def test_lu_factor_matches_lapack(shape):
    a = np.random.default_rng(sum(shape)).standard_normal(shape)
    lm, pm, im = minigrad.linalg.lu_factor_ex(minigrad.tensor(a))
    lt, pt, it = torch.linalg.lu_factor_ex(torch.tensor(a))
    assert pm.dtype == minigrad.int32 and tuple(pm.shape) == tuple(pt.shape)
    np.testing.assert_array_equal(pm.numpy(), pt.numpy())
    np.testing.assert_allclose(lm.numpy(), lt.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(im.numpy(), it.numpy())
    for x, y in zip(minigrad.lu_unpack(lm, pm), torch.lu_unpack(lt, pt)):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-10, atol=1e-12)


def test_lu_singular_and_complex():
    z = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]])
    assert int(minigrad.linalg.lu_factor_ex(minigrad.tensor(z)).info) == int(
        torch.linalg.lu_factor_ex(torch.tensor(z)).info
    )
    ours, theirs = _same_error(minigrad.linalg.lu_factor, torch.linalg.lu_factor, z)
    assert ours == theirs
    _same_error(
        lambda x: minigrad.linalg.lu_factor_ex(x, check_errors=True),
        lambda x: torch.linalg.lu_factor_ex(x, check_errors=True),
        np.zeros((2, 3, 3)),
    )
    p, lo, u = minigrad.linalg.lu(minigrad.tensor(z))  # singular input still factorises
    np.testing.assert_allclose((p @ lo @ u).numpy(), z, atol=1e-14)
    rng = np.random.default_rng(0)
    c = rng.standard_normal((2, 3, 3)) + 1j * rng.standard_normal((2, 3, 3))
    v = rng.standard_normal((2, 3, 3)) + 1j * rng.standard_normal((2, 3, 3))
    cm = minigrad.tensor(c, requires_grad=True)
    ct = torch.tensor(c, requires_grad=True)
    (gm,) = minigrad.autograd.grad(minigrad.linalg.lu_factor(cm).LU, cm, minigrad.tensor(v))
    (gt,) = torch.autograd.grad(torch.linalg.lu_factor(ct).LU, ct, torch.tensor(v))
    np.testing.assert_allclose(gm.numpy(), gt.numpy(), rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x: minigrad.linalg.lu(x)[1:], (cm[0].detach().requires_grad_(),))


@pytest.mark.parametrize(
    "call",
    [
        lambda m, a: m.linalg.lu_factor(a, pivot=False),
        lambda m, a: m.linalg.lu_factor(a.long()),
        lambda m, a: m.linalg.lu_factor(a[0]),
        lambda m, a: m.linalg.lu_factor(a.half()),
        lambda m, a: m.lu_unpack(a, m.tensor([1, 2, 3])),
        lambda m, a: m.lu_unpack(a, m.tensor([1, 2, 4], dtype=m.int32)),
        lambda m, a: m.linalg.lu_solve(a, m.ones(3, dtype=m.int32), a[0]),
        lambda m, a: m.linalg.lu_solve(a, m.ones(3, dtype=m.int32), m.ones(4, 2)),
        lambda m, a: m.linalg.lu_solve(a[:2], m.ones(2, dtype=m.int32), m.ones(2, 2)),
        lambda m, a: m.linalg.lu_solve(a, m.ones(3, dtype=m.int32), a.double()),
        lambda m, a: m.linalg.inv(m.ones(2, 3)),
        lambda m, a: m.linalg.inv(a.long()),
        lambda m, a: m.linalg.householder_product(a, m.ones(4)),
        lambda m, a: m.linalg.householder_product(a[:2], m.ones(2)),
        lambda m, a: m.linalg.householder_product(a, m.ones(1, 3)),
        lambda m, a: m.linalg.householder_product(a, m.ones(3).double()),
        lambda m, a: m.ormqr(a, m.ones(3), m.ones(4, 5)),
        lambda m, a: m.linalg.vander(m.ones(3), N=1),
        lambda m, a: m.vander(a),
        lambda m, a: m.vander(m.ones(3), N=-1),
        lambda m, a: m.linalg.cond(a, 3),
        lambda m, a: m.linalg.cond(m.ones(3, 4), "fro"),
        lambda m, a: m.linalg.tensorinv(a, ind=0),
        lambda m, a: m.linalg.tensorinv(m.ones(2, 3, 4, 2)),
        lambda m, a: m.linalg.tensorsolve(m.ones(6, 4), m.ones(2, 3)),
        lambda m, a: m.linalg.vecdot(a, a.double()),
        lambda m, a: m.linalg.vecdot(a.long(), a.long()),
        lambda m, a: m.pca_lowrank(a, q=4),
        lambda m, a: m.geqrf(a.long()),
        lambda m, a: m.linalg.ldl_factor(m.zeros(3, 3)),
        lambda m, a: m.linalg.ldl_factor_ex(m.zeros(3, 3), check_errors=True),
        lambda m, a: m.linalg.ldl_factor(m.zeros(3, 4)),
        lambda m, a: m.linalg.ldl_factor(a.long()),
        lambda m, a: m.linalg.ldl_factor(a[0]),
        lambda m, a: m.linalg.ldl_solve(a, m.ones(3, dtype=m.int32), a[0]),
        lambda m, a: m.linalg.ldl_solve(a, m.ones(3, dtype=m.int32), m.ones(4, 2)),
        lambda m, a: m.linalg.ldl_solve(a, m.ones(3, dtype=m.int32), a.double()),
        lambda m, a: m.linalg.lu(a[0]),
    ],
)
def test_errors_match_torch(call):
    a = np.random.default_rng(1).standard_normal((3, 3)).astype(np.float32)
    _same_error(lambda x: call(minigrad, x), lambda x: call(torch, x), a)


@pytest.mark.parametrize("name", ["lstsq", "solve", "eig", "symeig", "matrix_rank"])
def test_removed_functions_raise_as_torch(name):
    a = np.eye(3)
    args = (a,) if name in ("lstsq", "solve") else ()
    ours, theirs = _same_error(getattr(minigrad, name), getattr(torch, name), a, *args)
    assert "deprecated since version 1.9 and is now removed" in ours
    if name != "matrix_rank":  # not a method in PyTorch
        _same_error(
            lambda x, *r: getattr(x, name)(*r), lambda x, *r: getattr(x, name)(*r), a, *args
        )
    assert hasattr(minigrad.Tensor, name) == hasattr(torch.Tensor, name)


def test_methods_and_top_level_forms():
    a = np.random.default_rng(2).standard_normal((4, 4))
    b = np.random.default_rng(3).standard_normal((4, 2))
    xm, xt = _pair(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lu_m, lu_t = xm.lu(), xt.lu()
    np.testing.assert_array_equal(lu_m[1].numpy(), lu_t[1].numpy())
    sm = minigrad.tensor(b).lu_solve(*lu_m)
    st = torch.tensor(b).lu_solve(*lu_t)
    np.testing.assert_allclose(sm.numpy(), st.numpy(), rtol=1e-10)
    (qa, tau_m), (qt, tau_t) = xm.geqrf(), xt.geqrf()
    np.testing.assert_allclose(xm.geqrf().a.numpy(), qt.numpy(), atol=1e-12)
    np.testing.assert_allclose(qa.orgqr(tau_m).numpy(), qt.orgqr(tau_t).numpy(), atol=1e-12)
    np.testing.assert_allclose(
        qa.ormqr(tau_m, minigrad.tensor(b), True, True).numpy(),
        qt.ormqr(tau_t, torch.tensor(b), True, True).numpy(),
        atol=1e-12,
    )
    q_m = minigrad.linalg.householder_product(qa, tau_m)  # Q of linalg.qr, same signs
    np.testing.assert_allclose(q_m.numpy(), torch.linalg.qr(xt).Q.numpy(), atol=1e-12)
    with pytest.warns(UserWarning, match="deprecated"):
        minigrad.nuclear_norm(xm)


def _low_rank(rng, shape, rank):
    *batch, m, n = shape
    return rng.standard_normal((*batch, m, rank)) @ rng.standard_normal((*batch, rank, n))


@pytest.mark.parametrize("shape", [(8, 5), (5, 8), (2, 7, 6)])
def test_svd_lowrank_reconstructs_low_rank_matrices(shape):
    rng = np.random.default_rng(4)
    a = _low_rank(rng, shape, 3)
    minigrad.manual_seed(0)
    u, s, v = minigrad.svd_lowrank(minigrad.tensor(a), q=4)
    ut, st, vt = torch.svd_lowrank(torch.tensor(a), q=4)
    assert [tuple(t.shape) for t in (u, s, v)] == [tuple(t.shape) for t in (ut, st, vt)]
    np.testing.assert_allclose((u * s.unsqueeze(-2)) @ v.mT, a, atol=1e-10)
    np.testing.assert_allclose(s.numpy()[..., :3], st.numpy()[..., :3], rtol=1e-10)
    np.testing.assert_allclose(
        u.mT @ u, np.broadcast_to(np.eye(4), u.mT.shape[:-1] + (4,)), atol=1e-10
    )
    m = rng.standard_normal(shape[-1])  # M is subtracted first
    u, s, v = minigrad.svd_lowrank(minigrad.tensor(a + m), q=3, M=minigrad.tensor(m))
    np.testing.assert_allclose((u * s.unsqueeze(-2)) @ v.mT, a, atol=1e-10)


def test_pca_lowrank_finds_principal_directions():
    rng = np.random.default_rng(5)
    a = _low_rank(rng, (30, 6), 2) + 5.0  # the mean is removed first
    minigrad.manual_seed(1)
    u, s, v = minigrad.pca_lowrank(minigrad.tensor(a), q=3)
    ut, st, vt = torch.pca_lowrank(torch.tensor(a), q=3)
    assert [tuple(t.shape) for t in (u, s, v)] == [tuple(t.shape) for t in (ut, st, vt)]
    np.testing.assert_allclose(s.numpy()[:2], st.numpy()[:2], rtol=1e-9)
    np.testing.assert_allclose(np.abs(v.numpy()[:, :2].T @ vt.numpy()[:, :2]), np.eye(2), atol=1e-8)
    assert u.numpy().shape == (30, 3) and math.isclose(float(s[2]), 0.0, abs_tol=1e-8)


def test_svd_lowrank_is_differentiable():
    rng = np.random.default_rng(6)
    a = minigrad.tensor(_low_rank(rng, (5, 4), 2), requires_grad=True)

    def reconstruction(x):
        minigrad.manual_seed(3)  # the same sketch at every evaluation
        u, s, v = minigrad.svd_lowrank(x, q=2, niter=1)
        return (u * s.unsqueeze(-2)) @ v.mT

    assert gradcheck(reconstruction, (a,))
    assert gradgradcheck(lambda x: reconstruction(x).sum(), (a,))


def test_ldl_matches_lapack_and_solves():
    rng = np.random.default_rng(7)
    for trial in range(40):  # random sizes, both conventions, forced 2x2 pivots
        n = int(rng.integers(1, 7))
        a = rng.standard_normal((2, n, n)) + (
            1j * rng.standard_normal((2, n, n)) if trial % 3 else 0
        )
        a[..., 0, 0] = 0.0 if trial % 4 == 0 and n > 1 else a[..., 0, 0]
        hermitian = trial % 2 == 0
        rm = minigrad.linalg.ldl_factor_ex(minigrad.tensor(a), hermitian=hermitian)
        rt = torch.linalg.ldl_factor_ex(torch.tensor(a), hermitian=hermitian)
        assert type(rm).__name__ == type(rt).__name__ == "linalg_ldl_factor_ex"
        np.testing.assert_array_equal(rm.pivots.numpy(), rt.pivots.numpy())
        np.testing.assert_allclose(rm.LD.numpy(), rt.LD.numpy(), atol=1e-10)
        b = rng.standard_normal((n, 2)).astype(a.dtype)
        xm = minigrad.linalg.ldl_solve(rm.LD, rm.pivots, minigrad.tensor(b), hermitian=hermitian)
        xt = torch.linalg.ldl_solve(
            rt.LD, rt.pivots, torch.tensor(b).to(rt.LD.dtype), hermitian=hermitian
        )
        np.testing.assert_allclose(xm.numpy(), xt.numpy(), atol=1e-8)
    info = minigrad.linalg.ldl_factor_ex(minigrad.zeros(3, 3)).info
    assert int(info) == int(torch.linalg.ldl_factor_ex(torch.zeros(3, 3)).info)


def test_lobpcg_matches_torch_eigenpairs():
    rng = np.random.default_rng(8)
    a = rng.standard_normal((2, 12, 12))
    spd = a @ a.transpose(0, 2, 1) + np.eye(12)
    b = rng.standard_normal((12, 12))
    spd_b = b @ b.T + np.eye(12)
    minigrad.manual_seed(0)
    for kw in ({"k": 2}, {"k": 2, "largest": False}, {"k": 1, "n": 3}):
        em, xm = minigrad.lobpcg(minigrad.tensor(spd), **kw)
        et, xt = torch.lobpcg(torch.tensor(spd), **kw)
        np.testing.assert_allclose(em.numpy(), et.numpy(), rtol=1e-7)
        overlap = np.abs(xm.numpy().transpose(0, 2, 1) @ xt.numpy())  # same vectors up to sign
        np.testing.assert_allclose(
            overlap, np.broadcast_to(np.eye(xm.shape[-1]), overlap.shape), atol=1e-5
        )
    em, xm = minigrad.lobpcg(minigrad.tensor(spd[0]), k=2, B=minigrad.tensor(spd_b))
    et, _ = torch.lobpcg(torch.tensor(spd[0]), k=2, B=torch.tensor(spd_b))
    np.testing.assert_allclose(em.numpy(), et.numpy(), rtol=1e-7)
    np.testing.assert_allclose((xm.mT @ minigrad.tensor(spd_b) @ xm).numpy(), np.eye(2), atol=1e-10)
    pre = minigrad.tensor(np.linalg.inv(spd[0]))
    em, _ = minigrad.lobpcg(minigrad.tensor(spd[0]), k=2, iK=pre)
    np.testing.assert_allclose(em.numpy(), np.linalg.eigvalsh(spd[0])[::-1][:2], rtol=1e-7)


def test_lobpcg_errors_match_torch():
    spd = np.eye(10) * np.arange(1.0, 11.0)
    _same_error(lambda x: minigrad.lobpcg(x, k=4), lambda x: torch.lobpcg(x, k=4), spd)
    am = minigrad.tensor(spd, requires_grad=True)
    with pytest.raises(ValueError, match="B != I"):
        minigrad.lobpcg(am, k=1, B=minigrad.eye(10, dtype=minigrad.float64))[0].sum().backward()
    with pytest.raises(ValueError, match="square"):
        minigrad.lobpcg(minigrad.ones(10, 9), k=1)
