"""Device plumbing, checked on the CuPy stand-in (``fakegpu``) and on CUDA when present."""

import numpy as np
import pytest

import minigrad
from minigrad import backend
from minigrad.autograd import gradcheck
from minigrad.testing.fake_device import HostTransfers


def test_device_parsing():
    assert minigrad.device("cuda") == minigrad.device("cuda:0") == "cuda:0"
    assert str(minigrad.device("cpu")) == "cpu" and minigrad.device("cpu") is backend.CPU
    with pytest.raises(RuntimeError, match="unknown device type 'tpu'"):
        minigrad.device("tpu")
    with pytest.raises(ValueError, match="invalid device string"):
        minigrad.device("cuda:x")


def test_cuda_unavailable_is_reported_cleanly():
    if minigrad.cuda.is_available():
        pytest.skip("a GPU is present")
    assert minigrad.cuda.device_count() == 0


def test_moving_between_devices_keeps_values(device):
    t = minigrad.tensor([[1.0, 2.0]], device=device)
    assert t.device == device
    back = t.to("cpu")
    assert back.device == "cpu" and back.tolist() == [[1.0, 2.0]]


def test_mixing_devices_names_both():
    a, b = minigrad.ones(2), minigrad.ones(2, device="fakegpu")
    with pytest.raises(RuntimeError, match="cpu and fakegpu:0"):
        a + b


def test_gradient_crosses_devices():
    x = minigrad.tensor([1.0, 2.0], dtype=minigrad.float64, requires_grad=True)
    assert gradcheck(lambda t: (t.to("fakegpu") * 3).exp().to("cpu"), (x,))
    y = (x.to("fakegpu") * 3).sum()
    y.backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [3.0, 3.0]


def test_stand_in_refuses_numpy_arrays():
    t = minigrad.ones(3, device="fakegpu")
    with pytest.raises(TypeError, match="NumPy array was mixed"):
        t._data + np.ones(3)
    with pytest.raises(TypeError, match="hidden host transfer"):
        np.asarray(t._data)


def _training_step(device):
    minigrad.manual_seed(0)  # data drawn on the CPU, so every device sees the same numbers
    w = minigrad.randn(4, 3).to(device).requires_grad_()
    b = minigrad.zeros(3, device=device, requires_grad=True)
    x = minigrad.randn(8, 4).to(device)
    target = minigrad.randint(0, 3, (8,)).to(device)
    logits = (x @ w + b).relu()
    logp = logits - logits.logsumexp(1, keepdim=True)
    loss = -logp.gather(1, target.unsqueeze(1)).mean()
    loss.backward()
    with minigrad.no_grad():
        for p in (w, b):
            p.sub_(p.grad, alpha=0.1)
            p.grad = None
    return loss


def test_training_step_makes_no_host_transfers():
    _training_step("fakegpu")  # warm up: generators, caches
    before = HostTransfers.count
    loss = _training_step("fakegpu")
    assert HostTransfers.count == before, "a training step copied data to the host"
    assert loss.item() > 0 and HostTransfers.count == before + 1  # .item() is the one copy


def test_same_results_on_cpu_and_stand_in():
    assert _training_step("cpu").item() == pytest.approx(_training_step("fakegpu").item())


def test_seeding_covers_every_device():
    minigrad.manual_seed(7)
    a = minigrad.randn(3, device="fakegpu").tolist()
    minigrad.manual_seed(7)
    assert minigrad.randn(3, device="fakegpu").tolist() == a


@pytest.mark.gpu
def test_cuda_training_step():
    loss = _training_step("cuda")
    assert loss.device == "cuda:0" and np.isfinite(loss.item())


def test_erf_without_scipy_is_exact(monkeypatch):
    import math
    import sys

    monkeypatch.setitem(sys.modules, "scipy.special", None)  # import fails: the fallback runs
    cpu = backend.get_backend("cpu")
    for values in (np.array(0.5), np.array([-2.0, 0.0, 0.3, 3.0])):
        out = cpu.erf(values)
        assert isinstance(out, np.ndarray) and out.shape == values.shape
        np.testing.assert_array_equal(out, np.vectorize(math.erf)(values))


def test_ops_on_a_second_device_run_with_it_current():
    from minigrad.testing.fake_device import FakeBackend

    FakeBackend.seen_current.clear()
    x = minigrad.randn(3, device="fakegpu:1", requires_grad=True)
    assert FakeBackend.seen_current == {1}  # drawn with device 1 current
    FakeBackend.seen_current.clear()
    (x.exp() * 2).sum().backward()
    assert x.grad.device == "fakegpu:1" and FakeBackend.seen_current == {1}
    with pytest.raises(RuntimeError, match="fakegpu:0 and fakegpu:1"):
        minigrad.ones(3, device="fakegpu:0") + x
