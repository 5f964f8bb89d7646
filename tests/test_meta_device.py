"""The meta device: data-less tensors (shape and dtype), compared with PyTorch's meta device."""

import re

import numpy as np
import pytest

import minigrad
from minigrad import nn

torch = pytest.importorskip("torch")


def _pair(name, *args, **kwargs):
    """``name(*args, device="meta")`` in minigrad and in PyTorch."""
    ours = getattr(minigrad, name)(*args, device="meta", **kwargs)
    theirs = getattr(torch, name)(*args, device="meta", **kwargs)
    return ours, theirs


def _same_meta(ours, theirs):
    assert ours.is_meta and theirs.is_meta
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert ours.device.type == "meta" and str(ours.device) == str(theirs.device) == "meta"


@pytest.mark.parametrize(
    "name,args",
    [
        ("empty", (3, 4)),
        ("zeros", (2, 0, 3)),
        ("ones", ((),)),
        ("randn", (5, 2)),
        ("rand", (7,)),
        ("full", ((2, 2), 1.5)),
        ("arange", (5,)),
        ("arange", (0.0, 1.0, 0.25)),
        ("eye", (3,)),
        ("linspace", (0, 1, 5)),
    ],
)
def test_factories_on_meta_match_torch(name, args):
    ours, theirs = _pair(name, *args)
    _same_meta(ours, theirs)
    assert repr(ours).replace("minigrad.", "torch.") == repr(theirs)


def test_like_factories_tensor_to_and_default_device_context():
    base = minigrad.zeros(2, 3, dtype=minigrad.float64, device="meta")
    for fn in ("empty_like", "zeros_like", "ones_like", "rand_like", "randn_like"):
        out = getattr(minigrad, fn)(base)
        assert out.is_meta and out.shape == (2, 3) and out.dtype is minigrad.float64
    moved = minigrad.tensor([[1, 2]]).to("meta")
    assert moved.is_meta and moved.dtype is minigrad.int64 and moved.shape == (1, 2)
    assert repr(moved) == "tensor(..., device='meta', size=(1, 2), dtype=minigrad.int64)"
    with minigrad.device("meta"):
        inside = minigrad.randn(3, requires_grad=True)
        layer = nn.Linear(4, 2)
    assert inside.is_meta and inside.requires_grad and layer.weight.is_meta
    assert repr(inside) == "tensor(..., device='meta', size=(3,), requires_grad=True)"
    assert not minigrad.zeros(2).is_meta and minigrad.get_default_device().type == "cpu"
    assert minigrad.device("meta") == "meta" and repr(minigrad.device("meta")) == repr(
        torch.device("meta")
    )


def test_meta_tensors_hold_no_data_and_refuse_values_as_torch():
    ours = minigrad.empty(10**6, 10**6, device="meta")  # 4 TB if it held data
    assert ours.nbytes == 4 * 10**12 and ours.is_meta
    t = minigrad.zeros(3, 4, device="meta")
    one = minigrad.zeros(1, device="meta")
    tt, tone = torch.zeros(3, 4, device="meta"), torch.zeros(1, device="meta")
    for o, th, method in [(t, tt, "tolist"), (t, tt, "numpy"), (one, tone, "item")]:
        with pytest.raises(Exception) as theirs:
            getattr(th, method)()
        with pytest.raises(type(theirs.value), match=re.escape(str(theirs.value)[:30])):
            getattr(o, method)()
    with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor; no data!"):
        t.to("cpu")


def test_init_ops_on_meta_do_nothing():
    with minigrad.device("meta"):
        layer = nn.Linear(8, 3)
    w = layer.weight
    for call in (
        lambda: w.uniform_(),
        lambda: w.normal_(0, 2),
        lambda: w.zero_(),
        lambda: w.fill_(3.0),
        lambda: nn.init.kaiming_uniform_(w, a=5**0.5),
        lambda: nn.init.xavier_normal_(w),
        lambda: nn.init.constant_(w, 1.0),
        lambda: w.copy_(minigrad.ones(3, 8)),
        lambda: w.add_(1.0).mul_(2.0),
        lambda: nn.init.orthogonal_(w),
        lambda: nn.init.trunc_normal_(w),
        lambda: nn.init.sparse_(w, 0.5),
        lambda: nn.init.eye_(w),
    ):
        assert call() is w and w.is_meta and w.shape == (3, 8)


def _both(fn, *shapes, dtype="float32"):
    ours = fn(minigrad, *[minigrad.empty(*s, device="meta", dtype=dtype) for s in shapes])
    theirs = fn(
        torch, *[torch.empty(*s, device="meta", dtype=getattr(torch, dtype)) for s in shapes]
    )
    _same_meta(ours, theirs)


@pytest.mark.parametrize(
    "fn,shapes",
    [
        (lambda m, x: x.reshape(2, 6), [(3, 4)]),
        (lambda m, x: x.view(-1), [(3, 4)]),
        (lambda m, x: x.T, [(3, 4)]),
        (lambda m, x: x.transpose(0, 2), [(2, 3, 4)]),
        (lambda m, x: x.permute(2, 0, 1), [(2, 3, 4)]),
        (lambda m, x: x.unsqueeze(1).expand(3, 5, 4), [(3, 4)]),
        (lambda m, x: x[1:, None, ::2], [(3, 4)]),
        (lambda m, x, y: x + y, [(3, 1), (1, 4)]),
        (lambda m, x, y: m.where(x > 0, x, y), [(3, 1), (4,)]),
        (lambda m, x, y: x * y - x / 2, [(2, 3, 4), (4,)]),
        (lambda m, x: m.tanh(m.exp(x)).relu(), [(5,)]),
        (lambda m, x, y: x @ y, [(5, 1, 4, 3), (3, 2)]),
        (lambda m, x, w, b: m.nn.functional.linear(x, w, b), [(6, 4), (2, 4), (2,)]),
        (lambda m, x: x.sum(dim=1, keepdim=True), [(3, 4)]),
        (lambda m, x: x.mean(), [(3, 4)]),
        (lambda m, x: x.softmax(-1), [(3, 4)]),
        (lambda m, x, y: m.cat([x, y], 0), [(3, 4), (2, 4)]),
        (lambda m, x, y: m.stack([x, y], 1), [(3, 4), (3, 4)]),
        (lambda m, x: x.to(m.float64), [(3,)]),
    ],
)
def test_shape_level_ops_give_meta_results_as_torch(fn, shapes):
    _both(fn, *shapes)


def test_integer_and_bool_results_keep_torch_dtypes():
    _both(lambda m, x, y: x + y, (3,), (3,), dtype="int64")
    _both(lambda m, x: x.sum(), (3,), dtype="int32")


def test_ops_without_a_meta_rule_raise_naming_the_op():
    t = minigrad.zeros(3, 4, device="meta")
    with pytest.raises(NotImplementedError, match="Cumsum: minigrad does not run this op on meta"):
        t.cumsum(0)
    with pytest.raises(NotImplementedError, match="nonzero"):
        minigrad.nonzero(t)
    with pytest.raises(RuntimeError, match="shape"):
        t + minigrad.zeros(5, device="meta")


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(4, 8), nn.Linear(8, 2)
        self.register_buffer("scale", minigrad.ones(2))

    def forward(self, x):
        return self.fc2(self.fc1(x).relu()) * self.scale


def test_module_pattern_meta_then_to_empty_then_load_state_dict():
    reference = _Net()
    with minigrad.device("meta"):
        model = _Net()
    assert all(p.is_meta for p in model.parameters()) and model.scale.is_meta
    assert model(minigrad.empty(5, 4, device="meta")).shape == (5, 2)
    model = model.to_empty(device="cpu")
    assert all(p.device.type == "cpu" for p in model.parameters())
    model.load_state_dict(reference.state_dict())
    x = minigrad.randn(5, 4)
    np.testing.assert_allclose(model(x).detach().numpy(), reference(x).detach().numpy())
    model(x).sum().backward()
    assert model.fc1.weight.grad.shape == (8, 4)


def test_load_state_dict_assign_onto_meta_module_as_torch():
    reference = _Net()
    with minigrad.device("meta"):
        model = _Net()
    model.load_state_dict(reference.state_dict(), assign=True)
    assert not any(p.is_meta for p in model.parameters()) and not model.scale.is_meta
    assert isinstance(model.fc1.weight, nn.Parameter) and model.fc1.weight.requires_grad
    x = minigrad.randn(3, 4)
    np.testing.assert_allclose(model(x).detach().numpy(), reference(x).detach().numpy())
    with minigrad.device("meta"):
        plain = _Net()
    plain.load_state_dict(reference.state_dict())  # copying into meta tensors: a no-op
    assert plain.fc1.weight.is_meta


def test_skip_init_builds_on_meta_then_allocates_and_layers_run_on_meta():
    layer = nn.utils.skip_init(nn.Linear, 5, 1)
    assert layer.weight.device.type == "cpu" and layer.weight.shape == (1, 5)
    with minigrad.device("meta"):
        block = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, dropout=0.0)
        conv = nn.Conv2d(3, 8, 3)
        out = block(minigrad.randn(2, 5, 8))
        image = conv(minigrad.randn(2, 3, 16, 16))
    assert out.is_meta and out.shape == (2, 5, 8)
    assert image.is_meta and image.shape == (2, 8, 14, 14)


def test_module_to_from_meta_points_to_to_empty_as_torch():
    with minigrad.device("meta"):
        layer = nn.Linear(2, 2)
    with pytest.raises(NotImplementedError, match=r"Please use minigrad.nn.Module.to_empty\(\)"):
        layer.to("cpu")
    assert layer.to(minigrad.float64).weight.dtype is minigrad.float64 and layer.weight.is_meta


def test_init_validation_still_raises_on_meta_and_dirac_is_a_no_op():
    conv_weight = minigrad.empty(4, 2, 3, device="meta")
    assert nn.init.dirac_(conv_weight) is conv_weight and conv_weight.is_meta
    with pytest.raises(ValueError, match="2 or more dimensions"):
        nn.init.orthogonal_(minigrad.empty(3, device="meta"))


def test_cpu_scalars_mix_with_meta_as_torch_but_cpu_tensors_do_not():
    t, tt = minigrad.zeros(3, device="meta"), torch.zeros(3, device="meta")
    _same_meta(t + minigrad.tensor(1.0), tt + torch.tensor(1.0))
    _same_meta(
        t.to(minigrad.int32) * minigrad.tensor(1.5, dtype=minigrad.float64),
        tt.to(torch.int32) * torch.tensor(1.5, dtype=torch.float64),
    )
    with pytest.raises(RuntimeError, match="meta and cpu"):
        t + minigrad.zeros(3)
