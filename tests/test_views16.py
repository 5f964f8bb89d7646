"""diagonal, Tensor.unfold, view_as_real and view_as_complex are views, as PyTorch's: writes
through them reach the base (``A.diagonal().add_(lam)``), writes to the base show in them, they
share the base's version counter, and autograd through an in-place write on them matches
PyTorch's."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")


def _lib(x):
    return torch if isinstance(x, torch.Tensor) else mg


# name -> (view of a (3, 4) float tensor; whether its input is complex)
VIEWS = {
    "diagonal": lambda x: x.diagonal(),
    "diagonal_offset": lambda x: x.diagonal(1),
    "diagonal_negative_offset": lambda x: x.diagonal(-1),
    "diagonal_last_dims": lambda x: _lib(x).diagonal(x.reshape(3, 2, 2), dim1=-2, dim2=-1),
    "diagonal_dims_0_2": lambda x: x.reshape(2, 2, 3).diagonal(1, 2, 0),
    "diagonal_of_transpose": lambda x: x.t().diagonal(-1),
    "unfold": lambda x: x.unfold(1, 2, 2),
    "unfold_dim0_of_transpose": lambda x: x.t().unfold(0, 2, 2),
    "unfold_gaps": lambda x: x.unfold(1, 1, 3),
    "view_as_real": lambda x: _lib(x).view_as_real(_lib(x).complex(x, x + 100)),
    "view_as_complex": lambda x: _lib(x).view_as_complex(x.reshape(3, 2, 2)),
    "view_as_complex_narrowed": lambda x: _lib(x).view_as_complex(x[1:, 2:]),
}


def _base(lib, dtype=None):
    return lib.arange(12.0, dtype=dtype or lib.float64).reshape(3, 4)


def _plain(t):
    """Values as nested lists; complex numbers as (real, imag) pairs."""
    data = t.detach().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()
    data = np.asarray(data)
    if np.iscomplexobj(data):
        data = np.stack([data.real, data.imag], -1)
    return data.tolist()


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_writes_go_both_ways_and_base_is_set(name):
    make = VIEWS[name]
    results = []
    for lib in (torch, mg):
        x = _base(lib)
        v = make(x)
        seen = (v._base is not None, v._is_view())
        v.mul_(2)  # through the view into x
        written = _plain(x)
        x.add_(1)  # into x, seen by the view
        results.append((seen, written, _plain(v)))
    assert results[1] == results[0]


# (the view_as_* entries view tensors made inside VIEWS: see their own tests below)
@pytest.mark.parametrize("name", [n for n in sorted(VIEWS) if not n.startswith("view_as")])
def test_autograd_through_an_in_place_write_on_the_view(name):
    make = VIEWS[name]
    grads = []
    for lib in (torch, mg):
        x = _base(lib).requires_grad_()
        w = lib.tensor(3.0, dtype=lib.float64, requires_grad=True)
        y = x * 1.5
        make(y).mul_(w)
        (y.sin() * y).sum().backward()
        grads.append((_plain(x.grad), float(w.grad)))
    np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-12)
    assert grads[1][1] == pytest.approx(grads[0][1], rel=1e-12)


def test_autograd_through_an_in_place_write_on_view_as_real():
    grads = []
    for lib in (torch, mg):
        x = _base(lib).requires_grad_()
        w = lib.tensor(3.0, dtype=lib.float64, requires_grad=True)
        z = lib.complex(x, x * x)
        lib.view_as_real(z)[1:, :, 1].mul_(w)  # the imaginary parts of rows 1 and 2
        (z * z).abs().sum().backward()
        grads.append((_plain(x.grad), float(w.grad)))
    np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-12)
    assert grads[1][1] == pytest.approx(grads[0][1], rel=1e-12)


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_version_counter_is_shared(name):
    make = VIEWS[name]
    outcomes = []
    for lib in (torch, mg):
        x = _base(lib).requires_grad_()
        v = make(x * 1)
        z = (v * v).abs().sum()  # v saved for backward
        with lib.no_grad():
            v._base.add_(1)  # (for view_as_real: the complex tensor it views)
        try:
            z.backward()
            outcomes.append("ran")
        except RuntimeError as e:
            outcomes.append("raised" if "inplace" in str(e) else str(e))
    assert outcomes == ["raised", "raised"]


def test_ridge_and_identity_idioms():
    for lib in (torch, mg):
        A = lib.ones(2, 3, 3, dtype=lib.float64)
        A.diagonal(dim1=-2, dim2=-1).add_(0.5)  # ridge, batched
        B = lib.zeros(3, 3)
        B.diagonal().fill_(1)
        C = lib.zeros(3, 4)
        C.diagonal(1).copy_(lib.tensor([1.0, 2.0, 3.0]))
        D = lib.ones(2, 2)
        lib.diagonal(D, dim1=-2, dim2=-1).zero_()
        if lib is torch:
            want = [_plain(t) for t in (A, B, C, D)]
    assert [_plain(t) for t in (A, B, C, D)] == want


def test_unfold_of_a_0d_tensor_and_empty_windows():
    for lib in (torch, mg):
        s = lib.tensor(5.0)
        u = s.unfold(0, 1, 1)
        u.add_(1)
        e = lib.arange(4.0).unfold(0, 0, 1)
        got = (_plain(s), tuple(u.shape), u._base is s, tuple(e.shape))
        if lib is torch:
            want = got
    assert got == want


def test_overlapping_unfold_windows_refuse_in_place_writes():
    x = mg.arange(6.0)
    with pytest.raises(RuntimeError, match="overlapping as_strided or unfold windows"):
        x.unfold(0, 3, 1).mul_(2)  # PyTorch's result depends on the order of the writes
    assert x.tolist() == list(range(6))
    x.unfold(0, 2, 2).mul_(2)  # windows that do not overlap write through
    assert x.tolist() == [0, 2, 4, 6, 8, 10]


def test_view_as_complex_in_place_under_autograd():
    x = mg.arange(4.0, requires_grad=True)
    y = x * 1
    with pytest.raises(NotImplementedError, match="view_as_complex"):
        mg.view_as_complex(y.reshape(2, 2)).mul_(2)
    with mg.no_grad():
        mg.view_as_complex(y.reshape(2, 2)).mul_(1j)  # outside autograd it writes through
    assert y.tolist() == [-1.0, 0.0, -3.0, 2.0]


@pytest.mark.parametrize(
    "view, message",
    [
        (lambda x: x[:, :2].t(), "last dimension of size 2"),
        (lambda x: x[:, ::2], "last dimension with stride 1"),
        (lambda x: x.reshape(4, 3)[:, :2], "stride divisible by 2"),
        (lambda x: x[:, 1:3], "storage_offset divisible by 2"),
    ],
)
def test_view_as_complex_layout_errors(view, message):
    for lib in (torch, mg):
        with pytest.raises(RuntimeError, match=message):
            lib.view_as_complex(view(lib.arange(12.0).reshape(3, 4)))


def test_gradcheck_and_gradgradcheck():
    x = mg.randn(3, 4, 5, dtype=mg.float64, requires_grad=True)
    z = mg.complex(mg.randn(3, 2, dtype=mg.float64), mg.randn(3, 2, dtype=mg.float64))
    pairs = mg.randn(3, 2, dtype=mg.float64, requires_grad=True)
    for fn, arg in [
        (lambda t: t.diagonal(1, 0, 2), x),
        (lambda t: t.diagonal(-1, 2, 1), x),
        (lambda t: t.unfold(2, 3, 1), x),  # overlapping windows: gradients add up
        (lambda t: t.unfold(0, 2, 1), x),
        (lambda t: mg.view_as_real(t) * 2, z.requires_grad_()),
        (lambda t: mg.view_as_complex(t) * (1 + 2j), pairs),
    ]:
        assert gradcheck(fn, (arg,)) and gradgradcheck(fn, (arg,))


def test_meta_and_vmap():
    m = mg.empty(3, 4, 5, device="meta")
    assert m.diagonal(0, 1, 2).shape == (3, 4) and m.unfold(2, 2, 1).shape == (3, 4, 4, 2)
    a = np.arange(24.0).reshape(2, 3, 4)
    for fn in (lambda t: t.diagonal(1, -1, 0), lambda t: t.unfold(1, 2, 1)):
        got = mg.func.vmap(fn)(mg.tensor(a))
        assert got.tolist() == torch.vmap(fn)(torch.tensor(a)).tolist()


def test_conjugates_that_stay_writable():
    z = mg.complex(mg.arange(3.0), mg.ones(3))
    physical = mg.conj_physical(z)  # a new tensor in PyTorch too
    physical.add_(1)
    r = mg.arange(3.0)
    r.conj().add_(1)  # a real tensor's conj() is the tensor itself
    w = z.clone().requires_grad_()
    (w.conj() * w.sin()).abs().sum().backward(create_graph=True)
    w.grad.zero_()  # gradients formed through conj stay writable
    assert physical.tolist() == [complex(i + 1, -1) for i in range(3)]
    assert r.tolist() == [1.0, 2.0, 3.0] and w.grad.abs().sum().item() == 0
