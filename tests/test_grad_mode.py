"""Grad mode, inference mode and anomaly mode are per thread, and decorators reach into
generators, as in PyTorch."""

import threading

import pytest

import minigrad
from minigrad.autograd import detect_anomaly, is_anomaly_enabled, set_detect_anomaly


def run_in_thread(fn):
    """Run ``fn`` in a new thread; return its result or raise its exception here."""
    box = {}

    def target():
        try:
            box["result"] = fn()
        except BaseException as e:
            box["error"] = e

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "thread did not finish"
    if "error" in box:
        raise box["error"]
    return box.get("result")


def test_no_grad_in_one_thread_does_not_switch_off_another():
    x = minigrad.ones(2, requires_grad=True)
    inside, release = threading.Event(), threading.Event()

    def hold_no_grad():
        with minigrad.no_grad():
            inside.set()
            release.wait(10)
            return minigrad.is_grad_enabled(), (x * 2).requires_grad

    thread_result = {}
    thread = threading.Thread(target=lambda: thread_result.update(r=hold_no_grad()))
    thread.start()
    assert inside.wait(10)
    try:
        assert minigrad.is_grad_enabled()
        assert (x * 2).requires_grad  # recording here while the other thread is in no_grad
    finally:
        release.set()
        thread.join(10)
    assert thread_result["r"] == (False, False)


def test_backward_in_one_thread_does_not_switch_off_another():
    # backward runs its formulas with grad mode off; a hook holds it there while this thread
    # records an op
    x = minigrad.ones(3, requires_grad=True)
    in_backward, release = threading.Event(), threading.Event()

    def hook(grad):
        in_backward.set()
        release.wait(10)
        return grad

    def do_backward():
        y = x * 3
        y.register_hook(hook)
        y.sum().backward()

    thread = threading.Thread(target=do_backward)
    thread.start()
    assert in_backward.wait(10)
    try:
        assert minigrad.is_grad_enabled()
        z = x * x
        assert z.requires_grad and z.grad_fn is not None
    finally:
        release.set()
        thread.join(10)
    assert x.grad.tolist() == [3.0, 3.0, 3.0]


def test_overlapping_no_grad_blocks_in_two_threads_restore_each_thread():
    # A enters, B enters, A leaves, B leaves: with one global flag A's exit would restore
    # "on" while B is inside, and B's exit would then restore "off" for good.
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def thread_a():
        with minigrad.no_grad():
            a_in.set()
            b_in.wait(10)
        seen["a_after"] = minigrad.is_grad_enabled()
        a_out.set()

    def thread_b():
        a_in.wait(10)
        with minigrad.no_grad():
            b_in.set()
            a_out.wait(10)
            seen["b_inside_after_a_left"] = minigrad.is_grad_enabled()
        seen["b_after"] = minigrad.is_grad_enabled()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"a_after": True, "b_inside_after_a_left": False, "b_after": True}
    assert minigrad.is_grad_enabled()


def test_new_thread_starts_with_grad_on_and_default_modes():
    with minigrad.no_grad():
        assert run_in_thread(minigrad.is_grad_enabled) is True
    with minigrad.inference_mode():
        assert run_in_thread(minigrad.is_inference_mode_enabled) is False
    with detect_anomaly():
        assert is_anomaly_enabled()
        assert run_in_thread(is_anomaly_enabled) is False
    assert not is_anomaly_enabled()


def test_set_grad_enabled_and_set_detect_anomaly_are_per_thread():
    def switch_off():
        minigrad.set_grad_enabled(False)
        set_detect_anomaly(True)
        return minigrad.is_grad_enabled(), is_anomaly_enabled()

    assert run_in_thread(switch_off) == (False, True)
    assert minigrad.is_grad_enabled() and not is_anomaly_enabled()


@pytest.mark.parametrize("decorator", ["no_grad", "inference_mode", "set_grad_enabled"])
def test_decorated_generator_runs_with_the_mode_inside_only(decorator):
    make = {
        "no_grad": minigrad.no_grad,
        "inference_mode": minigrad.inference_mode,
        "set_grad_enabled": lambda: minigrad.set_grad_enabled(False),
    }[decorator]
    x = minigrad.ones(2, requires_grad=True)

    @make()
    def gen(n):
        for _ in range(n):
            received = yield minigrad.is_grad_enabled(), (x * 2).requires_grad
            assert received in (None, "ping")
        return "done"

    it = gen(2)
    assert next(it) == (False, False)
    assert minigrad.is_grad_enabled() and (x * 2).requires_grad  # the consumer: grad on
    assert it.send("ping") == (False, False)
    with pytest.raises(StopIteration) as stop:
        next(it)
    assert stop.value.value == "done"
    assert minigrad.is_grad_enabled()


def test_enable_grad_generator_inside_no_grad_and_bare_decorators():
    @minigrad.enable_grad
    def gen():
        yield minigrad.is_grad_enabled()

    @minigrad.no_grad
    def f():
        return minigrad.is_grad_enabled()

    @minigrad.inference_mode
    def g():
        return minigrad.is_grad_enabled(), minigrad.is_inference_mode_enabled()

    with minigrad.no_grad():
        assert list(gen()) == [True]
        assert not minigrad.is_grad_enabled()
    assert f() is False and g() == (False, True)
    assert minigrad.is_grad_enabled() and not minigrad.is_inference_mode_enabled()


def test_decorated_generator_sees_thrown_exceptions_and_close_under_its_mode():
    seen = []

    @minigrad.no_grad()
    def gen():
        try:
            yield 1
        except ValueError:
            seen.append(("throw", minigrad.is_grad_enabled()))
            yield 2
        finally:
            seen.append(("close", minigrad.is_grad_enabled()))

    it = gen()
    next(it)
    assert it.throw(ValueError("x")) == 2
    it.close()
    assert seen == [("throw", False), ("close", False)]
    assert minigrad.is_grad_enabled()


def test_detect_anomaly_decorates_generators():
    @detect_anomaly()
    def gen():
        yield is_anomaly_enabled()

    it = gen()
    assert next(it) is True and not is_anomaly_enabled()


def test_inference_mode_matches_pytorch():
    torch = pytest.importorskip("torch")
    cases = []
    for lib in (minigrad, torch):
        seen = []
        with lib.inference_mode():
            seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
            with lib.inference_mode(False):
                seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
            with lib.enable_grad():
                seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        with lib.no_grad(), lib.inference_mode(False):
            seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        seen.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        cases.append(seen)
    assert cases[0] == cases[1]


def test_inference_mode_tensors_refuse_autograd_until_cloned():
    with minigrad.inference_mode():
        y = minigrad.ones(2) * 2
    w = minigrad.ones(2, requires_grad=True)
    assert y.is_inference()
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        y * w
    (y.clone() * w).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]


_INDEXING_SAVES_ITS_INDEX = {  # each op keeps its index for backward, as PyTorch saves it
    "embedding": lambda w, i: minigrad.nn.functional.embedding(i, w),
    "getitem": lambda w, i: w[i],
    "gather": lambda w, i: w.gather(0, i[:, None].expand(2, 3)),
    "index_select": lambda w, i: w.index_select(0, i),
    "scatter_add": lambda w, i: minigrad.zeros(5, 3).scatter_add(0, i[:, None].expand(2, 3), w),
    "index_add": lambda w, i: minigrad.zeros(5, 3).index_add(0, i, w[:2]),
}


@pytest.mark.parametrize("op", list(_INDEXING_SAVES_ITS_INDEX))
def test_an_inference_index_refuses_a_graph_that_would_save_it(op):
    """A batch collated under inference_mode (a validation loop) and then fed to a model with
    grad on: PyTorch raises where the op saves the index; only without a graph it runs."""
    with minigrad.inference_mode():
        index = minigrad.tensor([0, 2])
    weight = minigrad.randn(5, 3, requires_grad=True)
    f = _INDEXING_SAVES_ITS_INDEX[op]
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        f(weight, index)
    with minigrad.no_grad():
        f(weight, index)
    f(weight, index.clone())


def test_set_detect_anomaly_is_a_switch_and_a_context_manager():
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
        with set_detect_anomaly(False):
            assert not is_anomaly_enabled()
        assert is_anomaly_enabled()
    finally:
        set_detect_anomaly(False)
    assert not is_anomaly_enabled()


def test_the_old_module_flag_name_reads_this_thread_s_mode():
    from minigrad.autograd import anomaly, grad_mode

    assert grad_mode._enabled is True and anomaly._enabled is False
    with minigrad.no_grad(), detect_anomaly():
        assert grad_mode._enabled is False and anomaly._enabled is True
        assert run_in_thread(lambda: (grad_mode._enabled, anomaly._enabled)) == (True, False)
