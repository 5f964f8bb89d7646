"""vmap over every op-table row against a loop over the batch, and vmap's own semantics."""

import functools
import warnings

import numpy as np
import pytest
from helpers import outputs

import minigrad
from minigrad import func
from minigrad.autograd.graph import is_node_subclass
from minigrad.testing import op_db_nested, op_db_sparse, op_db_sparse_compressed
from minigrad.testing.op_db import OP_DB
from minigrad.testing.samples import Index, Mask, T, V, make_arrays

CASES = [(op, i) for op in OP_DB for i in range(len(op.samples))]
IDS = [op.sample_id(i) for op, i in CASES]
BATCH = 3
# ops that still take vmap's loop fallback (a warning names them); each is correct, only slower
# (CrossEntropy: only with per-sample class weights)
FALLBACK_OK = {
    "MaxPoolBackward",
    "AvgPoolBackward",
    "CrossEntropy",
}
# rows vmap does not support, each with the clear error it raises instead of a wrong result
UNSUPPORTED = {
    "unique-4": "a data-dependent output shape per sample",
    "bincount-2": "a data-dependent output shape per sample",
    # rows of main's later ops (kept here so that a merge needs no new entries)
    "histc-0": "reads the array of a batched tensor",
    "histc-1": "reads the array of a batched tensor",
    "predicates-0": "argwhere: a data-dependent output shape per sample",
    # PyTorch refuses these too: per-sample values written into a tensor shared by the samples
    "inplace_on_view_of_no_grad_base-0": "a batched value written into an unbatched tensor",
    # cov's check that the weights do not sum to zero reads a value per sample (PyTorch's
    # vmap refuses weighted cov too: no batching rule for aten::equal)
    "cov_weights-1": "a Python value (the weights' sum) per sample",
    "cov_weights-2": "a Python value (the weights' sum) per sample",
    # -- branch sparse: vmap refuses sparse COO tensors
    **{f"{row.name}-0": "sparse COO tensors" for row in op_db_sparse.ROWS},
    **{f"{row.name}-0": "sparse tensors" for row in op_db_sparse_compressed.ROWS},
    # -- branch nested: vmap refuses nested tensors (a nested tensor is a batch already)
    **{f"{row.name}-0": "nested tensors" for row in op_db_nested.ROWS},
    # -- branch surface: as_strided reads its input's memory layout (strides, storage
    # offset), which one sample of a batch does not have alone; fractional max pooling places
    # its windows from the values of _random_samples (per sample: no batching rule)
    **{
        f"{row}-{i}": "reads the memory layout or the values of a batched tensor"
        for row, n in (
            ("as_strided", 3),
            ("as_strided_scatter", 2),
            ("as_strided_copy", 1),
            ("as_strided_scatter_forward", 2),
            ("fractional_max_pool2d", 2),
            ("fractional_max_pool3d", 1),
        )
        for i in range(n)
    },
}

# -- edges15's rows (op_db_widen)
UNSUPPORTED.update(
    {
        "resize_-0": "resize_ replaces the tensor's own array",
        "resize_-1": "resize_ replaces the tensor's own array",
        "nonzero_method-0": "a data-dependent output shape per sample",
        **{
            f"gumbel_softmax_sums-{i}": "a random draw under randomness='error' (as PyTorch)"
            for i in range(3)
        },
    }
)

# rows refused with PyTorch's exception type rather than NotImplementedError
REFUSED_AS_TORCH = {
    "nonzero_method-0": RuntimeError,
    **{f"gumbel_softmax_sums-{i}": RuntimeError for i in range(3)},
    "inplace_on_view_of_no_grad_base-0": RuntimeError,
    "cov_weights-1": RuntimeError,
    "cov_weights-2": RuntimeError,
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


@pytest.mark.parametrize("op,index", CASES, ids=IDS)
def test_vmap_matches_loop(op, index):
    """vmap over the batch on dim 0 and on the last dim (strided views of the samples) equals
    the loop over the samples: one loop serves both (it is the same for each ``in_dims``)."""
    args, batched = _batched_args(op, index)
    if not any(batched):
        pytest.skip("no float tensor input to batch")
    if op.sample_id(index) in UNSUPPORTED:  # a clear error, never a wrong result
        for in_dim in (0, -1):  # (fresh arguments each: a refused call may have written some)
            call, tensors = _split(op, index, *_batched_args(op, index))
            with pytest.raises(REFUSED_AS_TORCH.get(op.sample_id(index), NotImplementedError)):
                func.vmap(call, in_dims=in_dim)(*_moved(tensors, in_dim))
        return
    call, tensors = _split(op, index, args, batched)
    # the loop on copies of the samples and the last-dim batch (a copy) first: a row that
    # writes its inputs in place (running stats) then finds the same values in each run
    loop = [call(*[t[b].clone() for t in tensors]) for b in range(BATCH)]
    for in_dim in (-1, 0):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = func.vmap(call, in_dims=in_dim)(*_moved(tensors, in_dim))
        slow = {
            str(w.message).split("for ")[1].split(";")[0]
            for w in caught
            if "vmap" in str(w.message)
        }
        assert slow <= FALLBACK_OK, f"ops without a batching rule: {slow} (in_dims={in_dim})"
        for k, g in enumerate(got):
            want = np.stack([loop[b][k].numpy() for b in range(BATCH)])
            assert g.shape == want.shape, in_dim
            np.testing.assert_allclose(
                g.detach().numpy(), want, rtol=1e-10, atol=1e-12, err_msg=f"in_dims={in_dim}"
            )


GRAD_CASES = [c for c in CASES if c[0].grad]


@pytest.mark.parametrize("op,index", GRAD_CASES, ids=[op.sample_id(i) for op, i in GRAD_CASES])
def test_vmap_grad_matches_loop(op, index):
    """Per-sample gradients through every op: vmap(grad(f)) equals grad(f) sample by sample.

    With the batch on dim 0 only: vmap moves a batch dim to the front on entry, so another
    ``in_dims`` changes only the layout of the batched values (strided views), which
    test_vmap_matches_loop already gives every row (its ``in_dim=-1`` cases)."""
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
        per_sample = func.vmap(func.grad(scalar, argnums=argnums))
        got = per_sample(*tensors)
    for b in range(BATCH):
        want = func.grad(scalar, argnums=argnums)(*[t[b] for t in tensors])
        for g, w in zip(got, want):
            np.testing.assert_allclose(g[b].numpy(), w.numpy(), rtol=1e-9, atol=1e-12)


def _op_classes():
    from minigrad.ops.base import Op

    seen, stack = set(), [Op]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen and not is_node_subclass(sub):  # (recorded nodes' classes)
                seen.add(sub)
                stack.append(sub)
    return seen


def test_every_op_has_a_batching_rule():
    """A new op (or a renamed one) needs a rule in minigrad/func/_rules.py, or a place here:
    these take the loop fallback (with a warning), being rare under vmap."""
    from minigrad.func._dispatch import op_name
    from minigrad.func._rules import RULES

    # JoinChunks: only convolution results above SCRATCH_BYTES outside vmap take it
    looped = {"MaxPoolBackward", "AvgPoolBackward", "CopySlices", "JoinChunks"}
    bases = {"_Fused", "_Normalize", "_Packed"}  # abstract
    names = {op_name(c) for c in _op_classes()}
    missing = names - set(RULES) - looped - bases
    assert not missing, sorted(missing)
    assert set(RULES) <= names, "rules for ops that no longer exist"


def test_custom_functions_under_vmap():
    class Cube(minigrad.autograd.Function):  # the transforms need setup_context, as PyTorch's
        @staticmethod
        def forward(x):
            return x**3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x**2

    seen = []

    class CubeWithRule(Cube):
        @staticmethod
        def vmap(info, in_dims, x):  # told the batch size and the vmap's randomness
            seen.append((info.batch_size, info.randomness))
            return CubeWithRule.apply(x), in_dims[0]

    xs = minigrad.randn(4, 3, dtype=minigrad.float64)
    for cls in (Cube, CubeWithRule):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            g = func.vmap(func.grad(lambda x, c=cls: c.apply(x).sum()))(xs)
        np.testing.assert_allclose(g.numpy(), 3 * xs.numpy() ** 2)
        assert any("Cube" in str(w.message) for w in caught) == (cls is Cube)
    assert seen == [(4, "error")]
    func.vmap(CubeWithRule.apply, randomness="same")(xs)
    assert seen[-1] == (4, "same")


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


def test_bernoulli_per_sample_probabilities():
    """A batched probability: "different" draws per sample; "same" is refused with a batched
    input, as PyTorch (one draw cannot serve values that differ per sample)."""
    p = minigrad.tensor([[0.0] * 1000, [1.0] * 1000, [0.5] * 1000], dtype=minigrad.float64)
    y = func.vmap(minigrad.bernoulli, randomness="different")(p)
    assert y[0].sum().item() == 0 and y[1].sum().item() == 1000
    assert 400 < y[2].sum().item() < 600
    with pytest.raises(RuntimeError, match="randomness='same' cannot draw from a batched"):
        func.vmap(minigrad.bernoulli, randomness="same")(p)


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


def test_stacked_linear_op_gradients():
    """LinearOp's stacked form (vmap's per-sample weights): gradcheck and gradgradcheck, and
    one row (M = 1: the outer-product path) as well as several."""
    from minigrad.autograd import gradcheck, gradgradcheck
    from minigrad.nn.functional.basic import LinearOp

    for rows in (1, 3):
        x = minigrad.randn(2, rows, 4, dtype=minigrad.float64, requires_grad=True)
        w = minigrad.randn(2, 5, 4, dtype=minigrad.float64, requires_grad=True)
        b = minigrad.randn(2, 5, dtype=minigrad.float64, requires_grad=True)
        want = x.detach() @ w.detach().mT + b.detach().unsqueeze(1)
        np.testing.assert_allclose(LinearOp()(x, w, b).detach().numpy(), want.numpy())
        assert gradcheck(lambda *a: LinearOp()(*a), (x, w, b))
        assert gradgradcheck(lambda *a: LinearOp()(*a), (x, w, b))


def test_per_sample_second_derivatives_through_linear():
    """vmap of a gradient of a gradient: the per-sample weights' backward runs on tensors."""
    model = minigrad.nn.Linear(3, 2).double()
    params = {k: v.detach() for k, v in model.named_parameters()}
    xs = minigrad.randn(4, 3, dtype=minigrad.float64)

    def loss(p, x):
        return func.functional_call(model, p, (x,)).tanh().sum()

    def grad_norm(p, x):
        return sum((g**2).sum() for g in func.grad(loss)(p, x).values())

    got = func.vmap(func.grad(grad_norm), in_dims=(None, 0))(params, xs)
    for i in range(4):
        want = func.grad(grad_norm)(params, xs[i])
        for k in params:
            np.testing.assert_allclose(got[k][i].numpy(), want[k].numpy(), rtol=1e-10)


# -- in_dims / out_dims / chunk_size, against torch.func.vmap --------------------------------------
def _both(fn, make_args, **vmap_kwargs):
    """``fn`` under minigrad's vmap and torch's on the same inputs: (ours, theirs) as arrays, or
    the exception type each raised."""
    torch = pytest.importorskip("torch")
    results = []
    for module, vmap in ((minigrad, func.vmap), (torch, torch.func.vmap)):
        try:
            out = vmap(functools.partial(fn, module), **vmap_kwargs)(*make_args(module))
        except Exception as e:  # the type is what is compared
            results.append(type(e))
            continue
        flat = out if isinstance(out, (tuple, list)) else [out]
        if isinstance(out, dict):
            flat = [out[k] for k in sorted(out)]
        results.append([np.asarray(o.tolist()) for o in flat])
    return results


def _inputs(module):
    gen = np.random.default_rng(0)
    return lambda *shape: module.tensor(gen.standard_normal(shape))


STRUCTURE_CASES = {
    "out_dims_tuple": (
        lambda m, a: (a * 2, a.sum()),
        lambda m: (_inputs(m)(6, 3),),
        {"out_dims": (1, 0)},
    ),
    "out_dims_nested": (
        lambda m, a: (a * 2, (a, a.sum(0))),
        lambda m: (_inputs(m)(6, 3),),
        {"out_dims": (1, (0, 1))},
    ),
    "out_dims_negative": (lambda m, a: a.exp(), lambda m: (_inputs(m)(6, 3, 2),), {"out_dims": -1}),
    "out_dims_none_unbatched": (
        lambda m, a: (a * 2, m.ones(2, dtype=m.float64)),
        lambda m: (_inputs(m)(6, 3),),
        {"out_dims": (0, None)},
    ),
    "out_dims_none_batched": (
        lambda m, a: a * 2,
        lambda m: (_inputs(m)(6, 3),),
        {"out_dims": None},
    ),
    "out_dims_too_many": (
        lambda m, a: (a, a),
        lambda m: (_inputs(m)(6, 3),),
        {"out_dims": (0, 0, 0)},
    ),
    "in_dims_dict": (
        lambda m, d: d["a"] + d["b"],
        lambda m: ({"a": _inputs(m)(6, 3), "b": _inputs(m)(3, 6)},),
        {"in_dims": ({"a": 0, "b": 1},)},
    ),
    "in_dims_dict_none": (
        lambda m, d: d["a"] * d["b"],
        lambda m: ({"a": _inputs(m)(6, 3), "b": _inputs(m)(3)},),
        {"in_dims": ({"a": 0, "b": None},)},
    ),
    "in_dims_nested_tuple": (
        lambda m, t, s: t[0] * s + t[1],
        lambda m: ((_inputs(m)(6, 3), _inputs(m)(3, 6)), 2.0),
        {"in_dims": ((0, 1), None)},
    ),
    "in_dims_list_refused": (
        lambda m, a, b: a + b,
        lambda m: (_inputs(m)(6, 3),) * 2,
        {"in_dims": [0, 0]},
    ),
    "in_dims_all_none": (lambda m, a: a, lambda m: (_inputs(m)(6, 3),), {"in_dims": None}),
    "in_dims_non_tensor": (
        lambda m, a, s: a * s,
        lambda m: (_inputs(m)(6, 3), 2.0),
        {"in_dims": (0, 0)},
    ),
    "in_dims_wrong_length": (
        lambda m, a, b: a,
        lambda m: (_inputs(m)(6, 3),) * 2,
        {"in_dims": (0,)},
    ),
    "in_dims_sizes_differ": (
        lambda m, a, b: a,
        lambda m: (_inputs(m)(6, 3), _inputs(m)(3, 5)),
        {"in_dims": (0, 1)},
    ),
    "in_dims_out_of_range": (lambda m, a: a, lambda m: (_inputs(m)(6, 3),), {"in_dims": 2}),
    "kwargs_not_mapped": (
        lambda m, a, s=None: a * s,
        lambda m: (_inputs(m)(6, 3),),
        {},
    ),
    "chunks": (
        lambda m, a, b: ((a @ b).tanh(), a.sum()),
        lambda m: (_inputs(m)(7, 3), _inputs(m)(3, 7)),
        {"in_dims": (0, 1), "out_dims": (1, 0), "chunk_size": 3},
    ),
    "chunks_larger_than_batch": (
        lambda m, a: a.cumsum(0),
        lambda m: (_inputs(m)(5, 3),),
        {"chunk_size": 8},
    ),
    "chunk_size_zero": (lambda m, a: a, lambda m: (_inputs(m)(6, 3),), {"chunk_size": 0}),
    "chunk_size_negative": (lambda m, a: a, lambda m: (_inputs(m)(6, 3),), {"chunk_size": -2}),
}


@pytest.mark.parametrize("name", sorted(STRUCTURE_CASES))
def test_structures_as_torch(name):
    fn, make_args, kwargs = STRUCTURE_CASES[name]
    if name == "kwargs_not_mapped":  # keyword arguments are passed as they are, unmapped
        fn = lambda m, a, f=fn: f(m, a, s=m.ones(6, 3, dtype=m.float64) * 2)  # noqa: E731
    ours, theirs = _both(fn, make_args, **kwargs)
    if isinstance(theirs, type):
        assert ours is theirs or (isinstance(ours, type) and issubclass(ours, theirs)), ours
        return
    assert not isinstance(ours, type), ours
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_chunk_size_randomness_as_torch():
    """Chunks keep the randomness semantics: "same" is one draw for all chunks, "different"
    gives the numbers of the unchunked run (the draws follow one another)."""
    x = minigrad.zeros(7, 2)
    for mode in ("same", "different"):
        minigrad.manual_seed(5)
        whole = func.vmap(lambda a: a + minigrad.rand(2), randomness=mode)(x).numpy()
        minigrad.manual_seed(5)
        chunked = func.vmap(lambda a: a + minigrad.rand(2), randomness=mode, chunk_size=3)(x)
        np.testing.assert_array_equal(whole, chunked.numpy())
        rows = {tuple(r) for r in whole.tolist()}
        assert len(rows) == (1 if mode == "same" else 7)


def test_chunk_size_type():
    with pytest.raises(TypeError, match="chunk_size"):
        func.vmap(lambda a: a, chunk_size=1.5)


INDEXED = {
    "gather": lambda x, i, s: x.gather(0, i),
    "scatter": lambda x, i, s: x.scatter(0, i, s),
    "scatter_value": lambda x, i, s: x.scatter(0, i, 1.5),
    "scatter_add": lambda x, i, s: x.scatter_add(0, i, s),
    "scatter_reduce_amax": lambda x, i, s: x.scatter_reduce(0, i, s, "amax"),
    "scatter_reduce_prod": lambda x, i, s: x.scatter_reduce(0, i, s, "prod"),
    "scatter_reduce_mean": lambda x, i, s: x.scatter_reduce(0, i, s, "mean", include_self=False),
}


@pytest.mark.parametrize("dims", [(0, 0, 0), (None, 0, 0), (0, 0, None), (None, 0, None)])
@pytest.mark.parametrize("name", sorted(INDEXED))
def test_per_sample_indices(name, dims):
    """A batched index tensor (one index per sample) for gather and the scatters, with the
    other inputs batched or shared, and vmap(grad) through them, against a loop."""
    fn = INDEXED[name]
    rng = np.random.default_rng(1)
    x = minigrad.tensor(rng.uniform(1, 2, (3, 4, 5)))
    index = minigrad.tensor(rng.integers(0, 4, (3, 2, 5)))
    src = minigrad.tensor(rng.uniform(1, 2, (3, 2, 5)))
    args = [a if d is not None else a[0] for a, d in zip((x, index, src), dims)]

    def sample(b):
        return [a[b] if d is not None else a for a, d in zip(args, dims)]

    got = func.vmap(fn, in_dims=dims)(*args)
    want = np.stack([fn(*sample(b)).numpy() for b in range(3)])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    if dims[0] is None:
        return

    def loss(x, i, s):
        return (fn(x, i, s) ** 2).sum()

    grads = func.vmap(func.grad(loss), in_dims=dims)(*args)
    for b in range(3):
        np.testing.assert_allclose(grads[b].numpy(), func.grad(loss)(*sample(b)).numpy())


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x: m.argmax(x, dim=-1),
        lambda m, x: m.argmin(x, -1, keepdim=True),
        lambda m, x: m.max(x, dim=-1).values,
        lambda m, x: m.min(x, axis=0).indices,
        lambda m, x: m.max(x, x * 0.5),
        lambda m, x: m.min(x, other=x * 0.5),
        lambda m, x: m.all(x > 0, dim=-1),
        lambda m, x: m.any(x > 1),
        lambda m, x: m.sort(x, dim=-1, descending=True).values,
        lambda m, x: m.argsort(x, dim=0),
        lambda m, x: m.topk(x, 2).indices,
    ],
)
def test_functional_forms_batch_as_their_methods(fn):
    """``torch.argmax(x)`` inside vmap as ``x.argmax()``: the functional forms of the ops that
    batch as methods."""
    x = minigrad.tensor(np.random.default_rng(0).normal(size=(4, 3, 5)))
    out = minigrad.func.vmap(lambda s: fn(minigrad, s))(x)
    expected = minigrad.stack([fn(minigrad, s) for s in x])
    assert out.tolist() == expected.tolist()
