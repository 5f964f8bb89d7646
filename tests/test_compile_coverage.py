"""Which rows of the op table ``minigrad.compile`` captures: a sweep over the table.

For each row (its first sample, float64, CPU) a step ``loss = sum of op(*inputs); loss.backward()``
(forward only for rows without gradients) is compiled and called three times with new input
values of the same shapes (on copies, as eager gets): the first call traces, the others must
equal eager bit for bit (or within 1e-12), gradients and inputs written in place included, and
at least one must replay to the end (a replay whose guard reads a new value runs eagerly and
does not count). Rows that cannot be captured are listed in
``FALLS_BACK`` with the reason; a row outside the list that falls back fails, and so does a
listed row that starts being captured, so the list stays true. The default test sweeps a
fixed fifth of the table; ``MINIGRAD_FULL_SWEEP=1`` runs the whole table (10-35 s).
"""

import os
import warnings

import numpy as np
import pytest
from helpers import build, outputs

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.testing.op_db import OP_DB

_HOST_LIST = (
    "the row makes a tensor from Python data (a list or a NumPy array) inside the step, which "
    "may hold new data on every call"
)
_NOT_DENSE = (
    "the row's tensors are sparse or nested (data that is not a dense NumPy array, which the "
    "recorder follows)"
)
_SPARSE_FROM_LIST = (
    "the row builds a sparse or nested tensor from Python lists inside the step (new data on "
    "every call; nor is its data a dense NumPy array)"
)
_MISSES = "a number read on the host changes with the inputs, so every replay's guard misses"

# row name -> why a step using it runs eagerly (a value-dependent host read or shape, or data
# the step itself brings in); the sweep checks that each still falls back
FALLS_BACK = {
    "histc": "with min = max = 0 the range is the data's min and max, read on the host as "
    "floats: " + _MISSES,
    "lobpcg": "the iteration's convergence test reads residual norms on the host: " + _MISSES,
    "gammainc_edges": "the series length (from the largest a) is read on the host and these "
    "inputs change it: " + _MISSES,
    "gammaincc_edges": "the series length is read on the host and these inputs change it: "
    + _MISSES,
    **{
        name: _NOT_DENSE
        for name in (
            "to_sparse nested_jagged_to_padded nested_strided_unbind nested_jagged_linear "
            "dense_to_csr dense_to_bsr"
        ).split()
    },
    **{
        name: _HOST_LIST
        for name in (
            "tensor_from_python finfo_iinfo fake_quantize_per_channel_affine "
            "fake_quantize_per_channel_affine_float_zero_point "
            "fake_quantize_learnable_per_tensor_affine fake_quantize_learnable_per_channel_affine"
        ).split()
    },
    **{
        name: _SPARSE_FROM_LIST
        for name in (
            "nested_from_jagged_values sparse_to_dense sparse_hybrid_to_dense sparse_coalesce "
            "sparse_mm spmm sparse_matmul_vector sparse_t_mm sparse_addmm sparse_sum "
            "sparse_sum_dim sparse_softmax sparse_log_softmax sparse_scale_add dense_add_sparse "
            "csr_to_dense csc_to_dense bsr_to_dense csr_mm csr_mv csr_sparse_mm csr_addmm "
            "dense_mm_csr csr_t_mm bsr_t_to_dense vector_mm_csr csr_sin bsr_tanh csr_to_csc "
            "csr_to_coo csr_mm_csr coo_mm_coo sparse_mask_coo sparse_mask_csr sampled_addmm"
        ).split()
    },
}

ROWS = [op for op in OP_DB if op.raises is None]
SAMPLED = ROWS[::5]


def _inputs(op, k: int):
    """The sample's tensors (none requiring grad), float ones scaled by 1 - 0.03k, and the
    positions of those the row differentiates."""
    args, grad_args = build(op, 0, minigrad, "float64")
    wants = [i for i, a in enumerate(args) if any(a is g for g in grad_args)]
    out = []
    for a in args:
        if isinstance(a, minigrad.Tensor):
            a = a.detach()
            if a.is_floating_point() and k:
                a = a * (1 - 0.03 * k)
        out.append(a)
    return out, wants


def _step(op, wants):
    kwargs = op.samples[0].kwargs

    def step(*args):
        args, leaves = list(args), []
        for i in wants:
            args[i] = args[i].detach().requires_grad_()
            leaves.append(args[i])
        outs = outputs(op.fn(minigrad, *args, **kwargs))
        diff = [o for o in outs if isinstance(o, minigrad.Tensor) and o.requires_grad]
        if diff:
            sum((o.abs().sum() if o.is_complex() else o.sum()) for o in diff).backward()
        results = [o.detach() if isinstance(o, minigrad.Tensor) else o for o in outs]
        return results, [leaf.grad for leaf in leaves]

    return step


def _same(a, b) -> bool:
    if isinstance(a, minigrad.Tensor) != isinstance(b, minigrad.Tensor):
        return False
    if not isinstance(a, minigrad.Tensor):
        return a == b or (a != a and b != b)
    a, b = a.numpy(), b.numpy()
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if np.array_equal(a, b, equal_nan=True):
        return True
    return a.dtype.kind in "fc" and np.allclose(a, b, rtol=0, atol=1e-12, equal_nan=True)


def _sweep_row(op, hits):
    """Why ``op``'s step is not captured (None when it is), after checking it equals eager
    (results, and the input tensors, which a step may write into)."""
    _, wants = _inputs(op, 0)
    step = _step(op, wants)
    compiled = minigrad.compile(step)
    hits[0] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(3):
            xs, _ = _inputs(op, k)
            ys = [a.clone() if isinstance(a, minigrad.Tensor) else a for a in xs]
            minigrad.manual_seed(k)
            got = outputs(compiled(*xs)) + xs
            minigrad.manual_seed(k)
            want = outputs(step(*ys)) + ys
            assert len(got) == len(want), op.name
            for i, (a, b) in enumerate(zip(got, want)):
                assert _same(a, b), f"{op.name}: call {k}, result {i} differs from eager"
    if compiled.eager_reason is not None:
        return compiled.eager_reason
    # a replay whose guard reads another value runs eagerly (and is not counted): one of the
    # two must replay whole
    return None if hits[0] >= 1 else "its guards read other values on every call"


def _sweep(rows, hits):
    falls_back = {op.name: _sweep_row(op, hits) for op in rows}
    unexpected = {n: r for n, r in falls_back.items() if r is not None and n not in FALLS_BACK}
    assert not unexpected, f"rows that fall back: {unexpected}"
    captured = sorted(n for n, r in falls_back.items() if r is None and n in FALLS_BACK)
    assert not captured, f"listed in FALLS_BACK but now captured: {captured}"


def test_sweep_sampled_rows(hits):
    """A fixed fifth of the table: captured, equal to eager, or listed with a reason."""
    _sweep(SAMPLED, hits)


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("MINIGRAD_FULL_SWEEP"), reason="the whole table: MINIGRAD_FULL_SWEEP=1"
)
def test_sweep_all_rows(hits):
    _sweep(ROWS, hits)


def test_allow_list_names_rows():
    names = {op.name for op in ROWS}
    assert not set(FALLS_BACK) - names


class _UNet(nn.Module):
    """Down (conv, pool), up (interpolate bilinear and nn.Upsample), skip connections."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(2, 4, 3, padding=1)
        self.mid = nn.Conv2d(4, 4, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.dec = nn.Conv2d(8, 4, 3, padding=1)
        self.out = nn.Conv2d(6, 1, 1)

    def forward(self, x):
        e = F.relu(self.enc(x))  # (N, 4, 8, 8)
        m = F.relu(self.mid(F.max_pool2d(e, 2)))  # (N, 4, 4, 4)
        u = F.interpolate(m, scale_factor=2, mode="bilinear", align_corners=False)
        d = F.relu(self.dec(minigrad.cat([u, e], 1)))  # (N, 4, 8, 8)
        low = self.up(F.avg_pool2d(d, 2))[:, :2]  # nn.Upsample back to (N, 2, 8, 8)
        return self.out(minigrad.cat([d, low], 1))


def _unet_run(compiled: bool, batches):
    minigrad.manual_seed(0)
    model = _UNet().double()
    opt = optim.Adam(model.parameters(), lr=1e-2)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    run = minigrad.compile(step) if compiled else step
    losses = [run(x, y).item() for x, y in batches]
    return losses, [p.detach().numpy().copy() for p in model.parameters()], run


def test_unet_step_with_interpolate_is_captured(replays):
    rng = np.random.default_rng(0)
    batches = [
        (
            minigrad.tensor(rng.standard_normal((2, 2, 8, 8))),
            minigrad.tensor(rng.random((2, 1, 8, 8))),
        )
        for _ in range(5)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a fallback would warn
        losses, params, run = _unet_run(True, batches)
    assert run.eager_reason is None
    assert replays[0] >= 2
    eager_losses, eager_params, _ = _unet_run(False, batches)
    assert losses == eager_losses
    for a, b in zip(params, eager_params):
        np.testing.assert_array_equal(a, b)


_INTERPOLATIONS = [
    ((1, 2, 5), dict(scale_factor=2, mode="nearest")),
    ((1, 2, 5), dict(size=7, mode="nearest-exact")),
    ((1, 2, 5), dict(scale_factor=1.7, mode="linear", align_corners=True)),
    ((1, 2, 4, 5), dict(size=(7, 3), mode="bilinear")),
    ((1, 2, 4, 5), dict(scale_factor=(1.5, 2.5), mode="bilinear", recompute_scale_factor=True)),
    ((1, 2, 4, 5), dict(scale_factor=2, mode="bicubic", align_corners=False)),
    ((1, 2, 4, 5), dict(size=(6, 6), mode="bicubic", align_corners=True)),
    ((1, 2, 8, 9), dict(size=(3, 4), mode="bilinear", antialias=True)),
    ((1, 2, 3, 4, 5), dict(scale_factor=2, mode="trilinear")),
    ((1, 2, 7, 9), dict(size=(3, 4), mode="area")),
]


def _interpolate_step(weight, kwargs):
    def step(x):
        weight.grad = None
        y = F.interpolate(x * weight, **kwargs)
        (y * y).sum().backward()
        return y.detach(), weight.grad

    return step


def test_interpolate_modes_are_captured(replays):
    """Every mode, align_corners, size and scale factors: captured, equal to eager."""
    rng = np.random.default_rng(0)
    for shape, kwargs in _INTERPOLATIONS:
        weight = minigrad.tensor(rng.standard_normal(shape), requires_grad=True)
        step = _interpolate_step(weight, kwargs)
        compiled = minigrad.compile(step, fullgraph=True)
        replays[0] = 0
        for _ in range(4):  # the first call's new .grad is traced again on the second
            x = minigrad.tensor(rng.standard_normal(shape))
            got, want = compiled(x), step(x)
            for a, b in zip(got, want):
                np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=str(kwargs))
        assert replays[0] >= 2, kwargs


def _special_step(x):
    y = minigrad.lgamma(x) + minigrad.special.i0(x) + x.as_strided((2, 2), (1, 2)).sum()
    u, s, vh = minigrad.linalg.svd(x.reshape(2, 3), full_matrices=False)
    return y, s, minigrad.linalg.slogdet(x[:4].reshape(2, 2)).logabsdet


def test_no_stale_results(replays):
    """Kernels that used to escape the recorder (np.asarray inside lgamma/i0, as_strided's
    views) and NumPy's named-tuple results (svd, slogdet of one matrix) replay fresh values."""
    compiled = minigrad.compile(_special_step, fullgraph=True)
    for k in range(3):
        x = minigrad.arange(1.0, 7.0, dtype=minigrad.float64) * (1 + k)
        for a, b in zip(compiled(x), _special_step(x)):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert replays[0] == 2
