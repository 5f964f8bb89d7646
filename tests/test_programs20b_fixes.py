"""Focused tests for what the twentieth round of programs (b) (tests/test_programs20b.py) found
different from PyTorch, each compared with PyTorch itself."""

import pytest
from test_programs5 import close

import minigrad


def _error(lib, fn):
    with pytest.raises(Exception) as info:
        fn(lib)
    return type(info.value).__name__, str(info.value)


@pytest.mark.parametrize("reduce", ["max", "min"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_takes_max_and_min_forward_only(reduce, include_self):
    torch = pytest.importorskip("torch")

    def forward(t):
        src = t.tensor([[-1.0, 4.0], [-3.0, 2.0], [5.0, -6.0]])
        index = t.tensor([[0, 1], [0, 1], [2, 1]])
        return t.zeros(3, 2).scatter_reduce(0, index, src, reduce, include_self=include_self)

    assert forward(minigrad).tolist() == forward(torch).tolist()

    def backward(t):
        src = t.tensor([-1.0, -3.0], requires_grad=True)
        out = t.zeros(2).scatter_reduce(0, t.tensor([0, 0]), src, reduce, include_self=False)
        out.sum().backward()

    assert _error(minigrad, backward) == _error(torch, backward)
    unknown = lambda t: t.zeros(2).scatter_reduce(0, t.tensor([0]), t.ones(1), reduce="add")  # noqa: E731
    assert _error(minigrad, unknown)[0] == _error(torch, unknown)[0] == "RuntimeError"


_JACOBIAN_OPTIONS = [
    dict(strategy="forward-mode"),  # PyTorch's forward mode needs vectorize=True
    dict(strategy="forward-mode", vectorize=True, create_graph=True),
    dict(strategy="forward-mode", vectorize=True, strict=True),
    dict(strategy="reverse-mode", vectorize=True, strict=True),
    dict(strategy="sideways"),
]


@pytest.mark.parametrize("options", _JACOBIAN_OPTIONS)
def test_autograd_functional_jacobian_refuses_what_pytorch_refuses(options):
    torch = pytest.importorskip("torch")

    def call(t):
        return t.autograd.functional.jacobian(lambda x: x.sin(), t.tensor([1.0, 2.0]), **options)

    assert _error(minigrad, call) == _error(torch, call)


@pytest.mark.parametrize(
    "options",
    [dict(outer_jacobian_strategy="forward-mode"), dict(outer_jacobian_strategy="sideways")],
)
def test_autograd_functional_hessian_passes_its_outer_strategy_on(options):
    torch = pytest.importorskip("torch")

    def call(t):
        return t.autograd.functional.hessian(
            lambda x: (x**3).sum(), t.tensor([1.0, 2.0]), **options
        )

    assert _error(minigrad, call) == _error(torch, call)


def test_forward_mode_vectorized_jacobian_and_hessian_compute():
    torch = pytest.importorskip("torch")

    def both(t):
        x = t.tensor([1.0, 2.0])
        jac = t.autograd.functional.jacobian(
            lambda v: v.sin() * v[0], x, strategy="forward-mode", vectorize=True
        )
        hess = t.autograd.functional.hessian(
            lambda v: (v**3).sum() * v[0], x, vectorize=True, outer_jacobian_strategy="forward-mode"
        )
        return jac.tolist(), hess.tolist()

    assert close(both(minigrad), both(torch), 1e-6, 1e-6)


def _lbfgs_run(t, max_iter):
    x = t.tensor([-1.2, 1.0, 0.5], dtype=t.float64, requires_grad=True)
    opt = t.optim.LBFGS([x], max_iter=max_iter, history_size=5, line_search_fn="strong_wolfe")
    losses = []

    def closure():
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2 + 50 * (x[2] - x[1] ** 2) ** 2
        loss.backward()
        losses.append(loss.item())
        return loss

    opt.step(closure)
    return losses, opt.state[x]["func_evals"], opt.state[x]["n_iter"], x.tolist()


@pytest.mark.parametrize("max_iter", [3, 8])
def test_lbfgs_line_search_stops_at_the_steps_evaluation_budget(max_iter):
    """PyTorch 2.13's strong-Wolfe search gets ``max_ls = max_eval - current_evals``: with
    max_iter=8 (max_eval 10) its last search stops after 11 evaluations (it took 13 here)."""
    torch = pytest.importorskip("torch")
    ours, theirs = _lbfgs_run(minigrad, max_iter), _lbfgs_run(torch, max_iter)
    assert ours[1:3] == theirs[1:3] and len(ours[0]) == len(theirs[0])
    assert close(ours[0], theirs[0], 1e-10, 1e-12) and close(ours[3], theirs[3], 1e-10, 1e-12)


def _complex_fit(t, clip):
    """A complex weight (an FNO's spectral weight) fitted by LBFGS or Adam with clipping."""
    w = t.nn.Parameter(t.complex(t.tensor([1.0, -2.0]), t.tensor([0.5, 1.5])))
    target = t.complex(t.tensor([0.0, 1.0]), t.tensor([1.0, 0.0]))

    def loss_fn():
        return (t.abs(w - target) ** 2).sum() + (w.real**4).sum()

    norms = []
    if clip:
        opt = t.optim.Adam([w], lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            loss_fn().backward()
            norms.append(t.nn.utils.clip_grad_norm_([w], 0.5).item())
            opt.step()
    else:
        opt = t.optim.LBFGS([w], max_iter=4, history_size=3, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss

        for _ in range(2):  # the second step starts from the saved history
            norms.append(opt.step(closure).item())
    return norms, w.real.tolist(), w.imag.tolist(), w.dtype == t.complex64


@pytest.mark.parametrize("clip", [False, True])
def test_complex_parameters_in_lbfgs_and_clip_grad_norm(clip):
    """LBFGS moves a complex parameter as (real, imag) pairs and clip_grad_norm_ takes the norm
    of the magnitudes (a real number), as PyTorch: minigrad's LBFGS lost the imaginary parts
    and its clip_grad_norm_ returned a complex norm that scaled the gradients wrongly."""
    torch = pytest.importorskip("torch")
    ours, theirs = _complex_fit(minigrad, clip), _complex_fit(torch, clip)
    assert close(ours, theirs, 1e-5, 1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.zeros(3).index_add_(0, t.tensor([0.0, 2.0]), t.ones(2)),  # a float index
        lambda t: t.zeros(3).index_add(0, t.tensor([0], dtype=t.int16), t.ones(1)),
        lambda t: t.zeros(3).index_add_(0, t.tensor([[0]]), t.ones(1)),  # not a vector
        lambda t: t.zeros(3).index_fill_(0, t.tensor([0], dtype=t.int32), 1.0),  # int64 only
        lambda t: t.zeros(3).index_fill_(0, t.tensor([[0]]), 1.0),
        lambda t: t.zeros(3).index_copy_(0, t.tensor([[0]]), t.ones(1)),
    ],
)
def test_index_add_fill_copy_refuse_an_index_with_pytorchs_words(call):
    """Message-passing code (SchNet's ``index_add_`` of edge messages) that builds its index
    by float arithmetic gets PyTorch's error: minigrad raised IndexError with other words,
    and ``index_fill_`` took an int32 index that PyTorch refuses."""
    torch = pytest.importorskip("torch")
    assert _error(minigrad, call) == _error(torch, call)


@pytest.mark.parametrize(
    "probs, target",
    [([0.3, 0.6], [1.5, 0.0]), ([0.3, 0.6], [-0.1, 1.0]), ([0.3, 0.6], [float("nan"), 1.0]),
     ([float("nan"), 0.6], [0.5, 1.0]), ([1.3, 0.6], [1.5, 0.0])],
)  # fmt: skip
def test_binary_cross_entropy_checks_target_and_nan_as_pytorch(probs, target):
    """A target outside [0, 1] (a label of 2 by mistake) or NaN, or a NaN probability, raises
    PyTorch's RuntimeError (minigrad computed a loss); the input is checked first."""
    torch = pytest.importorskip("torch")

    def call(t):
        return t.nn.functional.binary_cross_entropy(t.tensor(probs), t.tensor(target))

    ours, theirs = _error(minigrad, call), _error(torch, call)
    assert ours[0] == theirs[0] == "RuntimeError" and theirs[1] in ours[1]
