"""Fixes found running the twenty-second helper's third-party libraries (POT, ...) on minigrad:
each test fails without its fix."""

import importlib
import warnings

import numpy as np
import pytest

import minigrad
import minigrad._warnings


@pytest.fixture
def fresh_once(monkeypatch):
    """Forget the once-per-process warnings already given (restored afterwards)."""
    monkeypatch.setattr(minigrad._warnings, "_said_once", set())


def _messages(f):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f()
        f()  # PyTorch's TORCH_WARN_ONCE: the second call says nothing
    return [str(w.message) for w in caught], [w.filename for w in caught]


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4)])
def test_T_of_a_non_matrix_warns_once_as_pytorch(fresh_once, shape):
    """POT's ``wasserstein_1d`` takes ``x.T`` of a 1-D tensor: PyTorch's deprecation warning."""
    x = minigrad.randn(shape)
    said, where = _messages(lambda: x.T)
    assert len(said) == 1 and said[0].startswith("The use of `x.T` on tensors of dimension other")
    assert "`x.permute(*torch.arange(x.ndim - 1, -1, -1))`" in said[0]
    assert where == [__file__]
    assert x.T.shape == shape[::-1]
    assert _messages(lambda: minigrad.randn(2, 3).T)[0] == []


@pytest.mark.parametrize(
    "name, hint",
    [
        ("T", "This function is the identity in these cases."),
        ("mT", "This function is the identity in these cases."),
        ("H", "Consider using x.conj()."),
        ("mH", "Consider using x.conj()."),
    ],
)
def test_matrix_transposes_of_a_0d_tensor_warn_once_as_pytorch(fresh_once, name, hint):
    z = minigrad.tensor(2.0, requires_grad=True)
    said, _ = _messages(lambda: getattr(z, name))
    assert said == [f"Tensor.{name} is deprecated on 0-D tensors. {hint}"]
    out = getattr(z, name)
    if name == "T":  # a permute, as PyTorch's
        assert out.grad_fn.name() == "PermuteBackward0" and out._base is z
    else:  # the tensor itself, as PyTorch's
        assert out is z


def test_adjoint_of_a_0d_tensor_warns_as_pytorch(fresh_once):
    z = minigrad.tensor(1 + 2j)
    said, _ = _messages(lambda: z.adjoint())
    assert said == ["adjoint() is deprecated on 0-D tensors. Consider using x.conj()."]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert [z.adjoint().item(), z.mH.item(), z.H.item()] == [1 - 2j] * 3


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "RAdam"])
def test_optimizers_pass_their_switches_in_defaults_as_pytorch(name):
    """pytorch_optimizer's DeMo is ``class DeMo(torch.optim.SGD, BaseOptimizer)``: SGD's
    ``super().__init__(params, defaults)`` reaches a mixin taking ``(params, defaults)`` only,
    so ``foreach`` and the other switches travel in ``defaults``, as PyTorch's."""

    class Base(minigrad.optim.Optimizer):
        def __init__(self, params, defaults):
            self.seen = sorted(defaults)
            super().__init__(params, defaults)

    mixed = type("Mixed", (getattr(minigrad.optim, name), Base), {})
    opt = mixed([minigrad.nn.Parameter(minigrad.ones(2))], lr=0.1, foreach=False)
    assert "foreach" in opt.seen and "differentiable" in opt.seen
    assert opt.param_groups[0]["foreach"] is False


def test_patch_step_function_as_pytorch():
    """pytorch_optimizer's Magma wraps another optimizer without ``Optimizer.__init__`` and
    calls PyTorch's private ``_patch_step_function``: the step hooks then run."""

    class Wrapper(minigrad.optim.Optimizer):
        def __init__(self, inner):
            self.inner = inner
            self._patch_step_function()

        def step(self, closure=None):
            return self.inner.step(closure)

    p = minigrad.nn.Parameter(minigrad.ones(2))
    opt = Wrapper(minigrad.optim.SGD([p], lr=0.5))
    assert opt._zero_grad_profile_name == "Optimizer.zero_grad#Wrapper.zero_grad"
    calls = []
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(type(o).__name__))
    p.grad = minigrad.ones(2)
    opt.step()
    assert calls == ["Wrapper"] and p.tolist() == [0.5, 0.5]


def test_group_tensors_by_device_and_dtype_as_pytorch():
    """``torch.utils._foreach_utils`` (pytorch_optimizer imports it): the groups of a nested
    list by the device and dtype of the first list's tensors, with their indices."""
    from minigrad.utils import _foreach_utils as fu

    a, b, c = minigrad.ones(2), minigrad.ones(3, dtype=minigrad.float64), minigrad.zeros(1)
    groups = fu._group_tensors_by_device_and_dtype([[a, b, c], [None, b, c]], with_indices=True)
    cpu = minigrad.device("cpu")
    (f32_lists, f32_at), (f64_lists, f64_at) = (
        groups[cpu, minigrad.float32],
        groups[cpu, minigrad.float64],
    )
    assert f32_at == [0, 2] and f64_at == [1] and len(groups) == 2
    assert f32_lists[0][0] is a and f32_lists[1] == [None, c] and f64_lists[1][0] is b
    assert fu._group_tensors_by_device_and_dtype([[a], []])[cpu, minigrad.float32] == (
        [[a], []],
        [],
    )
    with pytest.raises(RuntimeError, match="the 0-th Tensor is not"):
        fu._group_tensors_by_device_and_dtype([[None, a]])
    with pytest.raises(RuntimeError, match="as long as the first"):
        fu._group_tensors_by_device_and_dtype([[a, b], [a]])
    assert (
        fu._has_foreach_support([a, None], cpu)
        and "cpu" in fu._get_fused_kernels_supported_devices()
    )


def _hessian_rows(mod):
    x = mod.tensor([1.0, 2.0, 3.0], dtype=mod.float64, requires_grad=True)
    (g,) = mod.autograd.grad((x**3).sum() + x[0] * x[1], x, create_graph=True)
    legacy = importlib.import_module(mod.__name__ + "._vmap_internals")
    rows = legacy._vmap(lambda v: mod.autograd.grad(g, x, v, retain_graph=True)[0])
    return rows(mod.eye(3, dtype=mod.float64))


def test_legacy_vmap_batches_autograd_grad_as_pytorch():
    """pytorch-minimize's Newton methods take a Hessian as ``torch._vmap_internals._vmap`` of
    ``autograd.grad`` over the rows of an identity."""
    hessian = _hessian_rows(minigrad)
    assert hessian.tolist() == [[6.0, 1.0, 0.0], [1.0, 12.0, 0.0], [0.0, 0.0, 18.0]]
    torch = pytest.importorskip("torch")
    assert _hessian_rows(torch).tolist() == hessian.tolist()
    vmap = importlib.import_module("minigrad._vmap_internals")._vmap
    a, b = minigrad.arange(6.0).reshape(2, 3), minigrad.tensor([10.0, 20.0])
    out = vmap(lambda r, s: (r * s, r.sum()), in_dims=(1, None), out_dims=(1, 0))(a, b)
    assert out[0].tolist() == [[0.0, 10.0, 20.0], [60.0, 80.0, 100.0]]
    assert out[1].tolist() == [3.0, 5.0, 7.0]
    assert vmap(lambda r: None, allow_none_pass_through=True)(a) is None
    with pytest.raises(ValueError, match="must only return Tensors"):
        vmap(lambda r: None)(a)
    with pytest.warns(FutureWarning, match="Please use `torch.vmap` instead"):
        importlib.import_module("minigrad._vmap_internals").vmap(lambda r: r)


def test_autograd_functional_private_helpers_as_pytorch():
    """``torch.autograd.functional``'s ``_as_tuple``, ``_construct_standard_basis_for``,
    ``_grad_postprocess`` and ``_tuple_postprocess`` (pytorch-minimize's Jacobians)."""
    from minigrad.autograd import functional as af

    a, b = minigrad.zeros(1), minigrad.zeros(2, dtype=minigrad.float64)
    assert af._as_tuple(a, "inputs", "jacobian") == (False, (a,))
    assert af._as_tuple((a, b), "inputs", "jacobian")[0] is True
    assert af._as_tuple([a, b]) == (a, b) and af._as_tuple(a) == (a,)
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        af._as_tuple((a, 1), "inputs", "jacobian")
    first, second = af._construct_standard_basis_for((a, b), (1, 2))
    assert first.tolist() == [[1.0], [0.0], [0.0]] and first.dtype == minigrad.float32
    assert second.tolist() == [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]] and second.dtype == b.dtype
    assert af._tuple_postprocess(((a,),), (False, False)) is a
    assert af._tuple_postprocess((a, b), True) == (a, b)
    x = minigrad.ones(2, requires_grad=True) * 2
    assert af._grad_postprocess(((x,),), False)[0][0].requires_grad is False
    assert af._grad_postprocess((x,), True)[0] is x


def _line_search(mod):
    """PyTorch's tensor line search on a quadratic from a poor first step."""
    lbfgs = importlib.import_module(mod.__name__ + ".optim.lbfgs")
    scale = mod.tensor([1.0, 10.0, 100.0], dtype=mod.float64)
    x, d = mod.tensor([1.0, 1.0, 1.0], dtype=mod.float64), mod.tensor([-1.0, -1.0, -1.0])

    def obj(x, t, d):
        y = x + t * d.double()
        return float((scale * y * y).sum()), 2 * scale * y

    f, g = obj(x, 0.0, d)
    f_new, g_new, t, evals = lbfgs._strong_wolfe(obj, x, 3.0, d.double(), f, g, g.dot(d.double()))
    f1, g1, f2, g2 = (mod.tensor(v, dtype=mod.float64) for v in (1.0, -1.0, 0.5, 0.2))
    cubic = lbfgs._cubic_interpolate(0.0, f1, g1, 1.0, f2, g2)  # (PyTorch's takes tensors)
    return [float(f_new), *g_new.tolist(), float(t), evals, float(cubic)]


def test_strong_wolfe_on_tensors_as_pytorch():
    """pytorch-minimize imports ``torch.optim.lbfgs._strong_wolfe`` and ``_cubic_interpolate``
    (PyTorch's signatures, on tensors)."""
    ours = _line_search(minigrad)
    assert ours[5] > 1 and 0 < ours[4] < 3.0
    torch = pytest.importorskip("torch")
    assert ours == pytest.approx(_line_search(torch), rel=1e-12)


def test_cuda_is_initialized():
    """torchquad asks ``torch.cuda.is_initialized()``: False until CUDA has been started."""
    if not minigrad.cuda.is_available():
        assert minigrad.cuda.is_initialized() is False
    else:
        minigrad.zeros(1, device="cuda")
        assert minigrad.cuda.is_initialized() is True


def _vmapped_vjps(mod):
    x = mod.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=mod.float64, requires_grad=True)
    losses = mod.stack([(x**2).sum(), (x[0] * x[1]).sum(), x.sin().sum()])

    def vjp(v):
        return mod.autograd.grad(losses, x, v, retain_graph=True)

    return mod.vmap(vjp)(mod.eye(3, dtype=mod.float64))[0]


def test_vmap_over_autograd_grad_as_pytorch():
    """torchjd maps ``torch.autograd.grad`` over the rows of a Jacobian with ``torch.vmap``:
    the cotangents batched, each row one vector-Jacobian product (it crashed in the engine)."""
    rows = _vmapped_vjps(minigrad)
    assert rows.shape == (3, 2, 2) and rows[1].tolist() == [[3.0, 4.0], [1.0, 2.0]]
    torch = pytest.importorskip("torch")
    assert np.allclose(rows.tolist(), _vmapped_vjps(torch).tolist(), rtol=1e-12, atol=0)


def test_vmap_over_autograd_grad_of_batched_outputs_says_what_is_missing():
    x = minigrad.ones(2, requires_grad=True)

    def per_sample(v):
        return minigrad.autograd.grad((x * v).sum(), x, minigrad.ones(()).mul(v.sum()))

    with pytest.raises(NotImplementedError, match="vmap over autograd.grad"):
        minigrad.vmap(per_sample)(minigrad.ones(3, 2))


def test_cuda_random_namespace():
    """torchattacks' APGD seeds with ``torch.cuda.random.manual_seed``."""
    random = minigrad.cuda.random
    assert random.manual_seed is minigrad.cuda.manual_seed
    assert random.get_rng_state is minigrad.cuda.get_rng_state
