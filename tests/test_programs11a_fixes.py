"""Regression tests for what the eleventh program round (training infrastructure: custom ops,
benchmark timers, global defaults, inference mode, generators, state loading, hooks) found
missing or different from PyTorch."""

import re
import threading

import numpy as np
import pytest

import minigrad
from minigrad.utils import benchmark


def test_timer_binds_torch_and_dedents_statements():
    x = minigrad.ones(3)
    timer = benchmark.Timer(
        stmt="""
            y = torch.tanh(x)
            y.add_(1.0)
        """,
        globals={"x": x},
    )
    assert timer.timeit(3).task_spec.stmt == "y = torch.tanh(x)\ny.add_(1.0)"  # as PyTorch's


def _inference_tensor():
    with minigrad.inference_mode():
        return minigrad.ones(3) * 2


def test_inference_tensors_are_marked_with_their_views_not_clones():
    t = _inference_tensor()
    assert t.is_inference() and t[:2].is_inference() and t.detach().is_inference()
    assert not t.clone().is_inference() and not minigrad.ones(1).is_inference()
    with minigrad.no_grad():
        assert not (minigrad.ones(2) * 2).is_inference()  # no_grad makes ordinary tensors
    with minigrad.inference_mode(), minigrad.inference_mode(False):
        assert not minigrad.ones(1).is_inference()


def test_inference_tensors_refuse_save_inplace_version_and_requires_grad():
    t = _inference_tensor()
    w = minigrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot be saved for backward"):
        t * w
    (t + w).sum().backward()  # add saves nothing of t: allowed, as in PyTorch
    assert w.grad.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside"):
        t.add_(1.0)
    assert t.tolist() == [3.0, 3.0, 3.0]  # PyTorch writes, then refuses: the same values
    with pytest.raises(RuntimeError, match="do not track version counter"):
        t._version  # noqa: B018
    with pytest.raises(RuntimeError, match="requires_grad=True on inference tensor"):
        t.requires_grad_()
    with minigrad.inference_mode():
        t.mul_(2.0)  # allowed inside
    assert t.tolist() == [6.0, 6.0, 6.0]


def test_inference_marking_is_per_thread_and_switched_off_after_the_block():
    made = []
    entered, release = threading.Event(), threading.Event()

    def worker():
        with minigrad.inference_mode():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=worker)
    thread.start()
    entered.wait(5)
    made.append(minigrad.ones(1))  # another thread is in inference mode, this one is not
    release.set()
    thread.join()
    assert not made[0].is_inference()
    assert minigrad.Tensor._init is minigrad.Tensor._init_ordinary


def test_allow_mutation_on_saved_tensors_uses_the_saved_values():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (minigrad, torch):
        w = lib.tensor([0.3, -1.2, 2.0], requires_grad=True)
        with lib.autograd.graph.allow_mutation_on_saved_tensors():
            h = w.sin()
            y = (h * h).sum()
            h.mul_(10.0)  # saved by the product: allowed, backward sees the old h
            y.backward()
        grads.append(w.grad.tolist())
    assert grads[0] == pytest.approx(grads[1], rel=1e-6)


def test_allow_mutation_on_saved_tensors_refuses_nesting_and_backward_outside():
    allow = minigrad.autograd.graph.allow_mutation_on_saved_tensors
    w = minigrad.ones(2, requires_grad=True)
    with allow():
        y = (w * w).sum()
        with pytest.raises(RuntimeError, match="cannot be nested"), allow():
            pass
    with pytest.raises(AssertionError, match="outside of the 'allow_mutation_on_saved_tensors'"):
        y.backward()


def _message(lib, *args, **kwargs):
    try:
        lib.testing.assert_close(*args, **kwargs)
    except (AssertionError, TypeError) as e:
        return type(e).__name__ + ": " + str(e)
    return "passed"


@pytest.mark.parametrize(
    "case",
    [
        "float32_relative",  # differences in the inputs' dtype, as PyTorch reports them
        "nan_absolute",
        "int_equality",  # "not equal!" without tolerances
        "scalars",
        "int_scalars",
        "bools",
        "scalar_types",
        "tensor_and_number",
        "zero_dim",  # reported as two numbers
        "opposite_infinities",  # never close
        "mixed_int_relative",  # integer relative difference in float32
        "numpy_scalar",
        "ndarray_and_tensor",
    ],
)
def test_assert_close_messages_equal_pytorchs(case):
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (minigrad, torch):
        a = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        b = a.clone()
        b[1, 2] -= 0.5
        nan = float("nan")
        args = {
            "float32_relative": (a, b),
            "nan_absolute": (lib.tensor([nan, 1.0]), lib.tensor([nan, 1.0])),
            "int_equality": (lib.tensor([1, 2, 3]), lib.tensor([1, 2, 4])),
            "scalars": (1.0, 1.001),
            "int_scalars": (1, 2),
            "bools": (True, False),
            "scalar_types": (1, 1.0),
            "tensor_and_number": (lib.tensor(1.0), 1.5),
            "zero_dim": (lib.tensor(3), lib.tensor(4)),
            "opposite_infinities": (
                lib.tensor([1.0, float("inf")]),
                lib.tensor([1.0, -float("inf")]),
            ),
            "mixed_int_relative": (lib.tensor([1, 2], dtype=lib.int32), lib.tensor([1, 5])),
            "numpy_scalar": (np.float32(1.0), 1.0),
            "ndarray_and_tensor": (np.ones(2), lib.ones(2, dtype=lib.float64)),
        }[case]
        kwargs = {"check_dtype": False} if case == "mixed_int_relative" else {}
        text = re.sub(r"<class '[\w.]*Tensor'>", "Tensor", _message(lib, *args, **kwargs))
        messages.append(text.replace("torch.", "").replace("minigrad.", ""))
    assert messages[0] == messages[1]


def test_compile_accepts_dynamic_true_with_eager_results():
    step = minigrad.compile(lambda t: (t * 3).sum(), dynamic=True, fullgraph=True)
    assert [step(minigrad.ones(n)).item() for n in (2, 5, 2, 5)] == [6.0, 15.0, 6.0, 15.0]


def test_parameter_of_an_inference_tensor_is_refused_outside_inference_mode():
    data = _inference_tensor()
    with pytest.raises(RuntimeError, match="requires_grad=True on inference tensor"):
        minigrad.nn.Parameter(data)
    with minigrad.inference_mode():
        layer = minigrad.nn.Linear(2, 2)
    assert (
        layer.weight.is_inference() and not minigrad.nn.Parameter(minigrad.ones(1)).is_inference()
    )


def test_a_new_generator_starts_from_pytorchs_default_seed():
    torch = pytest.importorskip("torch")
    ours, theirs = minigrad.Generator(), torch.Generator()
    assert ours.initial_seed() == theirs.initial_seed() == 67280421310721
    assert minigrad.rand(3, generator=ours).tolist() == torch.rand(3, generator=theirs).tolist()


@pytest.mark.parametrize("name", ["LambdaLR", "MultiplicativeLR", "StepLR"])
def test_scheduler_with_a_group_added_later_fails_where_pytorchs_does(name):
    torch = pytest.importorskip("torch")
    outcomes = []
    for lib in (minigrad, torch):
        w1, w2 = lib.ones(1, requires_grad=True), lib.ones(1, requires_grad=True)
        opt = lib.optim.SGD([w1], lr=1.0)
        kwargs = {"StepLR": {"step_size": 1}}.get(name, {"lr_lambda": lambda e: 0.9})
        sched = getattr(lib.optim.lr_scheduler, name)(opt, **kwargs)
        opt.add_param_group({"params": [w2], "lr": 0.5})
        try:
            for _ in range(2):
                opt.step()
                sched.step()
            outcomes.append([g["lr"] for g in opt.param_groups])
        except ValueError:
            outcomes.append("ValueError")
    if name == "StepLR":  # it scales each group's own lr: no error, in both
        assert outcomes[0] == pytest.approx(outcomes[1]) == [0.01, 0.005]
    else:
        assert outcomes == ["ValueError", "ValueError"]


def test_functional_call_extra_names_and_strict_report_as_pytorch():
    torch = pytest.importorskip("torch")
    reports = []
    for lib in (minigrad, torch):
        lib.manual_seed(0)
        layer = lib.nn.Linear(2, 2)
        given = {"weight": lib.ones(2, 2), "extra": lib.ones(1)}
        out = lib.func.functional_call(layer, given, (lib.ones(1, 2),))  # extra: an attribute
        with pytest.raises(RuntimeError) as strict:
            lib.func.functional_call(layer, given, (lib.ones(1, 2),), strict=True)
        with pytest.raises(AttributeError) as nested:
            lib.func.functional_call(layer, {"sub.extra": lib.ones(1)}, (lib.ones(1, 2),))
        reports.append(
            (out[0].tolist(), hasattr(layer, "extra"), str(strict.value), str(nested.value))
        )
    assert reports[0][1:] == reports[1][1:] and reports[0][0] == pytest.approx(reports[1][0])


def test_empty_fills_known_values_under_deterministic_algorithms():
    before = minigrad.are_deterministic_algorithms_enabled()
    minigrad.use_deterministic_algorithms(True)
    try:
        assert minigrad.empty(2).isnan().all() and minigrad.ones(2).new_empty(3).isnan().all()
        assert minigrad.empty(2, dtype=minigrad.uint8).tolist() == [255, 255]
        assert minigrad.empty(1, dtype=minigrad.bool).tolist() == [True]
        assert minigrad.empty_strided((2, 2), (1, 2)).isnan().all()
        assert minigrad.ones(2).resize_(3).tolist()[:2] == [1.0, 1.0]
        assert minigrad.ones(2).resize_(3)[2].isnan()
        minigrad.utils.deterministic.fill_uninitialized_memory = False
        assert minigrad.empty(2).tolist() == [0.0, 0.0]
    finally:
        minigrad.utils.deterministic.fill_uninitialized_memory = True
        minigrad.use_deterministic_algorithms(before)
    assert minigrad.empty(2).tolist() == [0.0, 0.0]  # zeros otherwise (documented)
