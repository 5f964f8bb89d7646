"""What pytorch-minimize (torchmin) needed, compared with PyTorch: ``torch._vmap_internals._vmap``
over ``autograd.grad``, ``torch.autograd.functional``'s private helpers, ``torch.optim.lbfgs``'s
``_strong_wolfe`` and ``_cubic_interpolate`` with PyTorch's tensor signatures, and
``torch.linalg.LinAlgError`` named ``torch._C._LinAlgError``."""

import importlib
import pickle

import numpy as np
import pytest

import minigrad
from minigrad._vmap_internals import _vmap, vmap
from minigrad.func import autograd_functional as mfun
from minigrad.optim import lbfgs as mlbfgs

torch = pytest.importorskip("torch")


def _hessian_rows(lib, vmap_fn):
    x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    (g,) = lib.autograd.grad((x**3).sum() + x.prod(), x, create_graph=True)

    def hvp(v):
        return lib.autograd.grad(g, x, v, retain_graph=True)[0]

    return vmap_fn(hvp)(lib.eye(3, dtype=lib.float64)).tolist()


def test_legacy_vmap_batches_autograd_grad():
    import torch._vmap_internals as tvi

    assert _hessian_rows(minigrad, _vmap) == _hessian_rows(torch, tvi._vmap)


def test_legacy_vmap_dims_and_none_outputs():
    a, b = np.arange(6.0).reshape(3, 2), np.arange(3.0)

    def f(x, y):
        return x * y, None

    ours = _vmap(f, in_dims=(1, None), out_dims=(1, 0), allow_none_pass_through=True)(
        minigrad.tensor(a), minigrad.tensor(b)
    )
    assert ours[1] is None and ours[0].tolist() == (a * b[:, None]).tolist()
    assert vmap(minigrad.sin)(minigrad.tensor(a)).tolist() == np.sin(a).tolist()
    with pytest.raises(ValueError, match="must only return Tensors"):
        _vmap(f)(minigrad.tensor(a), minigrad.tensor(a))
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        _vmap(lambda x, y: x)(minigrad.tensor(a), minigrad.arange(4.0))


def test_autograd_functional_private_helpers_as_pytorch():
    import torch.autograd.functional as tfun

    for lib, fun in ((minigrad, mfun), (torch, tfun)):
        t = lib.ones(2)
        assert fun._as_tuple(t, "inputs", "jacobian")[0] is False
        assert fun._as_tuple((t, t), "inputs", "jacobian")[0] is True
        assert fun._tuple_postprocess(((1, 2), (3, 4)), (False, False)) == 1
    basis = [
        [c.tolist() for c in fun._construct_standard_basis_for((lib.ones(2), lib.ones(1)), (2, 1))]
        for lib, fun in ((minigrad, mfun), (torch, tfun))
    ]
    assert basis[0] == basis[1]
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        mfun._as_tuple(3, "inputs", "jacobian")


def _wolfe(lib, module):
    def rosen(x):
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    def obj(x, t, d):
        y = (x + t * d).detach().requires_grad_()
        f = rosen(y)
        (g,) = lib.autograd.grad(f, y)
        return float(f.detach()), g

    x = lib.tensor([-1.0, 1.5, 0.5], dtype=lib.float64)
    f, g = obj(x, 0.0, x)
    d = -g
    f_new, g_new, t, evals = module._strong_wolfe(obj, x, 1e-3, d, f, g, g.dot(d))
    slopes = lib.tensor([-1.0, 0.2], dtype=lib.float64)
    cubic = module._cubic_interpolate(0.0, 1.0, slopes[0], 1.0, 0.5, slopes[1])
    return [f_new, *g_new.tolist(), float(t), float(cubic)], evals


def test_lbfgs_line_search_with_pytorch_signatures():
    import torch.optim.lbfgs as tlbfgs

    ours, theirs = _wolfe(minigrad, mlbfgs), _wolfe(torch, tlbfgs)
    assert ours[1] == theirs[1]
    assert np.allclose(ours[0], theirs[0], rtol=1e-12)


def test_linalg_error_is_named_as_pytorchs():
    error = minigrad.linalg.LinAlgError
    assert error.__name__ == torch.linalg.LinAlgError.__name__ == "_LinAlgError"
    assert minigrad._C._LinAlgError is error
    assert type(pickle.loads(pickle.dumps(error("x")))) is error
    with pytest.raises(error):
        minigrad.linalg.cholesky(-minigrad.eye(2))


def _jacobian_rows(lib):
    """``vmap`` over ``autograd.grad`` with the cotangents batched and the outputs not (torchjd's
    Jacobians): one vector-Jacobian product per row of the basis, and a mixed plain cotangent."""
    x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    y = lib.relu(x) * x.sin()
    z = x.exp().sum()

    def vjp(v):
        return lib.autograd.grad([y, z], x, [v, lib.tensor(2.0, dtype=lib.float64)], True)

    (rows,) = lib.vmap(vjp)(lib.eye(3, dtype=lib.float64))
    return rows.tolist()


def test_vmap_over_grad_with_batched_cotangents():
    assert np.allclose(_jacobian_rows(minigrad), _jacobian_rows(torch), rtol=1e-14, atol=0)


def test_backward_create_graph_warns_as_pytorch(recwarn):
    always = minigrad.is_warn_always_enabled()
    minigrad.set_warn_always(True)  # PyTorch says it once per process
    try:
        x = minigrad.ones(2, requires_grad=True)
        (x**2).sum().backward(create_graph=True)
        minigrad.autograd.grad((x**2).sum(), x, create_graph=True)
    finally:
        minigrad.set_warn_always(always)
    messages = [str(w.message) for w in recwarn]
    assert len(messages) == 1 and messages[0].startswith(
        "Using backward() with create_graph=True will create a reference cycle"
    )
    assert recwarn[0].filename == __file__


def test_foreach_utils_group_by_device_and_dtype_as_pytorch():
    import torch.utils._foreach_utils as tfu

    from minigrad.utils import _foreach_utils as mfu

    def groups(lib, fu):
        a = [lib.ones(2), lib.ones(2, dtype=lib.float64), lib.zeros(3)]
        out = fu._group_tensors_by_device_and_dtype([a, [None, None, a[2]]], with_indices=True)
        return {str(k[1]).split(".")[-1]: ([[None if t is None else t.tolist() for t in ts]
                                             for ts in v[0]], v[1]) for k, v in out.items()}  # fmt: skip

    assert groups(minigrad, mfu) == groups(torch, tfu)
    assert mfu._has_foreach_support([minigrad.ones(1)], minigrad.device("cpu"))


def test_cubic_interpolate_nan_gives_the_midpoint_as_pytorch():
    import torch.optim.lbfgs as tlbfgs

    for lib, module in ((minigrad, mlbfgs), (torch, tlbfgs)):
        nan = lib.tensor(float("nan"), dtype=lib.float64)
        assert float(module._cubic_interpolate(0.0, 1.0, nan, 2.0, 0.5, 0.3)) == 1.0


def test_dim_as_a_0d_integer_tensor_as_pytorch():
    x = np.arange(12.0).reshape(3, 4)
    for lib in (minigrad, torch):
        t = lib.tensor(x)
        assert lib.index_select(t, lib.tensor(1), lib.arange(2)).tolist() == x[:, :2].tolist()
        assert t.sum(lib.tensor(1)).tolist() == x.sum(1).tolist()
        assert t.narrow(np.int64(0), 0, 2).tolist() == x[:2].tolist()
        for bad in (lib.tensor(1.0), lib.tensor([1])):
            with pytest.raises(TypeError):
                lib.index_select(t, bad, lib.arange(2))


def _get_lr_warnings(lib):
    import warnings

    scheduler = importlib.import_module(lib.__name__ + ".optim.lr_scheduler")

    class Own(scheduler.LRScheduler):
        def get_lr(self):
            return [0.5 for _ in self.base_lrs]

    opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
    counts = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for make in (Own, lambda o: scheduler.StepLR(o, 2)):
            make(opt).get_lr()
            counts.append(len(caught))
    return counts


def test_own_scheduler_get_lr_does_not_warn_as_pytorch():
    assert _get_lr_warnings(minigrad) == _get_lr_warnings(torch) == [0, 1]
