"""Leftovers of the sixteenth session, each checked against PyTorch 2.13: ``to("cpu:0")``
copies, exported ``module()`` argument errors, writes into expanded tensors, compile
fallbacks, nested-vmap indexing, PIL interpolation constants, ElasticTransform."""

import minigrad
from minigrad import nn


def test_to_indexed_cpu_copies_as_pytorch():
    """``"cpu:0"`` is not a CPU tensor's ``cpu`` device: ``to`` copies (``ToCopyBackward0``);
    ``to("cpu")`` and ``cpu()`` return the tensor itself."""
    t = minigrad.zeros(3, requires_grad=True)
    for device in ("cpu:0", minigrad.device("cpu", 0)):
        out = t.to(device)
        assert out is not t and out.device == minigrad.device("cpu")
        assert type(out.grad_fn).__name__ == "ToCopyBackward0"
    assert t.to("cpu") is t and t.cpu() is t and t.to(minigrad.device("cpu")) is t
    out = t.to("cpu:0")
    out.sum().backward()
    assert t.grad.tolist() == [1.0, 1.0, 1.0]
    layer = nn.Linear(2, 2)
    weight, pointer = layer.weight, layer.weight.data_ptr()
    layer.to("cpu")
    assert layer.weight.data_ptr() == pointer
    layer.to("cpu:0")  # the same Parameter, new storage, as PyTorch's
    assert layer.weight is weight and layer.weight.data_ptr() != pointer
