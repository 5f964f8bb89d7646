"""Memory formats: contiguous / clone / to / Module.to with channels_last, is_contiguous and
stride() against PyTorch; values never change."""

import numpy as np
import pytest

import minigrad
from minigrad import nn

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)


def _both(fn):
    return fn(minigrad, minigrad.tensor(X)), fn(torch, torch.tensor(X))


@pytest.mark.parametrize(
    "name, fn",
    [
        ("contiguous cl", lambda m, x: x.contiguous(memory_format=m.channels_last)),
        (
            "contiguous cl, back",
            lambda m, x: x.contiguous(memory_format=m.channels_last).contiguous(),
        ),
        ("to cl", lambda m, x: x.to(memory_format=m.channels_last)),
        ("clone keeps cl", lambda m, x: x.to(memory_format=m.channels_last).clone()),
        (
            "clone to rows",
            lambda m, x: x.to(memory_format=m.channels_last).clone(
                memory_format=m.contiguous_format
            ),
        ),
        ("cl op result", lambda m, x: x.contiguous(memory_format=m.channels_last) * 2),
    ],
)
def test_layouts_match_torch(name, fn):
    ours, theirs = _both(fn)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.stride() == theirs.stride()
    for fmt in ("contiguous_format", "channels_last"):
        mine = ours.is_contiguous(memory_format=getattr(minigrad, fmt))
        assert mine == theirs.is_contiguous(memory_format=getattr(torch, fmt)), fmt


def test_gradients_flow_and_errors():
    x = minigrad.tensor(X, requires_grad=True)
    y = x.contiguous(memory_format=minigrad.channels_last)
    assert y.is_contiguous(memory_format=minigrad.channels_last) and not y.is_contiguous()
    (y * minigrad.arange(120.0).reshape(2, 3, 4, 5)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(120.0).reshape(2, 3, 4, 5))
    assert x.contiguous() is x  # already row-major
    with pytest.raises(RuntimeError, match="rank 4"):
        minigrad.ones(2, 3).contiguous(memory_format=minigrad.channels_last)
    with pytest.raises(RuntimeError, match="preserve memory format"):
        x.contiguous(memory_format=minigrad.preserve_format)
    assert repr(minigrad.channels_last) == "minigrad.channels_last"
    # preserve_format keeps any dense layout, as PyTorch's (a permuted tensor's strides)
    permuted = minigrad.tensor(X).permute(0, 2, 3, 1)
    assert permuted.clone().stride() == permuted.stride() == (60, 5, 1, 20)


def test_module_to_channels_last_as_pytorch():
    ours, theirs = nn.Conv2d(3, 4, 3), torch.nn.Conv2d(3, 4, 3)
    ours.load_state_dict(
        {k: minigrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    )
    ours.to(memory_format=minigrad.channels_last)
    theirs.to(memory_format=torch.channels_last)
    assert ours.weight.stride() == theirs.weight.stride() and ours.bias.is_contiguous()
    y_ours = ours(minigrad.tensor(X).to(memory_format=minigrad.channels_last))
    y_theirs = theirs(torch.tensor(X).to(memory_format=torch.channels_last))
    np.testing.assert_allclose(y_ours.detach().numpy(), y_theirs.detach().numpy(), atol=1e-5)


def test_row_major_contiguous_inside_vmap_as_before():
    x = minigrad.tensor(np.stack([X, X + 1]))
    out = minigrad.func.vmap(lambda s: s.permute(0, 2, 1, 3).contiguous() * 1)(x)
    np.testing.assert_array_equal(out.numpy(), x.numpy().transpose(0, 1, 3, 2, 4))


def test_every_tensor_has_the_strided_layout():
    import pickle

    t = minigrad.zeros(2, 3).t()
    assert t.layout is minigrad.strided and repr(t.layout) == "minigrad.strided"
    assert isinstance(minigrad.strided, minigrad.layout)
    assert pickle.loads(pickle.dumps(minigrad.strided)) is minigrad.strided
    torch = pytest.importorskip("torch")
    assert repr(torch.zeros(2).layout) == repr(t.layout).replace("minigrad", "torch")


@pytest.mark.parametrize(
    "name", ["zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"]
)
@pytest.mark.parametrize("fmt", [None, "preserve_format", "contiguous_format", "channels_last"])
def test_like_factories_take_memory_format_and_layout_as_torch(name, fmt):
    """``torch.zeros_like(p, memory_format=torch.preserve_format)`` (PyTorch's own optimizers
    write it): the result is laid out as the input (or as asked), with the strides PyTorch gives."""
    strides = []
    for m in (minigrad, torch):
        x = m.zeros(2, 3, 4, 5).contiguous(memory_format=m.channels_last)
        kw = {} if fmt is None else {"memory_format": getattr(m, fmt)}
        strides.append(getattr(m, name)(x, layout=m.strided, **kw).stride())
    assert strides[0] == strides[1]
    with pytest.raises(RuntimeError, match="required rank 5"):
        minigrad.zeros_like(minigrad.zeros(2, 3), memory_format=minigrad.channels_last_3d)


def test_copies_of_channels_last_tensors_own_their_memory():
    """A clone (or deepcopy) of a channels-last tensor was once a view of it: in-place ops on
    the copy (an optimizer's or an EMA's ``lerp_``) wrote into the original."""
    import copy

    a = minigrad.arange(24.0).reshape(2, 3, 2, 2).to(memory_format=minigrad.channels_last)
    for copied in (a.clone(), copy.deepcopy(a), a.clone(memory_format=minigrad.channels_last)):
        assert not np.shares_memory(copied._data, a._data)
        assert copied.stride() == a.stride() == (12, 1, 6, 3)
        copied.mul_(2)
        assert np.array_equal(a.numpy(), np.arange(24.0).reshape(2, 3, 2, 2))
        assert np.array_equal(copied.numpy(), 2 * a.numpy())
