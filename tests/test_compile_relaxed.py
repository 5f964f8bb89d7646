"""Host reads that ``minigrad.compile`` now captures, and the replays that must not go stale.

Each test calls a compiled step and the same eager step on separate copies of the state with
values chosen so that the number read on the host changes between calls (a loop length, a
split, a scaling count): a replay must then fall back to eager, leaving the state as eager
leaves it, and equal eager bit for bit on every call.
"""

import warnings

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim


def _same(a, b):
    if isinstance(a, minigrad.Tensor):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    else:
        assert a == b


def _twin(make_step, calls, **kwargs):
    """Runs ``make_step()`` compiled and eagerly on ``calls`` (argument tuples built twice by
    each entry, a function of no arguments), checking results and state after each call."""
    (compiled_step, state_c), (eager_step, state_e) = make_step(), make_step()
    compiled = minigrad.compile(compiled_step, **kwargs)
    for build in calls:
        got, want = compiled(*build()), eager_step(*build())
        for a, b in zip(_flat(got), _flat(want)):
            _same(a, b)
        for a, b in zip(state_c(), state_e()):
            _same(a, b)
    return compiled


def _flat(x):
    return [y for item in x for y in _flat(item)] if isinstance(x, (tuple, list)) else [x]


def _poly_model(read_after_step: bool):
    def make():
        minigrad.manual_seed(0)
        w = nn.Parameter(minigrad.rand(2, 3, dtype=minigrad.float64))
        opt = optim.SGD([w], lr=0.1, momentum=0.9)

        def step(x, n, m):
            opt.zero_grad()
            loss = minigrad.special.hermite_polynomial_h(w * x, n).sum()
            loss.backward()
            opt.step()
            if read_after_step:  # an int read (the loop length) after the parameters moved
                return loss.detach(), minigrad.special.legendre_polynomial_p(w, m).detach()
            return loss.detach()

        return step, lambda: [w, w.grad, opt.state[w]["momentum_buffer"]]

    return make


def _degree_calls(degrees):
    """Degrees ``(d, e)``: the largest of n, and of m (read only after the step)."""
    return [
        (lambda d=d, e=e, k=k: (minigrad.full((2, 3), 0.5 + 0.1 * k, dtype=minigrad.float64),
                                minigrad.tensor([[0, 1, 2], [3, d, 1]]), minigrad.tensor([1, e, 0])))
        for k, (d, e) in enumerate(degrees)
    ]  # fmt: skip


@pytest.mark.parametrize("read_after_step", [False, True])
def test_polynomial_degree_tensor_changes_between_calls(hits, read_after_step):
    """The degree is a tensor: its largest value is the loop length, read after the forward
    (in backward) or after the optimizer step; a new largest degree must not replay the old
    loop, and a failed replay puts the parameters and momentum back before running eagerly."""
    degrees = [(4, 3), (4, 3), (4, 3), (4, 3), (6, 3), (6, 3), (6, 5), (6, 5), (2, 5), (4, 2)]
    degrees += [(4, 2), (4, 2)]
    compiled = _twin(_poly_model(read_after_step), _degree_calls(degrees))
    assert compiled.eager_reason is None
    assert hits[0] >= 4


def test_polynomial_python_degree_needs_no_guard(hits):
    """A Python number as the degree: the loop length comes from the trace's constants, so no
    guard is kept; a new number is a new argument and traces again."""
    w = minigrad.rand(3, dtype=minigrad.float64, requires_grad=True)

    def step(x, n):
        w.grad = None
        minigrad.special.hermite_polynomial_he(w * x, n).sum().backward()
        return w.grad

    compiled = minigrad.compile(step, fullgraph=True)
    for n in (3, 3, 3, 7, 7, 7, 3):
        x = minigrad.rand(3, dtype=minigrad.float64)
        _same(compiled(x, n), step(x, n))
    programs = list(compiled._traces.values())
    assert programs and all(len(p.segments) == 1 for p in programs)  # no guard left
    assert hits[0] >= 3


def test_constant_folding_keeps_guards_on_values(hits):
    """Reads of values mixed from constants and data stay guards: a constant plus an input,
    a constant written in place with an input, a random draw."""

    def step(x):
        a = int((minigrad.arange(3.0, dtype=minigrad.float64) + x).max())
        c = minigrad.zeros(3, dtype=minigrad.float64)
        c.add_(x)
        b = int(c.max())
        r = int(minigrad.rand(1, dtype=minigrad.float64).item() * 4)
        shape = int(minigrad.arange(x.shape[0]).sum())  # shapes only: folded
        return x.sum() * a + b * 10 + r * 100 + shape * 1000

    compiled = minigrad.compile(step)
    values = [1.0, 1.0, 1.0, 4.0, 4.0, 9.5, 9.5, 9.5, 9.5, 9.5, 9.5]
    seeds = [0, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0]  # seed 3 draws another r
    for v, seed in zip(values, seeds):
        x = minigrad.full((3,), v, dtype=minigrad.float64)
        minigrad.manual_seed(seed)
        got = compiled(x)
        minigrad.manual_seed(seed)
        _same(got, step(x))
    assert compiled.eager_reason is None and hits[0] >= 4
    guards = [s[1] for p in compiled._traces.values() for s in p.segments if s[1] is not None]
    assert len(guards) >= 3  # a, b and r; not the shape sum


def test_float_read_after_step_still_falls_back():
    """A floating-point number read after the state changed is a log line: it would miss on
    every call, so the function runs eagerly at once (with the reason)."""
    w = nn.Parameter(minigrad.ones(3, dtype=minigrad.float64))
    opt = optim.SGD([w], lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = (w * x).sum()
        loss.backward()
        opt.step()
        return loss.item()

    compiled = minigrad.compile(step)
    with pytest.warns(RuntimeWarning, match="floating-point"):
        compiled(minigrad.ones(3, dtype=minigrad.float64))
    assert "floating-point" in compiled.eager_reason


def test_integer_tolist_guard_catches_new_splits(hits):
    """``.tolist()`` of an integer tensor is a guard on every element: new split sizes with
    the same total must not replay the old split."""

    def step(x, sizes):
        parts = minigrad.split(x, sizes.tolist())
        return minigrad.stack([p.sum() * (i + 1) for i, p in enumerate(parts)])

    compiled = minigrad.compile(step)
    for s in ([1, 2, 3], [1, 2, 3], [1, 2, 3], [3, 2, 1], [2, 2, 2], [1, 2, 3]):
        x, sizes = minigrad.arange(6.0), minigrad.tensor(s)
        _same(compiled(x, sizes), step(x, sizes))
    assert compiled.eager_reason is None and hits[0] >= 2


def test_matrix_exp_and_zeta_guard_the_derived_count(hits):
    """``matrix_exp`` reads its squaring count, ``zeta`` its number of terms: other values
    with the same counts replay, values that change them run eagerly."""

    def step(a, q):
        return minigrad.linalg.matrix_exp(a), minigrad.special.zeta(3.0, q)

    compiled = minigrad.compile(step)
    for scale, shift in ((1.0, 0.0), (1.1, 0.1), (1.2, 0.2), (16.0, 0.0), (1.0, -3.5), (1.0, 0)):
        a = minigrad.tensor([[0.3, 1.2], [-0.7, 0.4]], dtype=minigrad.float64) * scale
        q = minigrad.tensor([0.6, 2.0, 5.0], dtype=minigrad.float64) + shift
        for g, e in zip(compiled(a, q), step(a, q)):
            _same(g, e)
    assert compiled.eager_reason is None and hits[0] >= 2


def _running_stats():
    def make():
        minigrad.manual_seed(0)
        stats = [
            minigrad.zeros(3, dtype=minigrad.float64),
            minigrad.ones(3, dtype=minigrad.float64),
        ]

        def step(x, mean, var):
            return F.batch_norm(x, mean, var, training=True, momentum=0.3)

        return step, lambda: stats

    return make


def test_input_written_in_place_is_written_back(hits):
    """Running statistics passed as arguments are written in place: every call (the traced
    one too) leaves them as eager does, and their version counters advance."""
    mean_c, var_c = (
        minigrad.zeros(3, dtype=minigrad.float64),
        minigrad.ones(3, dtype=minigrad.float64),
    )
    mean_e, var_e = mean_c.clone(), var_c.clone()
    compiled = minigrad.compile(lambda x, m, v: F.batch_norm(x, m, v, training=True, momentum=0.3))
    for k in range(5):
        x = minigrad.rand(4, 3, dtype=minigrad.float64) * (k + 1)
        got = compiled(x, mean_c, var_c)
        want = F.batch_norm(x, mean_e, var_e, training=True, momentum=0.3)
        for a, b in ((got, want), (mean_c, mean_e), (var_c, var_e)):
            _same(a, b)
        assert mean_c._version == mean_e._version
    assert compiled.eager_reason is None and hits[0] >= 3


def test_input_aliasing_state_does_not_replay():
    """An input that is (or views) a tensor the function also reaches as state: the trace
    would bake in which one it reads, so it runs eagerly, never a stale result."""
    w = minigrad.tensor([1.0, 2.0, 3.0])

    def step(x):
        return x * w

    compiled = minigrad.compile(step)
    other = minigrad.tensor([10.0, 20.0, 30.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x in (other, other.clone(), w, other, w[:], other):
            _same(compiled(x), step(x))


def test_written_input_aliasing_another_input_does_not_replay():
    def step(x, y):
        x.mul_(2)
        return y + 1

    compiled = minigrad.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            xc, yc = minigrad.ones(4), minigrad.full((4,), 3.0)
            xe, ye = xc.clone(), yc.clone()
            _same(compiled(xc, yc), step(xe, ye))
            _same(xc, xe)
        base_c = minigrad.ones(4)
        base_e = base_c.clone()
        _same(compiled(base_c[:2], base_c[2:]), step(base_e[:2], base_e[2:]))
        _same(base_c, base_e)
        data_c = minigrad.ones(4)
        data_e = data_c.clone()
        _same(compiled(data_c[:2], data_c[1:3]), step(data_e[:2], data_e[1:3]))


@pytest.mark.parametrize(
    "replace",
    [
        lambda x: setattr(x, "data", x * 2),
        lambda x: x.resize_(2),
        lambda x: x.unsqueeze_(0),
    ],
)
def test_input_data_replaced_runs_eagerly(replace):
    """``x.data = ...``, ``resize_``, ``unsqueeze_`` on an input: the tensor keeps what the
    eager call gave it (the traced call included) and the function runs eagerly."""

    def step(x):
        replace(x)
        return x.sum() * 1

    compiled = minigrad.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(3):
            xc = minigrad.tensor([0.2, 0.7, 1.0]) * (k + 1)
            xe = xc.clone()
            _same(compiled(xc), step(xe))
            assert xc.shape == xe.shape
            _same(xc, xe)
    assert "replaces an input tensor's data" in compiled.eager_reason


def _ctc_model():
    def make():
        minigrad.manual_seed(0)
        lin = nn.Linear(3, 5).double()
        opt = optim.SGD(lin.parameters(), lr=0.1)

        def step(x, targets, input_lengths, target_lengths):
            opt.zero_grad()
            log_probs = lin(x).log_softmax(-1)
            loss = F.ctc_loss(log_probs, targets, input_lengths, target_lengths)
            loss.backward()
            opt.step()
            return loss.detach()

        return step, lambda: [p for p in lin.parameters()]

    return make


def test_ctc_lengths_and_targets_are_guarded(hits):
    """CTC plans its alignment from lengths and targets read on the host (``.tolist()``):
    new targets or lengths with the same shapes must not replay the old plan."""
    plans = [
        ([[1, 2, 2], [3, 1, 0]], [6, 5], [3, 2]),
        ([[1, 2, 2], [3, 1, 0]], [6, 5], [3, 2]),
        ([[1, 2, 2], [3, 1, 0]], [6, 5], [3, 2]),
        ([[4, 4, 1], [2, 3, 0]], [6, 5], [3, 2]),  # new labels
        ([[4, 4, 1], [2, 3, 0]], [6, 5], [3, 2]),
        ([[4, 4, 1], [2, 3, 0]], [4, 6], [2, 1]),  # new lengths
        ([[4, 4, 1], [2, 3, 0]], [4, 6], [2, 1]),
    ]
    calls = [
        (lambda k=k, p=p: (minigrad.full((6, 2, 3), 0.1 * k, dtype=minigrad.float64),
                           *(minigrad.tensor(v) for v in p)))
        for k, p in enumerate(plans)
    ]  # fmt: skip
    compiled = _twin(_ctc_model(), calls)
    assert compiled.eager_reason is None and hits[0] >= 3


def test_data_dependent_shapes_are_guarded(hits):
    """``x[mask]``, ``nonzero``, ``unique``, ``repeat_interleave`` by a tensor: a new count
    must not be broadcast into the traced buffer (a stale or wrong result) nor raise."""
    counts = minigrad.tensor([1, 2, 1])

    def step(x):
        y = x[x > 0] * 2
        return y, minigrad.nonzero(x), minigrad.unique(x), x.repeat_interleave(counts)

    compiled = minigrad.compile(step)
    for v in ([1.0, -1.0, 2.0], [1.0, -1.0, 2.0], [1.0, -1.0, 2.0], [3.0, 1.0, 2.0],
              [3.0, 1.0, 2.0], [-1.0, -3.0, 2.0], [-1.0, -3.0, 2.0], [2.0, 2.0, -2.0]):  # fmt: skip
        x = minigrad.tensor(v)
        for a, b in zip(compiled(x), step(x)):
            assert a.shape == b.shape
            _same(a, b)
    assert compiled.eager_reason is None and hits[0] >= 3


def _bag_model(padding_idx):
    def make():
        minigrad.manual_seed(0)
        bag = nn.EmbeddingBag(6, 2, mode="mean", padding_idx=padding_idx).double()
        opt = optim.SGD(bag.parameters(), lr=0.5)

        def step(indices, offsets):
            opt.zero_grad()
            out = bag(indices, offsets)
            (out * out).sum().backward()
            opt.step()
            return out.detach()

        return step, lambda: [bag.weight]

    return make


@pytest.mark.parametrize("padding_idx", [None, 0])
def test_embedding_bag_new_offsets_and_indices(hits, padding_idx):
    """Offsets and indices change between calls (bags of new sizes, more or fewer padding
    entries): computed on the device, they replay; a new count of kept entries is a shape
    guard that misses."""
    batches = [
        ([1, 2, 4, 5, 0, 3], [0, 2, 4]),
        ([1, 2, 4, 5, 0, 3], [0, 2, 4]),
        ([3, 2, 1, 5, 0, 4], [0, 3, 5]),
        ([3, 0, 1, 5, 2, 4], [0, 1, 2]),
        ([3, 0, 0, 5, 2, 4], [0, 1, 2]),
        ([3, 0, 0, 5, 2, 4], [0, 1, 2]),
        ([3, 1, 2, 5, 2, 4], [0, 4, 6]),
    ]
    calls = [(lambda b=b: tuple(minigrad.tensor(v) for v in b)) for b in batches]
    compiled = _twin(_bag_model(padding_idx), calls)
    assert compiled.eager_reason is None and hits[0] >= 2


def test_ldl_pivot_choices_are_guarded(hits):
    """Bunch-Kaufman's choices (1x1 or 2x2 block, which row) are read on the host as bools
    and an index: scaled matrices replay, matrices that pivot otherwise run eagerly."""

    def step(a, b):
        ld, pivots = minigrad.linalg.ldl_factor(a)
        return ld, pivots, minigrad.linalg.ldl_solve(ld, pivots, b)

    compiled = minigrad.compile(step)
    base = np.array([[4.0, 1.0, 2.0], [1.0, -3.0, 0.5], [2.0, 0.5, 2.0]])
    swapped = np.array([[0.1, 3.0, 1.0], [3.0, 0.2, 2.0], [1.0, 2.0, -5.0]])  # 2x2 and swaps
    for a in (base, base * 1.5, base * 0.5, swapped, swapped * 2.0, swapped * 3.0, base):
        args = minigrad.tensor(a), minigrad.tensor([[1.0], [2.0], [3.0]], dtype=minigrad.float64)
        for g, e in zip(compiled(*args), step(*args)):
            _same(g, e)
    assert compiled.eager_reason is None and hits[0] >= 4


def test_mode_replays_new_values(hits):
    """``mode`` runs on the device (no host read): new values, new modes and new positions
    replay, ties and NaNs as eagerly."""
    compiled = minigrad.compile(lambda x: minigrad.mode(x, 1))
    rng = np.random.default_rng(0)
    for _ in range(6):
        a = rng.integers(0, 3, size=(3, 5)).astype(np.float64)
        a[rng.random((3, 5)) < 0.2] = np.nan
        x = minigrad.tensor(a)
        for g, e in zip(compiled(x), minigrad.mode(x, 1)):
            _same(g, e)
    assert compiled.eager_reason is None and hits[0] == 5
    assert type(compiled(x)) is type(minigrad.mode(x, 1))  # the named tuple comes back


def test_traced_call_sees_writes_through_aliased_inputs():
    """The traced call itself (inputs on separate copies) reads what eager reads when it writes
    into an input that overlaps another one."""

    def step(x, y):
        x.mul_(2)
        return y + 1

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = minigrad.compile(step)
        data_c, data_e = minigrad.arange(4.0), minigrad.arange(4.0)
        _same(compiled(data_c[:2], data_c[1:3]), step(data_e[:2], data_e[1:3]))
        _same(data_c, data_e)
    assert "shares memory with another input" in compiled.eager_reason


def test_replay_keeps_the_kernels_errstate(hits):
    """Kernels that silence NumPy's floating-point warnings (np.errstate) stay silent on
    replay; the user's own ops warn as eagerly."""

    def step(x):
        return minigrad.special.hermite_polynomial_h(x, 9), minigrad.log(x - 1.0)

    compiled = minigrad.compile(step)
    x = minigrad.tensor([1e200, 2.0, 1e300], dtype=minigrad.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for _ in range(3):
            compiled(x)
    with pytest.warns(RuntimeWarning, match="invalid value encountered in log"):
        compiled(minigrad.tensor([1e200, 0.5, 1e300], dtype=minigrad.float64))
    assert hits[0] == 3


def test_state_made_in_the_step_is_made_again(hits):
    """A tensor the step makes and keeps (``state.buf = zeros(3)``) that the caller changes
    between calls is made again by each replay, as eagerly, not read as the caller left it."""

    class State:
        buf = None

    state = State()

    def step(x):
        state.buf = minigrad.zeros(3)
        return x + state.buf

    compiled = minigrad.compile(step)
    for _ in range(5):
        _same(compiled(minigrad.ones(3)), minigrad.ones(3))
        state.buf.add_(5)
    assert hits[0] >= 2
