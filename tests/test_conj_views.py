"""``x.conj()`` of a complex tensor is a lazy conjugate view, as PyTorch's conjugate bit: reads
conjugate, writes go through both ways, the version counter is shared, ``is_conj``,
``resolve_conj``, ``conj_physical``, ``is_neg``/``resolve_neg``, and autograd through the view
and through in-place writes on it match PyTorch's."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import gradcheck, gradgradcheck
from minigrad.ops import conj_view

torch = pytest.importorskip("torch")


def _plain(t):
    """Values as nested lists of (real, imag) pairs (a conjugate view is resolved first)."""
    data = np.asarray(t.detach().resolve_conj().resolve_neg().numpy())
    if np.iscomplexobj(data):
        data = np.stack([data.real, data.imag], -1)
    return data.tolist()


def _z(lib, requires_grad=False):
    z = lib.complex(lib.arange(6.0, dtype=lib.float64), lib.arange(6.0, dtype=lib.float64) - 2)
    return z.reshape(2, 3).requires_grad_(requires_grad)


# name -> a conjugate view (or a view of one) of a (2, 3) complex tensor
VIEWS = {
    "conj": lambda z: z.conj(),
    "function": lambda z: (torch if isinstance(z, torch.Tensor) else mg).conj(z),
    "row_of_conj": lambda z: z.conj()[1],
    "conj_of_row": lambda z: z[1].conj(),
    "H": lambda z: z.H,
    "mH_column": lambda z: z.mH[:, 1],
    "adjoint": lambda z: z.adjoint(),
    "conj_of_conj": lambda z: z.conj().conj(),
    "detached": lambda z: z.conj().detach(),
    "imag_of_conj": lambda z: z.conj().imag,
    "real_of_conj": lambda z: z.conj().real,
    "diagonal_of_conj": lambda z: z.conj().diagonal(),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_bits_and_writes_both_ways(name):
    make = VIEWS[name]
    results = []
    for lib in (torch, mg):
        z = _z(lib)
        v = make(z)
        bits = (v.is_conj(), v.is_neg(), v._is_view(), v._version == z._version)
        v.mul_(2)  # through the view into z
        written = (_plain(z), z._version, v._version)
        z.add_(1j)  # into z, seen by the view
        results.append((bits, written, _plain(v)))
    assert results[1] == results[0]


def test_real_tensors_and_copies_carry_no_bit():
    for lib in (torch, mg):
        r = lib.arange(3.0)
        assert r.conj() is r and not r.conj().is_conj() and not r.is_neg()
        v = _z(lib).conj()
        for copy in (v.clone(), v.resolve_conj(), v.conj_physical(), v + 0, v.t().contiguous()):
            assert not copy.is_conj() and not copy._is_view()
        assert v.resolve_neg() is v and v.imag.resolve_neg().is_neg() is False
        z = _z(lib)
        assert z.resolve_conj() is z and z.conj_physical().tolist() == v.tolist()


def test_ops_that_need_the_conjugation_resolved_refuse():
    for lib in (torch, mg):
        v = _z(lib).conj()
        with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that has conjug"):
            v.numpy()
        with pytest.raises(RuntimeError, match="view_as_real doesn't work on unresolved conj"):
            lib.view_as_real(v)
        assert _plain(lib.view_as_real(v.resolve_conj())) == _plain(v)


def test_grad_fn_names():
    names = []
    for lib in (torch, mg):
        y = _z(lib, True) * 1
        outs = (y.conj(), y.conj().resolve_conj(), y.conj_physical(), y.H)
        names.append([type(o.grad_fn).__name__ for o in outs])
    assert names[1] == names[0]


# (a detached view is outside the graph)
@pytest.mark.parametrize("name", sorted(set(VIEWS) - {"detached"}))
def test_autograd_through_the_view_and_an_in_place_write_on_it(name):
    make = VIEWS[name]
    grads = []
    for lib in (torch, mg):
        z = _z(lib, True)
        w = lib.tensor(0.5 - 1.5j, dtype=lib.complex128, requires_grad=True)
        y = z * (1 + 0.5j)
        v = make(y)
        c = lib.full_like(v, 0.5 + 2j if v.is_complex() else 0.5)
        read = (v * c).sum().abs()  # through the view (v itself is not saved)
        v.mul_(w if v.is_complex() else w.real)  # in place on it: recorded on y
        loss = read + (y.sin() * y).abs().sum() + (v * v.detach().resolve_conj() + 1).abs().sum()
        loss.backward()
        grads.append((_plain(z.grad), _plain(w.grad)))
    np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads[1][1], grads[0][1], rtol=1e-10, atol=1e-12)


def test_version_counter_is_shared():
    outcomes = []
    for lib in (torch, mg):
        z = _z(lib, True) * 1
        v = z.conj()
        loss = (v * v).abs().sum()  # v saved for backward
        with lib.no_grad():
            z.add_(1)
        try:
            loss.backward()
            outcomes.append("ran")
        except RuntimeError as e:
            outcomes.append("raised" if "inplace" in str(e) else str(e))
    assert outcomes == ["raised", "raised"]


def test_gradcheck_through_conj_views():
    z = mg.tensor(np.array([[1 + 2j, -0.5 + 1j], [0.3 - 1j, 2 - 0.2j]]), requires_grad=True)

    def f(a):
        b = a * 1
        b.conj()[0].mul_(a[1])  # an in-place write through a conjugate view
        return (b.H @ b) * a.mH

    assert gradcheck(f, (z,)) and gradgradcheck(f, (z,))


def test_links_are_dropped_with_the_views():
    z = _z(mg)
    counter = z.conj()._version_counter  # the view itself is gone at once
    assert id(counter) not in conj_view._LINKS
    kept = z.conj()[0]  # a view of the view keeps its memory, so the link, alive
    assert id(counter) in conj_view._LINKS
    z.mul_(2)
    assert kept.tolist() == [complex(2 * i, -2 * (i - 2)) for i in range(3)]
    del kept
    assert id(counter) not in conj_view._LINKS


def test_expanded_source_refuses_writes_through_the_view():
    z = mg.complex(mg.ones(3), mg.ones(3)).expand(2, 3)
    with pytest.raises(RuntimeError, match="read-only|more than one element"):
        z.conj().mul_(2)
