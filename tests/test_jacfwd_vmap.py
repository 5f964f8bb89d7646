"""``func.jacfwd`` as PyTorch computes it: one ``vmap`` of ``jvp`` over the basis vectors (the
function runs once), falling back to one jvp per basis vector only where vmap cannot batch
(with a warning), with the same numbers as ``torch.func.jacfwd``."""

import warnings

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.func import functional_call, hessian, jacfwd, jacrev, vmap

torch = pytest.importorskip("torch")


def _close(ours, theirs):
    flat_o = minigrad.func._pytree.tree_flatten(ours)[0]
    flat_t = torch.utils._pytree.tree_flatten(theirs)[0]
    assert len(flat_o) == len(flat_t)
    for a, b in zip(flat_o, flat_t):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-8)


def _counted(fn):
    calls = []

    def run(*args):
        calls.append(1)
        return fn(*args)

    return run, calls


_RNG = np.random.default_rng(0)
_X, _Y = _RNG.standard_normal(3), _RNG.standard_normal((2, 3))


@pytest.mark.parametrize(
    "name, make, inputs",
    [
        ("one", lambda lib: lambda a: a.sin() * a.sum(), (_X,)),
        ("argnums", lambda lib: lambda a, b: (a * b).tanh(), (_X, _Y)),
        ("matmul", lambda lib: lambda w, a: (w @ a).relu(), (_Y, _X)),
        ("outputs", lambda lib: lambda a: (a.exp(), a.cumsum(0)), (_X,)),
    ],
)
def test_one_vmapped_run_as_torch(name, make, inputs):
    argnums = (0, 1) if name == "argnums" else 0
    fn, calls = _counted(make(minigrad))
    ours = jacfwd(fn, argnums=argnums)(*(minigrad.tensor(x) for x in inputs))
    theirs = torch.func.jacfwd(make(torch), argnums=argnums)(*(torch.tensor(x) for x in inputs))
    _close(ours, theirs)
    assert len(calls) == 1  # one vmapped jvp, not one per basis vector


def test_aux_nested_inputs_and_compositions_as_torch():
    for lib, func in ((minigrad, minigrad.func), (torch, torch.func)):
        x = lib.tensor(_X)
        d = {"a": x, "b": lib.tensor(_Y)}
        out = func.jacfwd(lambda a: (a.exp(), {"s": a.sum()}), has_aux=True)(x)
        nested = func.jacfwd(lambda p: p["a"] * p["b"].sum())(d)
        hess = func.hessian(lambda a: (a**3).sum() * a.sin().sum())(x)
        mixed = func.jacfwd(func.jacrev(lambda a: a.sin() * a.sum()))(x)
        mapped = func.vmap(func.jacfwd(lambda a: a.sin() * a.sum()))(lib.tensor(_Y))
        if lib is minigrad:
            ours = (out, nested, hess, mixed, mapped)
    _close(ours, (out, nested, hess, mixed, mapped))
    assert hessian is minigrad.func.hessian and jacrev is minigrad.func.jacrev


def test_randomness_as_torch():
    for lib, func in ((minigrad, minigrad.func), (torch, torch.func)):

        def f(a, lib=lib):
            return a.sum() * lib.rand(3, dtype=a.dtype)

        with pytest.raises(RuntimeError, match="randomness"):
            func.jacfwd(f)(lib.ones(4))
        same = func.jacfwd(f, randomness="same")(lib.ones(4))
        different = func.jacfwd(f, randomness="different")(lib.ones(4))
        assert (same - same[:, :1]).abs().max().item() == 0.0  # one draw for every column
        assert (different - different[:, :1]).abs().max().item() > 0.0


def test_the_loop_where_vmap_cannot_batch_warns_and_matches_torch(monkeypatch):
    monkeypatch.setattr(minigrad._warnings, "_said_once", set())

    def make(lib):
        return lambda a: a * a.sum().item() + (a * 2 if a.sum() > -100 else a)

    with pytest.warns(UserWarning, match="jacfwd runs one jvp per basis vector"):
        ours = jacfwd(make(minigrad))(minigrad.tensor(_X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.func.jacfwd(make(torch))(torch.tensor(_X))
    _close(ours, theirs)


def test_an_mlps_parameter_jacobian_as_torch():
    minigrad.manual_seed(0)
    ours = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    theirs = theirs.double()
    params = {k: v.detach() for k, v in ours.named_parameters()}
    t_params = {k: torch.tensor(v.numpy()) for k, v in params.items()}
    x = _RNG.standard_normal((5, 4))
    got = jacfwd(lambda p: functional_call(ours, p, (minigrad.tensor(x),)))(params)
    want = torch.func.jacfwd(lambda p: torch.func.functional_call(theirs, p, (torch.tensor(x),)))(
        t_params
    )
    _close(got, want)
    per_sample = vmap(jacfwd(lambda v: ours(v)))(minigrad.tensor(x))
    assert tuple(per_sample.shape) == (5, 3, 4)


def test_reverse_over_the_vmapped_forward_as_torch():
    results = []
    for lib, func in ((minigrad, minigrad.func), (torch, torch.func)):

        def f(a):
            return a.sin() * (a**2).sum()

        x = lib.tensor(_X, requires_grad=True)
        func.jacfwd(f)(x).sum().backward()  # the Jacobian is differentiable
        results.append((func.jacrev(func.jacfwd(f))(lib.tensor(_X)), x.grad))
    _close(results[0], results[1])
