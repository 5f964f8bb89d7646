"""Warnings about how minigrad was called point at the caller's line, as PyTorch's do, however
many decorators and helpers lie between (``minigrad._warnings.warn_user``)."""

import warnings

import pytest

import minigrad
import minigrad.nn.functional as F


def _calls():
    x = minigrad.randn(3, 4)
    return [
        ("mse_loss", lambda: F.mse_loss(x, minigrad.randn(4))),  # wrapped by @real_only
        ("kl_div", lambda: F.kl_div(x, x)),
        ("size_average", lambda: F.nll_loss(x, minigrad.tensor([0, 1, 2]), size_average=True)),
        ("softmax", lambda: F.softmax(x)),
        ("indexing", lambda: x[[0, 1], [1, 2]][[[0]]]),
        ("lstm", lambda: minigrad.nn.LSTM(2, 3, dropout=0.5)),
        ("upsample", lambda: F.upsample(x[None], scale_factor=2)),
    ]


@pytest.mark.parametrize("name, call", _calls(), ids=[n for n, _ in _calls()])
def test_warning_points_at_the_callers_line(name, call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    assert caught, f"{name}: no warning"
    assert {w.filename for w in caught} == {__file__}, [(w.filename, w.lineno) for w in caught]


def test_messages_are_pytorchs_where_programs_filter_on_them():
    torch = pytest.importorskip("torch")
    x, tx = minigrad.randn(3, 4), torch.randn(3, 4)
    for ours, theirs in [
        (lambda: F.kl_div(x, x), lambda: torch.nn.functional.kl_div(tx, tx)),
        (
            lambda: F.mse_loss(x, minigrad.randn(4)),
            lambda: torch.nn.functional.mse_loss(tx, torch.randn(4)),
        ),
    ]:
        with warnings.catch_warnings(record=True) as a:
            warnings.simplefilter("always")
            ours()
        with warnings.catch_warnings(record=True) as b:
            warnings.simplefilter("always")
            theirs()
        assert str(a[0].message).replace("minigrad", "torch") == str(b[0].message)


def test_every_warning_of_the_package_goes_through_warn_user():
    """A hand-counted ``stacklevel`` breaks when a decorator or helper adds a frame."""
    from pathlib import Path

    package = Path(minigrad.__file__).parent
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "_warnings.py" and "warnings.warn(" in path.read_text()
    ]
    assert not offenders, f"use minigrad._warnings.warn_user in {offenders}"
