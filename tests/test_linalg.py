"""``minigrad.linalg`` beyond the op table (which checks every function's values, gradients and
second derivatives against PyTorch): modes, shapes, the Tensor methods, errors, devices."""

import numpy as np
import pytest

import minigrad
from minigrad import linalg

torch = pytest.importorskip("torch")


def pair(shape, seed=0, shift=0.0):
    a = np.random.default_rng(seed).uniform(-1, 1, shape)
    if shift:
        a = a + shift * np.eye(shape[-1])
    return minigrad.tensor(a), torch.tensor(a)


def close(a, b, **kw):
    np.testing.assert_allclose(
        a.detach().cpu().numpy(), b.detach().numpy(), **{"rtol": 1e-10, "atol": 1e-12, **kw}
    )


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 4, 3)])
def test_svd_full_matrices_shapes_and_reconstruction(shape):
    am, at = pair(shape)
    u, s, vh = linalg.svd(am)
    ut, st, vht = torch.linalg.svd(at)
    assert u.shape == tuple(ut.shape) and vh.shape == tuple(vht.shape)
    close(s, st)
    k = min(shape[-2:])
    close(u[..., :, :k] * s.unsqueeze(-2) @ vh[..., :k, :], at)
    eye_u = u.mT @ u
    close(eye_u, torch.eye(shape[-2]).double().expand(*eye_u.shape))


def test_svd_full_matrices_gradient_flows_through_the_reduced_part():
    am, at = pair((4, 3), seed=3)
    grads = []
    for m, a in ((minigrad, am), (torch, at)):
        a.requires_grad_(True)
        u, s, vh = m.linalg.svd(a)
        loss = (u[:, :3] @ vh).sum() + s.sum()
        grads.append(m.autograd.grad(loss, a)[0])
    close(*grads, rtol=1e-8)


@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
@pytest.mark.parametrize("shape", [(4, 3), (3, 5)])
def test_qr_modes_match_torch(mode, shape):
    am, at = pair(shape, seed=1)
    q, r = linalg.qr(am, mode=mode)
    qt, rt = torch.linalg.qr(at, mode=mode)
    assert q.shape == tuple(qt.shape) and r.shape == tuple(rt.shape)
    close(r.abs(), rt.abs(), rtol=1e-8)


def test_qr_without_a_derivative_says_so():
    a = minigrad.randn(4, 3, dtype=minigrad.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match="mode='complete'"):
        linalg.qr(a, mode="complete")
    with pytest.raises(NotImplementedError, match="mode='r'"):
        linalg.qr(a, mode="r")


def test_eigh_reads_the_requested_triangle():
    am, at = pair((4, 4), seed=2)  # not symmetric: only one triangle is read
    for uplo in ("L", "U"):
        w, v = linalg.eigh(am, UPLO=uplo)
        wt, vt = torch.linalg.eigh(at, UPLO=uplo)
        close(w, wt)
        close(v * v, vt * vt, rtol=1e-8)
    close(linalg.eigvalsh(am), torch.linalg.eigvalsh(at))


def test_tensor_methods_and_top_level_functions():
    am, at = pair((2, 3, 3), seed=4, shift=-2.5)
    close(am.det(), at.det())
    close(minigrad.det(am), torch.det(at))
    close(am.inverse(), at.inverse())
    close(minigrad.inverse(am), torch.inverse(at))
    sm, lm = am.slogdet()
    st, lt = at.slogdet()
    close(sm, st), close(lm, lt)
    assert (sm < 0).any()  # a negative determinant in the batch: logdet is NaN there
    np.testing.assert_array_equal(
        np.isnan(minigrad.logdet(am).numpy()), np.isnan(torch.logdet(at).numpy())
    )


def test_solve_broadcasts_batches_and_vectors():
    am, at = pair((2, 3, 3), seed=5, shift=3.0)
    bm, bt = pair((3,), seed=6)
    close(linalg.solve(am, bm), torch.linalg.solve(at, bt))
    cm, ct = pair((1, 3, 2), seed=7)
    close(linalg.solve(am, cm), torch.linalg.solve(at, ct))
    close(linalg.solve(am, cm.mT, left=False), torch.linalg.solve(at, ct.mT, left=False))


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda m: m.linalg.inv(m.zeros(2, 3)), "square"),
        (lambda m: m.linalg.inv(m.zeros(3, 3)), "[Ss]ingular"),
        (lambda m: m.linalg.cholesky(-m.eye(3)), "[Pp]ositive|[Cc]holesky"),
        (lambda m: m.linalg.det(m.zeros(3)), "dimensions|square"),
        (lambda m: m.linalg.solve(m.eye(3), m.ones(4)), "shapes"),
        (lambda m: m.linalg.inv(m.eye(2, dtype=m.int64)), "floating"),
        (lambda m: m.linalg.matrix_norm(m.ones(2, 2), ord=3), "Order"),
        (lambda m: m.linalg.norm(m.ones(2, 2, 2), ord=2), "1D or 2D"),
        (lambda m: m.linalg.vector_norm(m.ones(2, dtype=m.int64)), "floating"),
    ],
)
def test_errors_are_runtime_errors_as_in_pytorch(call, match):
    with pytest.raises(RuntimeError, match=match):
        call(minigrad)
    with pytest.raises(RuntimeError):
        call(torch)


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, float("inf"), -float("inf")])
def test_matrix_norm_on_other_dims_with_keepdim(ord):
    am, at = pair((3, 2, 4), seed=8)
    a = linalg.matrix_norm(am, ord, dim=(2, 0), keepdim=True)
    b = torch.linalg.matrix_norm(at, ord, dim=(2, 0), keepdim=True)
    assert a.shape == tuple(b.shape)
    close(a, b, rtol=1e-9)


def test_linalg_norm_dispatch_matches_torch():
    am, at = pair((3, 4), seed=9)
    vm, vt = pair((5,), seed=10)
    for args_m, args_t, kw in [
        ((am,), (at,), {}),
        ((am, "nuc"), (at, "nuc"), {}),
        ((vm, 3), (vt, 3), {}),
        ((am,), (at,), {"dim": 0, "keepdim": True}),
        ((am, 1, (1, 0)), (at, 1, (1, 0)), {}),
    ]:
        close(linalg.norm(*args_m, **kw), torch.linalg.norm(*args_t, **kw))


def test_decompositions_run_on_the_device_stand_in():
    a = np.random.default_rng(11).uniform(-1, 1, (3, 3)) + 3 * np.eye(3)
    cpu = minigrad.tensor(a, requires_grad=True)
    dev = minigrad.tensor(a, device="fakegpu", requires_grad=True)
    for x in (cpu, dev):
        u, s, vh = linalg.svd(x, full_matrices=False)
        w, v = linalg.eigh(x + x.mT)
        loss = linalg.det(x) + s.sum() + (w * w).sum() + linalg.inv(x).sum()
        loss = loss + linalg.cholesky(x @ x.mT).sum() + linalg.qr(x).R.sum()
        loss.backward()
    assert dev.grad.device == dev.device
    np.testing.assert_allclose(dev.grad.cpu().numpy(), cpu.grad.numpy(), rtol=1e-10)


def test_third_derivative_of_logdet():
    """Closed-form backwards built from Tensor ops differentiate again and again."""
    a0 = np.random.default_rng(12).uniform(-0.3, 0.3, (3, 3)) + 2 * np.eye(3)
    results = []
    for m in (minigrad, torch):
        a = m.tensor(a0, requires_grad=True)
        (g1,) = m.autograd.grad(m.logdet(a), a, create_graph=True)
        (g2,) = m.autograd.grad((g1 * g1).sum(), a, create_graph=True)
        (g3,) = m.autograd.grad(g2.sum(), a)
        results.append(g3)
    close(*results, rtol=1e-9)


_RANK_RNG = np.random.default_rng(11)


@pytest.mark.parametrize(
    "a",
    [
        np.ones((3, 3)),
        _RANK_RNG.standard_normal((4, 3)),
        _RANK_RNG.standard_normal((2, 3, 3)) @ np.diag([1.0, 1.0, 0.0]),  # batched, rank 2
        np.zeros((2, 2)),
        _RANK_RNG.standard_normal((3, 5)).astype(np.float32),
    ],
)
@pytest.mark.parametrize("kwargs", [{}, {"atol": 0.5}, {"rtol": 0.3}, {"hermitian": True}])
def test_matrix_rank_matches_torch(a, kwargs):
    if kwargs.get("hermitian"):
        a = a @ np.swapaxes(a, -1, -2)
    got = linalg.matrix_rank(minigrad.tensor(a), **kwargs)
    want = torch.linalg.matrix_rank(torch.tensor(a), **kwargs)
    assert got.tolist() == want.tolist() and got.dtype is minigrad.int64


@pytest.mark.parametrize(
    "shapes",
    [[(2, 3), (3, 4)], [(5, 2), (2, 6), (6, 3), (3, 1)], [(3,), (3, 4), (4, 2)], [(2, 3), (3,)],
     [(4,), (4,)], [(1, 5), (5, 5), (5, 2), (2, 7), (7,)]],
)  # fmt: skip
def test_multi_dot_matches_torch(shapes):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = [minigrad.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_m, out_t = minigrad.linalg.multi_dot(ours), torch.linalg.multi_dot(theirs)
    np.testing.assert_allclose(out_m.detach().numpy(), out_t.detach().numpy(), rtol=1e-12)
    (out_m * out_m).sum().backward()
    (out_t * out_t).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_multi_dot_and_chain_matmul_errors_match_torch():
    torch = pytest.importorskip("torch")
    cases = [[(2, 3)], [(2, 3, 1), (1, 2)], [(2, 3), (3,), (3, 2)], [(2, 3), (4, 2)]]
    for shapes in cases:
        with pytest.raises(RuntimeError) as theirs:
            torch.linalg.multi_dot([torch.ones(s) for s in shapes])
        with pytest.raises(RuntimeError) as ours:
            minigrad.linalg.multi_dot([minigrad.ones(s) for s in shapes])
        assert str(ours.value) == str(theirs.value)
    a, b = minigrad.randn(2, 3), minigrad.randn(3, 4)
    with pytest.warns(UserWarning, match="chain_matmul is deprecated"):
        np.testing.assert_allclose(minigrad.chain_matmul(a, b).numpy(), (a @ b).numpy())
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="2D"):
        minigrad.chain_matmul(a, minigrad.ones(3))


@pytest.mark.parametrize(
    "kw, b_shape",
    [({"upper": False}, (4, 3)), ({"upper": True}, (2, 4, 2)), ({"upper": False, "left": False},
     (3, 4)), ({"upper": True, "unitriangular": True}, (4, 1))],
)  # fmt: skip
def test_solve_triangular_matches_torch_with_gradients(kw, b_shape):
    """Only A's triangle is read (the other gets no gradient), batches broadcast."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 4)) + 4 * np.eye(4)
    b = rng.standard_normal(b_shape)
    results = []
    for m in (minigrad, torch):
        A, B = (m.tensor(v, requires_grad=True) for v in (a, b))
        x = m.linalg.solve_triangular(A, B, **kw)
        (x * m.tensor(np.cos(np.arange(x.numel())).reshape(x.shape))).sum().backward()
        results.append([x.detach().numpy(), A.grad.numpy(), B.grad.numpy()])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    for bad, match in (((4,), "at least 2 dimensions"), ((3, 2), "Incompatible shapes")):
        with pytest.raises(RuntimeError, match=match):
            linalg.solve_triangular(
                minigrad.tensor(a), minigrad.zeros(bad, dtype=minigrad.float64), upper=False
            )
