"""Gaps closed by helper leftovers22, each checked against PyTorch: GRU under CPU autocast with a
bfloat16 input, the exception types of linalg on 16-bit inputs, backward(create_graph=True)'s
warning, Tensor.numpy() as a view, det's gradient at singular matrices, selective activation
checkpointing."""

import warnings

import numpy as np
import pytest

import minigrad
from minigrad import _warnings

torch = pytest.importorskip("torch")


# -- GRU under CPU autocast ----------------------------------------------------------------------


def _gru_pair(lib, seed=0):
    lib.manual_seed(seed)
    return lib.nn.GRU(3, 4), lib.randn(5, 2, 3)


@pytest.mark.parametrize("cls", ["GRU", "RNN", "LSTM"])
def test_recurrent_bfloat16_input_under_cpu_autocast_runs(cls):
    results = {}
    for lib in (torch, minigrad):
        lib.manual_seed(0)
        layer = getattr(lib.nn, cls)(3, 4)
        x = lib.randn(5, 2, 3).to(lib.bfloat16)
        with pytest.raises(ValueError, match="does not match weight dtype"):
            layer(x)  # outside autocast, as PyTorch: refused
        with lib.autocast("cpu", dtype=lib.bfloat16):
            out, h = layer(x)
        h = h[0] if isinstance(h, tuple) else h
        results[lib] = out, h
    (out_t, h_t), (out_m, h_m) = results[torch], results[minigrad]
    assert str(out_m.dtype).split(".")[-1] == str(out_t.dtype).split(".")[-1] == "bfloat16"
    assert str(h_m.dtype).split(".")[-1] == str(h_t.dtype).split(".")[-1]
    np.testing.assert_allclose(out_m.detach().float(), out_t.detach().float(), atol=3e-2)


def test_gru_autocast_bfloat16_input_runs_as_a_bfloat16_model():
    layer, x = _gru_pair(minigrad)
    x = x.bfloat16().requires_grad_()
    with minigrad.autocast("cpu", dtype=minigrad.bfloat16):
        out, h = layer(x)
    model = minigrad.nn.GRU(3, 4)
    model.load_state_dict(layer.state_dict())
    expected, _ = model.bfloat16()(x)
    assert minigrad.equal(out, expected)  # as PyTorch's (bit for bit there too)
    out.float().sum().backward()
    assert layer.weight_ih_l0.grad.dtype is minigrad.float32
    assert x.grad.dtype is minigrad.bfloat16
    with minigrad.autocast("cpu", dtype=minigrad.bfloat16):  # float32 input: stays float32
        assert layer(minigrad.randn(5, 2, 3))[0].dtype is minigrad.float32


@pytest.mark.parametrize("cls", ["GRUCell", "LSTMCell"])
def test_cells_with_a_bfloat16_input_under_cpu_autocast_as_torch(cls):
    outs = []
    for lib in (torch, minigrad):
        lib.manual_seed(0)
        cell, x = getattr(lib.nn, cls)(3, 4), lib.randn(2, 3)
        with lib.autocast("cpu", dtype=lib.bfloat16):
            out = cell(x.to(lib.bfloat16))
        outs.append(out[0] if isinstance(out, tuple) else out)
    assert str(outs[1].dtype).split(".")[-1] == str(outs[0].dtype).split(".")[-1] == "bfloat16"
    np.testing.assert_allclose(outs[1].detach().float(), outs[0].detach().float(), atol=2e-2)


# -- linalg on float16 / bfloat16 ----------------------------------------------------------------

_LINALG_CALLS = {
    "solve_triangular": lambda L, A, B: L.linalg.solve_triangular(A, B, upper=True),
    "cholesky": lambda L, A, B: L.linalg.cholesky(A),
    "cholesky_ex": lambda L, A, B: L.linalg.cholesky_ex(A),
    "inv": lambda L, A, B: L.linalg.inv(A),
    "qr": lambda L, A, B: L.linalg.qr(A),
    "eigh": lambda L, A, B: L.linalg.eigh(A),
    "eigvalsh": lambda L, A, B: L.linalg.eigvalsh(A),
    "eig": lambda L, A, B: L.linalg.eig(A),
    "svd": lambda L, A, B: L.linalg.svd(A),
    "svdvals": lambda L, A, B: L.linalg.svdvals(A),
    "lstsq": lambda L, A, B: L.linalg.lstsq(A, B),
    "det": lambda L, A, B: L.linalg.det(A),
    "slogdet": lambda L, A, B: L.linalg.slogdet(A),
    "solve": lambda L, A, B: L.linalg.solve(A, B),
    "pinv": lambda L, A, B: L.linalg.pinv(A),
    "matrix_rank": lambda L, A, B: L.linalg.matrix_rank(A),
    "matrix_norm_2": lambda L, A, B: L.linalg.matrix_norm(A, 2),
    "cond": lambda L, A, B: L.linalg.cond(A),
    "cholesky_solve": lambda L, A, B: L.cholesky_solve(B, A),
    "cholesky_inverse": lambda L, A, B: L.cholesky_inverse(A),
    "householder_product": lambda L, A, B: L.linalg.householder_product(A, A[0, :2]),
    "geqrf": lambda L, A, B: L.geqrf(A),
}


def _raised(lib, name, dtype):
    A, B = lib.eye(3, dtype=dtype), lib.ones(3, 2, dtype=dtype)
    try:
        _LINALG_CALLS[name](lib, A, B)
    except (RuntimeError, NotImplementedError) as e:
        return type(e), str(e)
    return None, ""


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", list(_LINALG_CALLS))
def test_linalg_low_precision_exception_types_match_torch(name, dtype):
    expected, words = _raised(torch, name, getattr(torch, dtype))
    got, message = _raised(minigrad, name, getattr(minigrad, dtype))
    assert expected is not None and got is expected, (message, words)
    if expected is NotImplementedError:  # PyTorch's words: '"<kernel>" not implemented for ...'
        assert words in message


def test_matrix_norm_orders_without_svd_keep_running_in_low_precision():
    A = minigrad.eye(3, dtype=minigrad.float16)
    assert minigrad.linalg.matrix_norm(A, 1).dtype is minigrad.float16
    assert minigrad.linalg.matrix_norm(A).dtype is minigrad.float16


# -- backward(create_graph=True) warns once ------------------------------------------------------

_KEY = "backward create_graph"


@pytest.fixture
def fresh_once():
    said = _KEY in _warnings._said_once
    _warnings._said_once.discard(_KEY)
    yield
    if said:
        _warnings._said_once.add(_KEY)
    else:
        _warnings._said_once.discard(_KEY)


def _messages(run):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [w for w in caught if "create_graph=True" in str(w.message)]


def test_backward_create_graph_warns_once_at_user_code(fresh_once):
    p = minigrad.ones(2, requires_grad=True)
    minigrad.autograd.grad((p * p).sum(), p, create_graph=True)  # grad(): no warning
    (p * p).sum().backward()  # no create_graph: none either
    assert not _messages(lambda: None)
    first = _messages(lambda: (p * p).sum().backward(create_graph=True))
    assert len(first) == 1 and first[0].filename == __file__
    assert str(first[0].message).startswith(
        "Using backward() with create_graph=True will create a reference cycle between the "
        "parameter and its gradient which can cause a memory leak."
    )
    assert not _messages(lambda: (p * p).sum().backward(create_graph=True))  # once per process


def test_autograd_backward_create_graph_warns_too(fresh_once):
    p = minigrad.ones(2, requires_grad=True)
    q = p * 2
    caught = _messages(
        lambda: minigrad.autograd.backward((q * q).sum(), create_graph=True, inputs=[q])
    )
    assert len(caught) == 1 and caught[0].filename == __file__


# -- Tensor.numpy() ------------------------------------------------------------------------------


def test_numpy_is_a_view_sharing_memory_both_ways():
    t = minigrad.arange(4.0)
    a = t.numpy()
    assert a.base is not None and np.shares_memory(a, t.numpy())  # as PyTorch's
    a[0] = 9
    t[1] = 7
    assert t.tolist() == [9.0, 7.0, 2.0, 3.0] and a.tolist() == [9.0, 7.0, 2.0, 3.0]
    a.shape = (2, 2)  # the array's own metadata: the tensor keeps its shape, as in PyTorch
    assert t.shape == (4,)
    a.flags.writeable = False
    t.add_(1)  # and stays writable
    assert t.tolist() == [10.0, 8.0, 3.0, 4.0]


# -- det's gradient at singular matrices ---------------------------------------------------------

_SINGULAR = [
    [[1.0, 2, 3], [4, 5, 6], [7, 8, 9]],  # rank 2
    [[1.0, 2, 3], [2, 4, 6], [3, 6, 9]],  # rank 1
    [[1.0, 2], [2, 4]],
    [[1.0, 2, 0, 0], [0, 1, 0, 0], [0, 0, 3, 0], [1, 3, 3, 0]],
    [[0.0, 0, 0], [0, 0, 0], [0, 0, 0]],  # first order only (PyTorch's second is NaN)
]


def _det_grads(lib, m, fn="linalg.det"):
    A = lib.tensor(m, dtype=lib.float64, requires_grad=True)
    det = lib.linalg.det if fn == "linalg.det" else lib.det
    (plain,) = lib.autograd.grad(det(A), A)
    (first,) = lib.autograd.grad(det(A), A, create_graph=True)
    (second,) = lib.autograd.grad(first.sum(), A)
    return plain.detach().numpy(), first.detach().numpy(), second.numpy()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (the zero matrix: NumPy on 0/0)
@pytest.mark.parametrize("fn", ["linalg.det", "det"])
@pytest.mark.parametrize("index", range(len(_SINGULAR)))
def test_det_gradients_at_singular_matrices_match_torch(index, fn):
    m = _SINGULAR[index]
    expected, got = _det_grads(torch, m, fn), _det_grads(minigrad, m, fn)
    np.testing.assert_array_equal(got[0], expected[0])  # a plain backward: zeros, as PyTorch's
    np.testing.assert_allclose(got[1], expected[1], atol=1e-12)  # create_graph: cofactors
    if np.isfinite(expected[2]).all():
        np.testing.assert_allclose(got[2], expected[2], atol=1e-12)


def test_det_batch_mixing_singular_and_invertible_matches_torch():
    data = [[[1.0, 2, 3], [4, 5, 6], [7, 8, 9]], [[2.0, 1, 0], [1, 3, 1], [0, 1, 4]]]
    results = []
    for lib in (torch, minigrad):
        A = lib.tensor(data, dtype=lib.float64, requires_grad=True)
        (first,) = lib.autograd.grad(lib.linalg.det(A).sum(), A, create_graph=True)
        (second,) = lib.autograd.grad((first * first).sum(), A)
        results.append((first.detach().numpy(), second.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], atol=1e-12)
    np.testing.assert_allclose(results[1][1], results[0][1], atol=1e-10)
    assert minigrad.linalg.det(minigrad.eye(2, requires_grad=True)).grad_fn.name() == (
        "LinalgDetBackward0"
    )


def test_det_first_derivative_is_differentiable_at_singular_matrices():
    def first(A):
        return minigrad.autograd.grad(minigrad.linalg.det(A), A, create_graph=True)[0]

    for m in _SINGULAR[:4]:
        A = minigrad.tensor(m, dtype=minigrad.float64, requires_grad=True)
        assert minigrad.autograd.gradcheck(first, (A,))


# -- selective activation checkpointing ----------------------------------------------------------


def _scaled_sin(lib, calls):
    @lib.library.custom_op("leftovers22::scaled_sin", mutates_args=())
    def scaled_sin(x: lib.Tensor) -> lib.Tensor:
        calls.append(1)
        return x.sin() * 2

    def setup(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.cos() * 2

    scaled_sin.register_autograd(backward, setup_context=setup)
    return scaled_sin


_CALLS = {torch: [], minigrad: []}
_OPS = {lib: _scaled_sin(lib, calls) for lib, calls in _CALLS.items()}


def _policy(lib, seen):
    def policy(ctx, op, *args, **kwargs):
        seen.append((str(op), ctx.is_recompute))
        saved = (lib.ops.leftovers22.scaled_sin.default, lib.ops.aten.mm.default)
        if op in saved:
            return lib.utils.checkpoint.CheckpointPolicy.MUST_SAVE
        return lib.utils.checkpoint.CheckpointPolicy.PREFER_RECOMPUTE

    return policy


def _sac_run(lib, how):
    import functools

    cp = lib.utils.checkpoint
    seen, calls = [], _CALLS[lib]
    calls.clear()
    context = {
        "plain": {},
        "policy": {"context_fn": functools.partial(cp.create_selective_checkpoint_contexts, _policy(lib, seen))},
        "list": {"context_fn": functools.partial(cp.create_selective_checkpoint_contexts, [lib.ops.leftovers22.scaled_sin.default])},
    }[how]  # fmt: skip
    lib.manual_seed(0)
    x = lib.randn(3, 4, dtype=lib.float64, requires_grad=True)
    w = lib.randn(4, 5, dtype=lib.float64, requires_grad=True)

    def fn(x, w):
        return lib.ops.leftovers22.scaled_sin(lib.mm(x, w)).relu().sum()

    out = cp.checkpoint(fn, x, w, use_reentrant=False, **context)
    forward_calls = len(calls)
    out.backward()
    picked = [s for s in seen if "mm" in s[0] or "leftovers22" in s[0]]
    return forward_calls, len(calls), picked, x.grad.detach().numpy(), w.grad.detach().numpy()


@pytest.mark.parametrize("how", ["plain", "policy", "list"])
def test_selective_checkpoint_skips_saved_ops_in_the_recomputation_as_torch(how):
    expected, got = _sac_run(torch, how), _sac_run(minigrad, how)
    assert got[:3] == expected[:3]  # kernel runs (forward, in all) and the policy's calls
    assert got[1] == (2 if how == "plain" else 1)
    np.testing.assert_allclose(got[3], expected[3], rtol=1e-12)
    np.testing.assert_allclose(got[4], expected[4], rtol=1e-12)


def test_selective_checkpoint_replays_saved_matmuls_without_running_them(monkeypatch):
    import functools

    from minigrad.ops.linalg import MatMul

    runs = []
    original = MatMul.forward
    monkeypatch.setattr(MatMul, "forward", lambda self, *a: runs.append(1) or original(self, *a))
    cp = minigrad.utils.checkpoint
    x = minigrad.randn(3, 4, requires_grad=True)
    w = minigrad.randn(4, 4, requires_grad=True)
    saved = functools.partial(
        cp.create_selective_checkpoint_contexts, [minigrad.ops.aten.mm.default]
    )
    grads, counts = [], []
    for context in ({}, {"context_fn": saved}):
        out = cp.checkpoint(lambda a, b: (a @ b).tanh().sum(), x, w, use_reentrant=False, **context)
        runs.clear()
        grads.append(minigrad.autograd.grad(out, (x, w)))
        counts.append(len(runs))  # the gradient's products, and the recomputed one if any
    assert counts[0] - counts[1] == 1
    for a, b in zip(*grads):
        assert minigrad.equal(a, b)


def _block_grads(lib, how):
    import functools

    nn, cp = lib.nn, lib.utils.checkpoint
    lib.manual_seed(0)
    block = nn.Sequential(nn.LayerNorm(8), nn.Linear(8, 16), nn.GELU(), nn.Dropout(0.3),
                          nn.Linear(16, 8, bias=False)).double()  # fmt: skip
    x = lib.randn(2, 5, 8, dtype=lib.float64, requires_grad=True)
    save = [lib.ops.aten.addmm.default, lib.ops.aten.mm.default, lib.ops.aten.gelu.default]
    context = {"context_fn": functools.partial(cp.create_selective_checkpoint_contexts, save)}
    lib.manual_seed(1)
    out = cp.checkpoint(block, x, use_reentrant=False, **(context if how else {}))
    out.pow(2).sum().backward(retain_graph=True)
    grads = [x.grad.detach().numpy()] + [p.grad.detach().numpy() for p in block.parameters()]
    if how:
        with pytest.raises(RuntimeError, match="Trying to backward an extra time"):
            out.sum().backward()
    return grads


def test_selective_checkpoint_of_a_block_gives_the_plain_gradients_and_torchs():
    plain, selective, reference = (
        _block_grads(minigrad, False), _block_grads(minigrad, True), _block_grads(torch, True)
    )  # fmt: skip
    for a, b, c in zip(plain, selective, reference):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(b, c, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("allow", [False, True])
def test_selective_checkpoint_cache_mutation_and_arguments_as_torch(allow):
    import functools

    for lib in (torch, minigrad):
        cp, kept = lib.utils.checkpoint, {}
        x = lib.randn(3, 4, requires_grad=True)

        def fn(x, lib=lib, kept=kept):
            kept["h"] = lib.mm(x, x.t())
            return kept["h"].sin().sum()

        contexts = functools.partial(cp.create_selective_checkpoint_contexts,
                                     [lib.ops.aten.mm.default], allow_cache_entry_mutation=allow)  # fmt: skip
        out = cp.checkpoint(fn, x, use_reentrant=False, context_fn=contexts)
        with lib.no_grad():
            kept["h"].add_(1)
        if allow:
            out.backward()
        else:
            with pytest.raises(RuntimeError, match="has been mutated"):
                out.backward()
        with pytest.raises(ValueError, match="to be an OpOverload but got: aten.mm of type"):
            cp.create_selective_checkpoint_contexts([lib.ops.aten.mm])
        with pytest.raises(TypeError, match="either a function or a list of ops"):
            cp.create_selective_checkpoint_contexts(3)


# -- relaxed distributions: PyTorch's computation ------------------------------------------------


def _relaxed_samples(lib, dtype):
    lib.manual_seed(0)
    t = lib.tensor(0.5, dtype=dtype)
    onehot = lib.distributions.RelaxedOneHotCategorical(
        t, probs=lib.tensor([0.2, 0.3, 0.5], dtype=dtype)
    ).rsample((50,))
    bern = lib.distributions.RelaxedBernoulli(
        t, probs=lib.tensor([0.0, 0.6, 1.0], dtype=dtype)
    ).rsample((50,))
    return onehot.numpy(), bern.numpy()


def test_relaxed_samples_follow_torchs_computation_in_float64():
    for ours, theirs in zip(
        _relaxed_samples(minigrad, minigrad.float64), _relaxed_samples(torch, torch.float64)
    ):
        np.testing.assert_allclose(ours, theirs, rtol=5e-16, atol=0)  # one rounding apart at most


@pytest.mark.parametrize("edge", [0.0, 1.0])
def test_relaxed_uniforms_are_clamped_to_eps_as_torch(monkeypatch, edge):
    samples = []
    for lib, module in ((torch, torch), (minigrad, minigrad.creation)):
        rand = module.rand
        monkeypatch.setattr(module, "rand", lambda *a, rand=rand, **k: rand(*a, **k).fill_(edge))
        samples.append(_relaxed_samples(lib, lib.float64))
    for ours, theirs in zip(samples[1], samples[0]):
        np.testing.assert_allclose(ours, theirs, rtol=5e-16, atol=0)
