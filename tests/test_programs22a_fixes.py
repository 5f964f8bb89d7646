"""What the twenty-second round of programs (sequence models and long-context attention) found
in minigrad, each checked against PyTorch where it is installed."""

import pytest
from test_programs5 import close

import minigrad


def _both(run):
    torch = pytest.importorskip("torch")
    return run(minigrad), run(torch)


def _complex_cumprod(lib):
    lib.manual_seed(0)
    z = lib.randn(2, 5, dtype=lib.cfloat, requires_grad=True)
    y = z.cumprod(1)
    (y * y.conj()).real.sum().backward()
    return [
        y.dtype == lib.complex64,
        lib.view_as_real(y).tolist(),
        lib.view_as_real(z.grad).tolist(),
    ]


def test_cumprod_of_complex_tensors():
    """The LRU's powers of its complex diagonal (``torch.cumprod``) raised NotImplementedError;
    PyTorch computes it, with the conjugated derivative of its complex-gradient convention."""
    ours, theirs = _both(_complex_cumprod)
    assert ours[0] and theirs[0]
    assert close(ours[1:], theirs[1:], 1e-5, 1e-6)
