"""Fixes found by running PyTorch programs (tests/test_programs5.py): arguments passed by
their PyTorch names, compared with PyTorch itself."""

import numpy as np
import pytest

import minigrad

torch = pytest.importorskip("torch")


def _pair(values):
    return minigrad.tensor(values), torch.tensor(values)


SIZE_KEYWORDS = [  # the official MAE code: imgs.reshape(shape=(...)), and its relatives
    lambda t, x: x.reshape(shape=(3, 2)),
    lambda t, x: t.reshape(x, shape=[2, 3]),
    lambda t, x: x.view(size=(3, 2)),
    lambda t, x: x.permute(dims=(1, 0)),
    lambda t, x: t.permute(x, dims=[1, 0]),
    lambda t, x: x[:1].expand(size=(4, 3)),
    lambda t, x: x.repeat(repeats=(2, 1)),
    lambda t, x: x.new_zeros(size=(2,)),
    lambda t, x: x.new_ones(size=[1, 2]),
    lambda t, x: x.new_empty(size=(0, 3)),
    lambda t, x: t.broadcast_to(x[:1], size=(2, 3)),
    lambda t, x: x.swapaxes(axis0=0, axis1=1),
    lambda t, x: t.swapaxes(x, 0, 1),
    lambda t, x: t.swapdims(x, dim0=0, dim1=1),
]


@pytest.mark.parametrize("call", SIZE_KEYWORDS)
def test_sizes_and_dims_by_keyword(call):
    ours, theirs = _pair([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    got, want = call(minigrad, ours), call(torch, theirs)
    assert tuple(got.shape) == tuple(want.shape)
    if want.numel() and call not in (SIZE_KEYWORDS[9],):  # new_empty: values undefined
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_sizes_given_twice_are_refused():
    x = minigrad.zeros(6)
    with pytest.raises(TypeError, match="reshape.*multiple values for argument 'shape'"):
        x.reshape(2, 3, shape=(2, 3))
    with pytest.raises(TypeError, match="view.*'size'"):
        x.view(6, size=(6,))


BINARY_KEYWORDS = [
    lambda t, x, y: t.add(input=x, other=y, alpha=2),
    lambda t, x, y: x.add(other=y),
    lambda t, x, y: x.sub(other=y, alpha=3),
    lambda t, x, y: t.mul(input=x, other=y),
    lambda t, x, y: t.div(x, other=y, rounding_mode="floor"),
    lambda t, x, y: x.pow(exponent=2),
    lambda t, x, y: t.pow(input=x, exponent=y),
    lambda t, x, y: t.maximum(x, other=y),
    lambda t, x, y: t.minimum(input=x, other=y),
    lambda t, x, y: t.remainder(x, other=y),
    lambda t, x, y: t.floor_divide(x, other=y),
    lambda t, x, y: x.clone().div_(y, rounding_mode="floor"),
    lambda t, x, y: x.clone().div_(other=y, rounding_mode="trunc"),
]


@pytest.mark.parametrize("call", BINARY_KEYWORDS)
def test_binary_ops_by_pytorchs_argument_names(call):
    x, tx = _pair([1.5, -2.5, 3.0, 7.0])
    y, ty = _pair([2.0, 3.0, -1.0, 0.5])
    np.testing.assert_allclose(call(minigrad, x, y).numpy(), call(torch, tx, ty).numpy(), 1e-6)


def test_in_place_division_with_rounding_keeps_the_graph():
    a = minigrad.tensor([1.5, -2.5, 7.0], requires_grad=True)
    ta = torch.tensor([1.5, -2.5, 7.0], requires_grad=True)
    for x in (a, ta):
        y = x * 3
        y.div_(2, rounding_mode="floor")
        (y * x).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())


def test_first_argument_by_name_in_device_aware_functions():
    """Functions that run on their first tensor's GPU took that tensor positionally only:
    F.ctc_loss(log_probs=...), torch.searchsorted(sorted_sequence=..., input=...)."""
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 2, 4)).astype(np.float32)
    args = dict(targets=[[1, 2], [3, 3]], input_lengths=[6, 5], target_lengths=[2, 2])
    losses = []
    for lib in (minigrad, torch):
        kwargs = {k: lib.tensor(v) for k, v in args.items()}
        log_probs = lib.tensor(logits).log_softmax(2)
        losses.append(lib.nn.functional.ctc_loss(log_probs=log_probs, **kwargs, blank=0).item())
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    found = [
        lib.searchsorted(sorted_sequence=lib.tensor([1.0, 3.0, 5.0]), input=lib.tensor([3.0, 6.0]))
        for lib in (minigrad, torch)
    ]
    assert found[0].tolist() == found[1].tolist() == [1, 3]
    with pytest.raises(TypeError, match="sorted_sequence"):
        minigrad.searchsorted(input=minigrad.tensor([1.0]))


AXIS_ALIASES = [  # NumPy habits PyTorch accepts: x.sum(axis=1), torch.cat(ts, axis=0)
    lambda t, x: x.sum(axis=1),
    lambda t, x: t.sum(x, axis=0, keepdim=True),
    lambda t, x: x.mean(axis=0),
    lambda t, x: x.prod(axis=1),
    lambda t, x: x.max(axis=1).values,
    lambda t, x: x.min(axis=0).indices,
    lambda t, x: x.argmax(axis=1),
    lambda t, x: x.amax(axis=0),
    lambda t, x: x.std(axis=1),
    lambda t, x: x.var(axis=0, keepdim=True),
    lambda t, x: x.logsumexp(axis=1),
    lambda t, x: x.cumsum(axis=1),
    lambda t, x: (x > 2).any(axis=1),
    lambda t, x: t.cat([x, x], axis=1),
    lambda t, x: t.stack([x, x], axis=0),
]


@pytest.mark.parametrize("call", AXIS_ALIASES)
def test_axis_is_an_alias_of_dim(call):
    ours, theirs = _pair([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    np.testing.assert_allclose(call(minigrad, ours).numpy(), call(torch, theirs).numpy(), 1e-6)


def test_axis_and_dim_together_are_refused():
    with pytest.raises(TypeError, match="sum.*'dim' and its alias 'axis'"):
        minigrad.zeros(2, 3).sum(dim=0, axis=1)


VARIANCE_FORMS = [  # the older positional (dim, unbiased, keepdim) and var(unbiased) forms
    lambda x: x.var(False),
    lambda x: x.std(True),
    lambda x: x.var(0, True, True),
    lambda x: x.std(1, False),
    lambda x: x.var(1, correction=0, keepdim=True),
    lambda x: x.std(unbiased=False),
]


@pytest.mark.parametrize("call", VARIANCE_FORMS)
def test_variance_argument_forms(call):
    ours, theirs = _pair([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    np.testing.assert_allclose(call(ours).numpy(), call(theirs).numpy(), 1e-6)


def test_shift_operators_and_membership():
    ours, theirs = _pair([1, 2, 3])
    for call in (lambda x: x << 1, lambda x: x >> 1, lambda x: 1 << x, lambda x: 16 >> x):
        assert call(ours).tolist() == call(theirs).tolist()
    for element in (2, 5, 2.0, True):
        assert (element in ours) == (element in theirs)
    grid = minigrad.tensor([[1, 2], [3, 4]])
    assert minigrad.tensor([1, 2]) in grid and minigrad.tensor([2, 1]) not in grid
    with pytest.raises(RuntimeError, match="only supports Tensor or scalar"):
        "a" in ours  # noqa: B015


@pytest.mark.parametrize(
    "values, kwargs",
    [([1.0, 2.0, 3.0], {}), ([0.0, -1.5, 2.0], {"N": 4, "increasing": True}), ([2, 3], {}),
     ([1.0, 2.0], {"N": 0}), ([1.0, 2.0], {"N": 1})],
)  # fmt: skip
def test_vander_equals_pytorchs(values, kwargs):
    ours, theirs = (
        minigrad.vander(minigrad.tensor(values), **kwargs),
        torch.vander(torch.tensor(values), **kwargs),
    )
    assert ours.dtype == getattr(minigrad, str(theirs.dtype).split(".")[1])
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_vander_gradient_is_finite_at_zero_and_equals_pytorchs():
    x = minigrad.tensor([0.0, -1.5, 2.0], dtype=minigrad.float64, requires_grad=True)
    tx = torch.tensor([0.0, -1.5, 2.0], dtype=torch.float64, requires_grad=True)
    w = np.random.default_rng(0).standard_normal((3, 4))
    (minigrad.vander(x, N=4) * minigrad.tensor(w)).sum().backward()
    # (torch.vander's own backward fails here: it modifies a saved tensor in place)
    powers = torch.stack([tx**3, tx**2, tx, torch.ones_like(tx)], 1)
    (powers * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    assert minigrad.autograd.gradgradcheck(
        lambda t: minigrad.vander(t, N=3), (x.detach().requires_grad_(),)
    )
    with pytest.raises(RuntimeError, match="vander: x must be a one-dimensional"):
        minigrad.vander(minigrad.ones(2, 2))


def test_deepcopy_of_a_parameter_leaves_its_grad_behind():
    """copy.deepcopy(model) (EMA and target networks, swa_utils.AveragedModel) gives fresh
    parameters without gradients in PyTorch; plain tensors keep theirs."""
    import copy

    for lib in (minigrad, torch):
        p = lib.nn.Parameter(lib.ones(2))
        p.grad = lib.ones(2)
        plain = lib.ones(2, requires_grad=True)
        plain.grad = lib.ones(2)
        assert copy.deepcopy(p).grad is None and copy.deepcopy(p).requires_grad
        assert copy.deepcopy(plain).grad is not None
        net = lib.nn.Linear(2, 1)
        net(lib.ones(1, 2)).sum().backward()
        assert copy.deepcopy(net).weight.grad is None and net.weight.grad is not None


def test_batch_norm_loads_a_checkpoint_without_its_batch_counter():
    """Checkpoints saved before num_batches_tracked existed load strictly, as in PyTorch."""
    results = []
    for lib in (minigrad, torch):
        bn = lib.nn.BatchNorm1d(3)
        bn.num_batches_tracked.fill_(7)
        old = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
        old["running_mean"] = lib.tensor([1.0, 2.0, 3.0])
        fresh = lib.nn.BatchNorm1d(3)
        keys = fresh.load_state_dict(old, strict=True)
        results.append((keys.missing_keys, keys.unexpected_keys, fresh.running_mean.tolist()))
        results.append(int(fresh.num_batches_tracked))
    assert results[0] == results[2] == ([], [], [1.0, 2.0, 3.0])
    assert results[1] == results[3] == 0
    missing = minigrad.nn.BatchNorm1d(3).load_state_dict({}, strict=False).missing_keys
    assert missing == ["weight", "bias", "running_mean", "running_var"]


@pytest.mark.filterwarnings("ignore:__array_wrap__:DeprecationWarning")  # PyTorch's NumPy path
def test_numpy_arrays_as_operands():
    """``t * np.ones(3)`` raised; PyTorch answers with a tensor (it computes such mixed
    expressions through NumPy, so where NumPy promotes differently the dtype can differ:
    minigrad keeps the graph and promotes as for two tensors)."""
    w = np.array([0.5, 2.0, -1.0])
    for call in (lambda t: t * w, lambda t: t - w, lambda t: t / w.astype(np.float32)):
        ours = call(minigrad.tensor([1.0, 2.0, 3.0], dtype=minigrad.float64))
        theirs = call(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
        assert ours.dtype is minigrad.float64 and theirs.dtype is torch.float64
        np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    x = minigrad.ones(3, requires_grad=True)
    (x * np.array([1.0, 2.0, 3.0], dtype=np.float32)).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0]


def test_cuda_without_a_usable_gpu_says_so():
    """With CuPy installed (minigrad[test] installs it) but no driver or GPU, asking for the
    device gave CuPy's bare cudaErrorInsufficientDriver from deep inside an allocation."""
    if minigrad.cuda.is_available():
        pytest.skip("a GPU is usable here")
    pytest.importorskip("cupy")
    for make in (lambda: minigrad.zeros(2, device="cuda"), lambda: minigrad.ones(2).to("cuda")):
        with pytest.raises(RuntimeError, match="device 'cuda' is not usable.*device='cpu'"):
            make()
    status = minigrad.backend.get_backend("cuda").describe()["status"]
    assert status.startswith("CuPy ") and "no usable GPU" in status
