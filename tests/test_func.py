"""minigrad.func against torch.func: grad, vjp, jvp, jacobians, hessian, functional_call, vmap."""

import numpy as np
import pytest

import minigrad
from minigrad import func, nn

RNG = np.random.default_rng(0)
X = RNG.uniform(0.5, 1.5, (3,))
Y = RNG.uniform(-1, 1, (3,))


def _f(m, x, y):
    return (x.sin() * y.exp() + x * x * y).sum()


def _vec(m, x, y):
    return (x * y).tanh() + x.exp()


def _t(m, a):
    return m.tensor(a, dtype=m.float64)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _close(a, b, tol=1e-10):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _close(u, v, tol)
        return
    if isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            _close(a[k], b[k], tol)
        return
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_grad_and_value_match_torch(torch, argnums):
    got = minigrad.func.grad_and_value(lambda a, b: _f(minigrad, a, b), argnums=argnums)(
        _t(minigrad, X), _t(minigrad, Y)
    )
    want = torch.func.grad_and_value(lambda a, b: _f(torch, a, b), argnums=argnums)(
        _t(torch, X), _t(torch, Y)
    )
    _close(got, want)


def test_grad_has_aux_nested_and_composed_with_backward(torch):
    def f(m, x):
        return (x**3).sum(), x.detach() * 2

    g_m, aux_m = func.grad(lambda x: f(minigrad, x), has_aux=True)(_t(minigrad, X))
    g_t, aux_t = torch.func.grad(lambda x: f(torch, x), has_aux=True)(_t(torch, X))
    _close((g_m, aux_m), (g_t, aux_t))
    # grad of grad: d²/dx² of x³ summed is 6x
    h_m = func.grad(lambda x: func.grad(lambda z: (z**3).sum())(x).sum())(_t(minigrad, X))
    h_t = torch.func.grad(lambda x: torch.func.grad(lambda z: (z**3).sum())(x).sum())(_t(torch, X))
    _close(h_m, h_t)
    # grad composes with ordinary autograd: the result is differentiable in x
    x = _t(minigrad, X).requires_grad_()
    g = func.grad(lambda z: (z**3).sum())(x)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * X)
    # closed-over tensors that require grad stay differentiable too
    w = _t(minigrad, Y).requires_grad_()
    func.grad(lambda z: (w * z * z).sum())(_t(minigrad, X)).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * X)
    with pytest.raises(RuntimeError, match="scalar"):
        func.grad(lambda z: z * 2)(_t(minigrad, X))


def test_vjp_jvp_match_torch(torch):
    ct, tan = RNG.uniform(-1, 1, (3,)), RNG.uniform(-1, 1, (3,))
    out_m, fn_m = func.vjp(lambda a, b: _vec(minigrad, a, b), _t(minigrad, X), _t(minigrad, Y))
    out_t, fn_t = torch.func.vjp(lambda a, b: _vec(torch, a, b), _t(torch, X), _t(torch, Y))
    _close(out_m, out_t)
    _close(fn_m(_t(minigrad, ct)), fn_t(_t(torch, ct)))
    _close(fn_m(_t(minigrad, tan)), fn_t(_t(torch, tan)))  # vjp_fn can be called again
    got = func.jvp(
        lambda a, b: _vec(minigrad, a, b),
        (_t(minigrad, X), _t(minigrad, Y)),
        (_t(minigrad, tan), _t(minigrad, ct)),
    )
    want = torch.func.jvp(
        lambda a, b: _vec(torch, a, b),
        (_t(torch, X), _t(torch, Y)),
        (_t(torch, tan), _t(torch, ct)),
    )
    _close(got, want)


@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_jacobians_and_hessian_match_torch(torch, name):
    for argnums in (0, (0, 1)):
        got = getattr(func, name)(lambda a, b: _vec(minigrad, a, b), argnums=argnums)(
            _t(minigrad, X), _t(minigrad, Y)
        )
        want = getattr(torch.func, name)(lambda a, b: _vec(torch, a, b), argnums=argnums)(
            _t(torch, X), _t(torch, Y)
        )
        _close(got, want)
    mat = RNG.uniform(-1, 1, (2, 3))
    got = getattr(func, name)(lambda a: _t(minigrad, mat) @ a.sin())(_t(minigrad, X))
    want = getattr(torch.func, name)(lambda a: _t(torch, mat) @ a.sin())(_t(torch, X))
    _close(got, want)
    _close(
        func.hessian(lambda a, b: _f(minigrad, a, b), argnums=1)(_t(minigrad, X), _t(minigrad, Y)),
        torch.func.hessian(lambda a, b: _f(torch, a, b), argnums=1)(_t(torch, X), _t(torch, Y)),
    )


def _mlp(m):
    m.manual_seed(0)
    return m.nn.Sequential(m.nn.Linear(4, 6), m.nn.Tanh(), m.nn.Linear(6, 3))


def _copy_weights(src, dst, torch):
    with torch.no_grad():
        for p, q in zip(src.parameters(), dst.parameters()):
            q.copy_(torch.tensor(p.detach().numpy()))


def test_functional_call_and_per_sample_gradients_match_torch(torch):
    mm, tm = _mlp(minigrad), _mlp(torch)
    _copy_weights(mm, tm, torch)
    x, y = RNG.normal(size=(5, 4)), RNG.integers(0, 3, 5)

    def per_sample(m, model, params, xs, ys):
        def loss(p, xi, yi):
            out = m.func.functional_call(model, p, (xi.unsqueeze(0),))
            return m.nn.functional.cross_entropy(out, yi.unsqueeze(0))

        return m.func.vmap(m.func.grad(loss), in_dims=(None, 0, 0))(params, xs, ys)

    pm = {k: v.detach() for k, v in mm.named_parameters()}
    pt = {k: v.detach() for k, v in tm.named_parameters()}
    got = per_sample(
        minigrad, mm, pm, minigrad.tensor(x, dtype=minigrad.float32), minigrad.tensor(y)
    )
    want = per_sample(torch, tm, pt, torch.tensor(x, dtype=torch.float32), torch.tensor(y))
    _close(got, want, 1e-5)
    # functional_call leaves the module as it was, and calls with other weights
    doubled = {k: v * 2 for k, v in pm.items()}
    a = func.functional_call(mm, doubled, minigrad.ones(1, 4))
    b = torch.func.functional_call(tm, {k: v * 2 for k, v in pt.items()}, torch.ones(1, 4))
    _close(a, b, 1e-5)
    assert mm[0].weight is not None and isinstance(mm[0].weight, nn.Parameter)
    with pytest.raises(RuntimeError, match="Unexpected"):
        func.functional_call(mm, {"nope": minigrad.ones(1)}, (minigrad.ones(1, 4),), strict=True)
    func.functional_call(mm, {"nope": minigrad.ones(1)}, (minigrad.ones(1, 4),))  # as PyTorch
    assert not hasattr(mm, "nope")


def test_vmap_in_out_dims_nesting_and_errors(torch):
    a, b = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 5))
    # compare each result of minigrad with torch's
    ms, ts = [], []
    for m, out in ((minigrad, ms), (torch, ts)):
        at, bt = _t(m, a), _t(m, b)
        out.append(m.func.vmap(lambda u, v: u @ v, in_dims=(0, None))(at, bt))
        out.append(m.func.vmap(lambda u, v: u * v, in_dims=(1, 0), out_dims=1)(bt.T, bt))
        pair = m.func.vmap(m.func.vmap(lambda u, v: (u * v).sum(), in_dims=(0, None)), (None, 0))
        out.append(pair(at, at))  # all pairwise dot products, (4, 4)
        out.append(m.func.vmap(lambda d: {"s": d["x"].sum(), "t": d["x"] + 1})({"x": at}))
        out.append(m.func.vmap(lambda u: (u, u.sum()), out_dims=(1, 0))(at))
        out.append(m.func.vmap(lambda u, m=m: m.ones(2, dtype=m.float64))(at))
    _close(ms, ts)
    with pytest.raises(ValueError, match="same size"):
        func.vmap(lambda u, v: u + v)(minigrad.ones(3), minigrad.ones(4))
    with pytest.raises(ValueError, match="at least one"):
        func.vmap(lambda u: u, in_dims=None)(minigrad.ones(3))
    with pytest.raises(RuntimeError, match="item"):
        func.vmap(lambda u: u.sum().item())(minigrad.ones(3, 2))


def test_vmap_composes_with_jacrev_and_hessian(torch):
    xs = RNG.uniform(0.5, 1.5, (4, 3))
    got = func.vmap(func.jacrev(lambda a: a.sin() * a.sum()))(_t(minigrad, xs))
    want = torch.func.vmap(torch.func.jacrev(lambda a: a.sin() * a.sum()))(_t(torch, xs))
    _close(got, want)
    got = func.vmap(func.hessian(lambda a: (a**3).sum() * a[0]))(_t(minigrad, xs))
    want = torch.func.vmap(torch.func.hessian(lambda a: (a**3).sum() * a[0]))(_t(torch, xs))
    _close(got, want)
    # an ensemble: vmap over stacked weights of several models
    models = [_mlp(minigrad) for _ in range(3)]
    params, buffers = func.stack_module_state(models)
    x = minigrad.randn(2, 4)
    out = func.vmap(lambda p, b: func.functional_call(models[0], (p, b), (x,)), in_dims=(0, 0))(
        params, buffers
    )
    for i, model in enumerate(models):
        np.testing.assert_allclose(out[i].detach().numpy(), model(x).detach().numpy(), atol=1e-6)


# -- minigrad.autograd.functional against torch.autograd.functional -------------------------------


def _two(m, x, y):
    return (x * y).sin() + x.exp(), (x**2).sum() * y


@pytest.mark.parametrize("create_graph", [False, True])
def test_autograd_functional_matches_torch(torch, create_graph):
    v1, v2 = RNG.uniform(-1, 1, (3,)), RNG.uniform(-1, 1, (3,))
    kw = {"create_graph": create_graph}

    def both(name, fn, inputs, v=None):
        results = []
        for m in (minigrad, torch):
            ins = tuple(_t(m, a) for a in inputs)
            args = (lambda *a, m=m: fn(m, *a), ins if len(ins) > 1 else ins[0])
            if v is not None:
                vs = tuple(_t(m, a) for a in v)
                args += (vs if len(vs) > 1 else vs[0],)
            results.append(getattr(m.autograd.functional, name)(*args, **kw))
        _close(results[0], results[1])

    both("vjp", lambda m, x, y: _two(m, x, y), (X, Y), (v1, v2))
    both("jvp", lambda m, x, y: _two(m, x, y), (X, Y), (v1, v2))
    both("jacobian", lambda m, x, y: _two(m, x, y), (X, Y))
    both("jacobian", lambda m, x: x.sin() * x.sum(), (X,))
    both("hessian", lambda m, x, y: _f(m, x, y), (X, Y))
    both("hessian", lambda m, x: (x**3).sum() * x[0], (X,))
    both("hvp", lambda m, x: (x**3).sum() * x[0], (X,), (v1,))
    both("vhp", lambda m, x, y: _f(m, x, y), (X, Y), (v1, v2))
    both("vjp", lambda m, x: (x**2).sum(), (X,))  # v omitted for a one-element output


def test_autograd_functional_strict_and_errors():
    from minigrad.autograd.functional import jacobian, vjp

    x = minigrad.ones(2)
    with pytest.raises(RuntimeError, match="independent"):
        jacobian(lambda a: minigrad.ones(2), x, strict=True)
    np.testing.assert_array_equal(jacobian(lambda a: minigrad.ones(2), x).numpy(), np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match="single element"):
        vjp(lambda a: a * 2, x)
    with pytest.raises(TypeError, match="tuple of Tensors"):
        vjp(lambda a: a, [1.0])


def test_per_sample_gradients_on_the_device_stand_in():
    """vmap(grad) on the fakegpu device equals the CPU result, with no host round trip."""
    from minigrad.testing.fake_device import HostTransfers

    model = _mlp(minigrad)
    x, y = minigrad.randn(6, 4), minigrad.randint(0, 3, (6,))

    def run(device):
        model.to(device)
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(p, xi, yi):
            out = func.functional_call(model, p, (xi.unsqueeze(0),))
            return nn.functional.cross_entropy(out, yi.unsqueeze(0))

        return func.vmap(func.grad(loss), in_dims=(None, 0, 0))(params, x.to(device), y.to(device))

    want = run("cpu")
    before = HostTransfers.count
    got = run("fakegpu")
    assert HostTransfers.count == before
    for k in want:
        np.testing.assert_allclose(got[k].cpu().numpy(), want[k].numpy(), rtol=1e-5, atol=1e-6)


def test_nested_vmap_of_grad_with_an_unbatched_argument(torch):
    """Weights shared by both levels of a nested vmap (sizes 5 and 4) are expanded with the
    outer level's batch first."""
    w, a, b = RNG.uniform(-1, 1, (3,)), RNG.uniform(-1, 1, (5, 3)), RNG.uniform(-1, 1, (4, 3))

    def run(m):
        def f(w, a, b):
            return (w * a).sum() * (w * b).sin().sum()

        g = m.func.vmap(m.func.vmap(m.func.grad(f), (None, None, 0)), (None, 0, None))
        return g(_t(m, w), _t(m, a), _t(m, b))

    _close(run(minigrad), run(torch))


def test_vmap_of_a_vjp_fn_taken_outside_the_vmap(torch):
    """``vmap(vjp_fn)(eye)``: the Jacobian's rows, one cotangent of the batch per backward,
    also inside an outer vmap that the vjp itself ran in."""
    x, w, xs = RNG.uniform(-1, 1, (4,)), RNG.uniform(-1, 1, (3, 4)), RNG.uniform(-1, 1, (2, 4))

    def rows(m):
        _, vjp_fn = m.func.vjp(lambda v: (_t(m, w) @ v).tanh(), _t(m, x))
        return m.func.vmap(vjp_fn)(m.eye(3, dtype=m.float64))

    _close(rows(minigrad), rows(torch))

    def batched(m):
        def jac(v):
            _, vjp_fn = m.func.vjp(lambda u: (_t(m, w) @ u).tanh() * u.sum(), v)
            return m.func.vmap(vjp_fn)(m.eye(3, dtype=m.float64))

        return m.func.vmap(jac)(_t(m, xs))

    _close(batched(minigrad), batched(torch))


def test_empirical_ntk_by_vjp_and_jvp_in_nested_vmaps(torch):
    """The NTK tutorial's ntk-vector products: ``jvp`` with a batch of tangents for one primal,
    through a Linear layer whose weights are batched at two vmap levels."""
    state = {k: v.detach() for k, v in _mlp(torch).double().state_dict().items()}
    x1, x2 = RNG.uniform(-1, 1, (3, 4)), RNG.uniform(-1, 1, (2, 4))

    def ntk(m):
        net = _mlp(m).double()
        net.load_state_dict({k: m.tensor(v.numpy()) for k, v in state.items()})
        params = dict(net.named_parameters())

        def fnet(p, x):
            return m.func.functional_call(net, p, (x.unsqueeze(0),)).squeeze(0)

        def get_ntk(a, b):
            out, vjp_fn = m.func.vjp(lambda p: fnet(p, a), params)

            def ntk_slice(vec):
                return m.func.jvp(lambda p: fnet(p, b), (params,), vjp_fn(vec))[1]

            return m.func.vmap(ntk_slice)(m.eye(out.numel(), dtype=out.dtype))

        return m.func.vmap(m.func.vmap(get_ntk, (None, 0)), (0, None))(_t(m, x1), _t(m, x2))

    _close(ntk(minigrad), ntk(torch))
