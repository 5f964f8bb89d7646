"""vmap over every op-table row against a loop over the batch, and vmap's own semantics."""

import warnings

import numpy as np
import pytest
from helpers import outputs

import minigrad
from minigrad import func
from minigrad.testing.op_db import OP_DB
from minigrad.testing.samples import Index, Mask, T, V, make_arrays

CASES = [(op, i) for op in OP_DB for i in range(len(op.samples))]
IDS = [op.sample_id(i) for op, i in CASES]
BATCH = 3
# ops that still take vmap's loop fallback (a warning names them); each is correct, only slower
# (CrossEntropy: only with per-sample class weights)
FALLBACK_OK = {
    "GetItem",
    "IndexAdd",
    "MaxPoolBackward",
    "AvgPoolBackward",
    "CrossEntropy",
}
# rows vmap does not support, each with the clear error it raises instead of a wrong result
UNSUPPORTED = {
    "batch_norm_running_stats-0": "in-place updates of batched running statistics",
    "max_pool2d-3": "return_indices reads the op's argmax array after the call",
    # functions that compute on the arrays of their inputs (no op, so no batching rule): they
    # raise the clear error of a batched tensor's array being read
    **{
        f"{row}-{i}": "reads the array of a batched tensor"
        for row, n in (
            ("cummax", 2),
            ("cummax_ties", 1),
            ("cummin", 1),
            ("nan_to_num", 2),
            ("nan_to_num_limits", 1),
            ("isclose", 2),
            ("searchsorted", 4),
            ("bucketize", 2),
        )
        for i in range(n)
    },
    "unique-4": "a data-dependent output shape per sample",
    "bincount-2": "a data-dependent output shape per sample",
    **{
        f"{row}-{i}": "in-place updates of batched tensors"
        for row, n in (
            ("inplace_on_view", 2),
            ("inplace_copy_into_view", 1),
            ("inplace_on_view_of_no_grad_base", 1),
            ("inplace_on_view_of_view", 1),
        )
        for i in range(n)
    },
}


def _batched_args(op, index):
    """Each float tensor argument as a batch of BATCH different samples (dim 0)."""
    specs = op.samples[index].args
    rng = np.random.default_rng(index)
    args, batched = [], []
    for spec, a in zip(specs, make_arrays(op, index)):
        if isinstance(spec, (T, V)) and isinstance(a, np.ndarray):
            # the sample itself and small perturbations of it (kinks stay far away)
            noise = [np.zeros_like(a)] + [rng.uniform(-1e-3, 1e-3, a.shape) for _ in range(2)]
            stack = np.stack([a + n for n in noise])
            args.append(minigrad.tensor(stack.astype("float64")))
            batched.append(True)
        elif isinstance(spec, (Index, Mask)) or isinstance(a, np.ndarray):
            args.append(minigrad.tensor(a))
            batched.append(False)
        else:
            args.append(a)
            batched.append(False)
    return args, batched


def _split(op, index, args, batched):
    tensors = [a for a, b in zip(args, batched) if b]

    def call(*ts):
        it = iter(ts)
        full = [next(it) if b else a for a, b in zip(args, batched)]
        return tuple(outputs(op.fn(minigrad, *full, **op.samples[index].kwargs)))

    return call, tensors


def _moved(tensors, in_dim):
    """The batches with their batch dim at ``in_dim`` (0, or the last dim with -1)."""
    return [t if in_dim == 0 else t.movedim(0, in_dim).contiguous() for t in tensors]


@pytest.mark.parametrize("in_dim", [0, -1])
@pytest.mark.parametrize("op,index", CASES, ids=IDS)
def test_vmap_matches_loop(op, index, in_dim):
    args, batched = _batched_args(op, index)
    if not any(batched):
        pytest.skip("no float tensor input to batch")
    call, tensors = _split(op, index, args, batched)
    if op.sample_id(index) in UNSUPPORTED:  # a clear error, never a wrong result
        with pytest.raises(NotImplementedError):
            func.vmap(call, in_dims=in_dim)(*_moved(tensors, in_dim))
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = func.vmap(call, in_dims=in_dim)(*_moved(tensors, in_dim))
    slow = {
        str(w.message).split("for ")[1].split(";")[0] for w in caught if "vmap" in str(w.message)
    }
    assert slow <= FALLBACK_OK, f"ops without a batching rule: {slow}"
    loop = [call(*[t[b] for t in tensors]) for b in range(BATCH)]
    for k, g in enumerate(got):
        want = np.stack([loop[b][k].numpy() for b in range(BATCH)])
        assert g.shape == want.shape
        np.testing.assert_allclose(g.detach().numpy(), want, rtol=1e-10, atol=1e-12)


GRAD_CASES = [c for c in CASES if c[0].grad]


@pytest.mark.parametrize("in_dim", [0, -1])
@pytest.mark.parametrize("op,index", GRAD_CASES, ids=[op.sample_id(i) for op, i in GRAD_CASES])
def test_vmap_grad_matches_loop(op, index, in_dim):
    """Per-sample gradients through every op: vmap(grad(f)) equals grad(f) sample by sample."""
    if op.sample_id(index) in UNSUPPORTED:
        pytest.skip(UNSUPPORTED[op.sample_id(index)])
    args, batched = _batched_args(op, index)
    if not any(batched):
        pytest.skip("no float tensor input to batch")
    call, tensors = _split(op, index, args, batched)
    rng = np.random.default_rng(7)
    outs0 = call(*[t[0] for t in tensors])
    weights = [
        minigrad.tensor(rng.uniform(-1, 1, o.shape)) for o in outs0 if o.dtype.is_floating_point
    ]

    def scalar(*ts):
        outs = [o for o in call(*ts) if o.dtype.is_floating_point]
        return sum((o * w).sum() for o, w in zip(outs, weights))

    argnums = tuple(range(len(tensors)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per_sample = func.vmap(func.grad(scalar, argnums=argnums), in_dims=in_dim)
        got = per_sample(*_moved(tensors, in_dim))
    for b in range(BATCH):
        want = func.grad(scalar, argnums=argnums)(*[t[b] for t in tensors])
        for g, w in zip(got, want):
            np.testing.assert_allclose(g[b].numpy(), w.numpy(), rtol=1e-9, atol=1e-12)


def _op_classes():
    from minigrad.ops.base import Op

    seen, stack = set(), [Op]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
    return seen


def test_every_op_has_a_batching_rule():
    """A new op (or a renamed one) needs a rule in minigrad/func/_rules.py, or a place here:
    these take the loop fallback (with a warning), being rare under vmap."""
    from minigrad.func._dispatch import op_name
    from minigrad.func._rules import RULES

    looped = {"IndexAdd", "MaxPoolBackward", "AvgPoolBackward", "CopySlices"}
    bases = {"_Fused", "_Normalize", "_Packed"}  # abstract
    names = {op_name(c) for c in _op_classes()}
    missing = names - set(RULES) - looped - bases
    assert not missing, sorted(missing)
    assert set(RULES) <= names, "rules for ops that no longer exist"


def test_custom_functions_under_vmap():
    class Cube(minigrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x**2

    class CubeWithRule(Cube):
        @staticmethod
        def vmap(info, in_dims, x):
            return CubeWithRule.apply(x), in_dims[0]

    xs = minigrad.randn(4, 3, dtype=minigrad.float64)
    for cls in (Cube, CubeWithRule):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            g = func.vmap(func.grad(lambda x, c=cls: c.apply(x).sum()))(xs)
        np.testing.assert_allclose(g.numpy(), 3 * xs.numpy() ** 2)
        assert any("Cube" in str(w.message) for w in caught) == (cls is Cube)


# -- randomness ---------------------------------------------------------------------------------
RANDOM_FNS = {
    "rand": lambda m, x: m.rand(4),
    "randn_like": lambda m, x: m.randn_like(x),
    "randint": lambda m, x: m.randint(0, 1000, (4,)),
    "normal": lambda m, x: m.normal(0.0, 1.0, (4,)),
    "dropout": lambda m, x: m.nn.functional.dropout(m.ones_like(x), 0.5),
    "multinomial": lambda m, x: m.multinomial(m.ones(50), 4, replacement=True),
}


def _semantics(module, vmap, fn, mode):
    """What a random function does under vmap: 'error', or whether the samples' draws are
    'same' or 'different' (batch 3 of (4,) inputs)."""
    x = module.ones(3, 4)
    try:
        y = vmap(lambda xi: fn(module, xi), randomness=mode)(x)
    except RuntimeError as e:
        assert "randomness error mode" in str(e)
        return "error"
    assert tuple(y.shape) == (3, 4)
    rows = [y[i].tolist() for i in range(3)]
    return "same" if rows[0] == rows[1] == rows[2] else "different"


@pytest.mark.parametrize("mode", ["error", "same", "different"])
@pytest.mark.parametrize("name", sorted(RANDOM_FNS))
def test_randomness_as_torch(name, mode):
    torch = pytest.importorskip("torch")
    fn = RANDOM_FNS[name]
    minigrad.manual_seed(0)
    torch.manual_seed(0)
    want = _semantics(torch, torch.func.vmap, fn, mode)
    assert _semantics(minigrad, func.vmap, fn, mode) == want


@pytest.mark.parametrize("mode", ["same", "different"])
def test_bernoulli_per_sample_probabilities(mode):
    """A batched probability: "different" draws per sample; "same" compares one draw with each
    sample's probabilities (PyTorch refuses "same" with a batched input)."""
    p = minigrad.tensor([[0.0] * 1000, [1.0] * 1000, [0.5] * 1000], dtype=minigrad.float64)
    y = func.vmap(minigrad.bernoulli, randomness=mode)(p)
    assert y[0].sum().item() == 0 and y[1].sum().item() == 1000
    assert 400 < y[2].sum().item() < 600


def test_randomness_different_draws_differ_and_reproduce():
    def noisy(x):
        return x + minigrad.randn(x.shape[0], dtype=x.dtype)

    x = minigrad.zeros(5, 64, dtype=minigrad.float64)
    minigrad.manual_seed(3)
    a = func.vmap(noisy, randomness="different")(x)
    minigrad.manual_seed(3)
    b = func.vmap(noisy, randomness="different")(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert len({tuple(r) for r in a.numpy().round(12).tolist()}) == 5
    assert abs(a.numpy().std() - 1) < 0.1  # each sample is a fresh standard normal draw


def test_randomness_nested_levels():
    """Each vmap level decides for its own batch dim: different outside, same inside."""
    x = minigrad.zeros(2, 3, 4)
    inner = func.vmap(lambda r: r + minigrad.rand(4), randomness="same")
    y = func.vmap(inner, randomness="different")(x).numpy()
    assert (y[:, 0] == y[:, 1]).all() and (y[:, 1] == y[:, 2]).all()
    assert not (y[0] == y[1]).all()
    with pytest.raises(RuntimeError, match="randomness error mode"):
        func.vmap(func.vmap(lambda r: r + minigrad.rand(4)), randomness="same")(x)


def test_randomness_unsupported_different_is_clear():
    with pytest.raises(NotImplementedError, match="randomness='different'"):
        func.vmap(lambda x: x + minigrad.randperm(4), randomness="different")(minigrad.ones(3, 4))
    y = func.vmap(lambda x: x + minigrad.randperm(4), randomness="same")(minigrad.zeros(3, 4))
    assert (y[0] == y[2]).all()
    with pytest.raises(RuntimeError, match="Only allowed values"):
        func.vmap(lambda x: x, randomness="other")
