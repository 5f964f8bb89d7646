"""What the eighteenth session's new-user trial found: PyTorch programs that ran differently under
``import minigrad as torch`` (scheduler state-dict key order, anomaly mode's NaN-only check and
its warnings), each compared with PyTorch where it is installed."""

import warnings

import pytest

import minigrad


def _schedulers(lib):
    sched = lib.optim.lr_scheduler
    return {
        "StepLR": lambda o: sched.StepLR(o, 3),
        "OneCycleLR": lambda o: sched.OneCycleLR(o, 0.1, total_steps=10),
        "CosineAnnealingLR": lambda o: sched.CosineAnnealingLR(o, 10),
        "LambdaLR": lambda o: sched.LambdaLR(o, lambda e: 0.9**e),
        "CyclicLR": lambda o: sched.CyclicLR(o, 0.01, 0.1),
        "ReduceLROnPlateau": lambda o: sched.ReduceLROnPlateau(o),
    }


@pytest.mark.parametrize("name", list(_schedulers(minigrad)))
def test_scheduler_state_dict_keys_in_pytorchs_order(name):
    """A checkpoint's scheduler state lists its keys as PyTorch's does (``_is_initial`` before
    ``_get_lr_called_within_step``; OneCycleLR's phases before its anneal strategy)."""
    torch = pytest.importorskip("torch")

    def keys(lib):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(2))], lr=0.1, momentum=0.9)
        return list(_schedulers(lib)[name](opt).state_dict())

    assert keys(minigrad) == keys(torch)


def _leaf(lib):
    return lib.tensor([0.0, 1.0], requires_grad=True)


def test_anomaly_mode_stops_at_nan_not_at_infinity_as_pytorch():
    torch = pytest.importorskip("torch")
    for lib in (minigrad, torch):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                x = _leaf(lib)
                x.sqrt().sum().backward()  # inf at 0: not an anomaly
                assert x.grad[0].item() == float("inf")
                with pytest.raises(
                    RuntimeError, match=r"^Function 'SqrtBackward0' returned nan values in its 0th"
                ):
                    (x.sqrt() * 0).sum().backward()
        messages = [str(w.message) for w in seen]
        assert messages[0].startswith("Anomaly Detection has been enabled"), lib
        assert any(m.startswith("Error detected in SqrtBackward0") for m in messages), lib


def test_anomaly_mode_without_nan_check_records_only():
    torch = pytest.importorskip("torch")
    for lib in (minigrad, torch):
        x = _leaf(lib)
        with pytest.warns(UserWarning), lib.autograd.detect_anomaly(check_nan=False):
            assert lib.is_anomaly_enabled() and not lib.is_anomaly_check_nan_enabled()
            (x.sqrt() * 0).sum().backward()
        assert x.grad.isnan()[0].item() and lib.is_anomaly_check_nan_enabled()
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            assert lib.is_anomaly_enabled() and not lib.is_anomaly_check_nan_enabled()
        assert not lib.is_anomaly_enabled() and lib.is_anomaly_check_nan_enabled()


def _deprecation_messages(lib):
    a = lib.eye(3) * 2.0
    calls = {
        "qr": lambda: lib.qr(a),
        "cholesky": lambda: lib.cholesky(a),
        "triangular_solve": lambda: lib.triangular_solve(a, a),
        "lu_solve": lambda: lib.lu_solve(a[:, :1], *lib.linalg.lu_factor(a)),
        "lu": lambda: lib.lu(a),
        "Tensor.lu": lambda: a.lu(),
    }
    seen = {}
    for name, call in calls.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        seen[name] = [str(w.message).split(" (Triggered internally")[0] for w in caught]
    return seen


def test_deprecated_linalg_functions_warn_as_pytorch():
    """``torch.qr``/``cholesky``/``lu``/``triangular_solve``/``lu_solve`` (and ``Tensor.lu``, the
    same kernel) warn PyTorch's words, once per process unless ``set_warn_always``."""
    torch = pytest.importorskip("torch")
    seen = {}
    for lib in (minigrad, torch):
        always = lib.is_warn_always_enabled()
        lib.set_warn_always(True)  # (PyTorch's once-per-process warnings may have been given)
        try:
            seen[lib] = _deprecation_messages(lib)
        finally:
            lib.set_warn_always(always)
    assert seen[minigrad] == seen[torch] and all(seen[minigrad].values())
    assert not any(_deprecation_messages(minigrad).values())  # said already: once per process


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_pdist_and_det_refuse_16_bit_floats_as_pytorch(dtype):
    """PyTorch's CPU ``pdist`` and LU kernels (under ``det``) have no 16-bit float version: a
    NotImplementedError naming the kernel, where minigrad computed (pdist) or raised
    RuntimeError (det)."""
    torch = pytest.importorskip("torch")
    for lib in (minigrad, torch):
        a = lib.eye(3).to(getattr(lib, dtype))
        with pytest.raises(NotImplementedError, match='"pdist" not implemented'):
            lib.nn.functional.pdist(a)
        with pytest.raises(NotImplementedError, match='"lu_cpu" not implemented'):
            lib.linalg.det(a)


def test_solve_triangular_solves_in_the_dtype_of_a_as_pytorch():
    """``solve_triangular(A, B)`` with B of another floating dtype: PyTorch's kernel casts B to
    A's dtype (float32 A, float64 B: a float32 result, bit-equal to casting B first)."""
    torch = pytest.importorskip("torch")
    import numpy as np

    rng = np.random.default_rng(0)
    a = np.triu(rng.standard_normal((5, 5))) + 3 * np.eye(5)
    b = rng.standard_normal((5, 3))
    for a_dtype, b_dtype in (("float32", "float64"), ("float64", "float32")):
        out = {}
        for lib in (minigrad, torch):
            A = lib.tensor(a, dtype=getattr(lib, a_dtype))
            B = lib.tensor(b, dtype=getattr(lib, b_dtype))
            out[lib] = lib.linalg.solve_triangular(A, B, upper=True)
        assert str(out[minigrad].dtype).split(".")[-1] == a_dtype
        np.testing.assert_allclose(out[minigrad].numpy(), out[torch].numpy(), rtol=1e-6)


def test_broadcast_tensors_returns_a_tensor_of_the_common_shape_itself():
    """As PyTorch's: so a distribution's ``loc`` is the leaf the user passed, and its ``.grad``
    fills (variational inference with ``Normal(loc, scale).rsample()``)."""
    torch = pytest.importorskip("torch")
    for lib in (minigrad, torch):
        loc = lib.zeros(2, requires_grad=True)
        same, wider = (
            lib.broadcast_tensors(loc, lib.ones(2))[0],
            lib.broadcast_tensors(loc, lib.ones(3, 2))[0],
        )
        assert same is loc and wider.grad_fn is not None
        q = lib.distributions.Normal(loc, lib.ones(2))
        (-lib.distributions.Normal(1.0, 1.0).log_prob(q.rsample((50,)))).mean().backward()
        assert q.loc is loc and loc.grad is not None
