"""nn.DataParallel and nn.parallel.data_parallel: a pass-through without a GPU, one GPU, and the
clear error for several GPUs."""

import importlib

import numpy as np
import pytest

import minigrad
import minigrad.nn as nn

# the module, which the function nn.parallel.data_parallel shadows (as in PyTorch)
data_parallel_module = importlib.import_module("minigrad.nn.parallel.data_parallel")


def _no_gpu(monkeypatch):
    monkeypatch.setattr(minigrad.cuda, "is_available", lambda: False)


def test_data_parallel_without_gpu_calls_the_module_as_pytorch(monkeypatch):
    torch = pytest.importorskip("torch")
    _no_gpu(monkeypatch)
    theirs = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    ours = nn.DataParallel(nn.Linear(3, 2))
    assert ours.device_ids == [] and list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs).replace("torch", "minigrad")
    state = {k: minigrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    y_ours = ours(minigrad.tensor(x))
    y_theirs = theirs(torch.tensor(x))
    np.testing.assert_allclose(y_ours.detach().numpy(), y_theirs.detach().numpy(), atol=1e-6)
    (y_ours**2).sum().backward()
    (y_theirs**2).sum().backward()
    np.testing.assert_allclose(
        ours.module.weight.grad.numpy(), theirs.module.weight.grad.numpy(), atol=1e-5
    )


def test_data_parallel_kwargs_and_the_functional_form_needs_a_gpu(monkeypatch):
    _no_gpu(monkeypatch)

    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    assert nn.DataParallel(Scale())(minigrad.ones(2), factor=3.0).tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="device type could not be determined"):
        nn.parallel.data_parallel(nn.Linear(2, 2), minigrad.ones(1, 2), range(1))


def _gpu_type(monkeypatch, type_):
    """Make DataParallel see ``type_`` (``cuda``, or the stand-in ``fakegpu``) as the GPU."""
    monkeypatch.setattr(data_parallel_module, "_device_type", lambda: type_)


def test_data_parallel_over_several_gpus_says_what_to_use(monkeypatch):
    _gpu_type(monkeypatch, "fakegpu")  # the stand-in has two devices
    model = nn.DataParallel(nn.Linear(2, 2))  # default device_ids: every GPU
    assert model.device_ids == [0, 1] and model.output_device == 0
    assert model.module.weight.device == "cpu"  # not moved: that is the replicas' business
    with pytest.raises(NotImplementedError, match="DistributedDataParallel"):
        model(minigrad.ones(4, 2))
    with pytest.raises(NotImplementedError, match="2 GPUs"):
        nn.parallel.data_parallel(nn.Linear(2, 2), minigrad.ones(4, 2), range(2))


def test_data_parallel_on_one_gpu(device, monkeypatch):
    if device == "cpu":
        pytest.skip("DataParallel on one GPU: the stand-in and cuda")
    _gpu_type(monkeypatch, device)
    model = nn.DataParallel(nn.Linear(3, 2), device_ids=[0])
    gpu = f"{device}:0"
    assert model.module.weight.device == gpu  # moved at construction, as in PyTorch
    x = minigrad.randn(4, 3, requires_grad=True)  # on the CPU: moved to the GPU for the call
    out = model(x)
    assert out.device == gpu and tuple(out.shape) == (4, 2)
    out.sum().backward()
    assert model.module.weight.grad.device == gpu and x.grad.device == "cpu"
    expected = model.module.weight.detach().cpu().numpy().sum(0)[None].repeat(4, 0)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)
    y = nn.parallel.data_parallel(model.module, x, [0])
    np.testing.assert_allclose(y.detach().cpu().numpy(), out.detach().cpu().numpy())
    with pytest.raises(RuntimeError, match=f"parameters and buffers on device {gpu}"):
        nn.parallel.data_parallel(nn.Linear(3, 2), x, [0])  # its weights are still on the CPU
