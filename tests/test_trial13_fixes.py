"""What the eleventh session's new-user trial found (tutorial scripts run under PyTorch and
under ``python -m minigrad.as_torch``), each compared with PyTorch: channels-last layouts that
convolutions, pools and resampling keep, ``parameters_to_vector`` on channels-last weights,
``tensor(a_tensor)``'s warning, and float64 ``grid_sample`` at an identity transform."""

import sys
import warnings

import numpy as np
import pytest

import minigrad
import minigrad.as_torch
import minigrad.nn.functional as F

torch = pytest.importorskip("torch")

CL = {4: "channels_last", 5: "channels_last_3d"}


def _pair(shape, channels_last: bool, seed: int = 0):
    """The same random array as a minigrad and a torch tensor, channels-last if asked."""
    data = np.random.default_rng(seed).standard_normal(shape)
    ours, theirs = minigrad.tensor(data), torch.tensor(data)
    if channels_last:
        fmt = CL[len(shape)]
        ours = ours.contiguous(memory_format=getattr(minigrad, fmt))
        theirs = theirs.contiguous(memory_format=getattr(torch, fmt))
    return ours, theirs


def _layout(t, lib):
    fmt = CL.get(t.ndim)
    return (
        t.is_contiguous(),
        fmt is not None and t.is_contiguous(memory_format=getattr(lib, fmt)),
    )


LAYOUT_CASES = {
    "conv2d": (lambda f, x, w: f.conv2d(x, w, padding=1), (2, 3, 6, 6), (4, 3, 3, 3)),
    "conv3d": (lambda f, x, w: f.conv3d(x, w), (1, 2, 4, 4, 4), (3, 2, 2, 2, 2)),
    "conv_transpose2d": (
        lambda f, x, w: f.conv_transpose2d(x, w, stride=2),
        (2, 3, 4, 4),
        (3, 2, 3, 3),
    ),
    "max_pool2d": (lambda f, x, w: f.max_pool2d(x, 2), (2, 3, 6, 6), None),
    "max_pool2d_indices": (
        lambda f, x, w: f.max_pool2d(x, 2, return_indices=True)[1],
        (2, 3, 6, 6),
        None,
    ),
    "avg_pool2d": (lambda f, x, w: f.avg_pool2d(x, 3, stride=2), (2, 3, 7, 7), None),
    "adaptive_avg_pool2d": (lambda f, x, w: f.adaptive_avg_pool2d(x, 3), (2, 3, 7, 7), None),
    "adaptive_max_pool2d": (lambda f, x, w: f.adaptive_max_pool2d(x, 2), (2, 3, 5, 5), None),
    "max_pool3d": (lambda f, x, w: f.max_pool3d(x, 2), (1, 2, 4, 4, 4), None),
    "avg_pool3d": (lambda f, x, w: f.avg_pool3d(x, 2), (1, 2, 4, 4, 4), None),
    "adaptive_max_pool3d": (lambda f, x, w: f.adaptive_max_pool3d(x, 2), (1, 2, 4, 4, 4), None),
    "interpolate3d": (
        lambda f, x, w: f.interpolate(x, scale_factor=2, mode="trilinear"),
        (1, 2, 3, 3, 3),
        None,
    ),
    "lp_pool2d": (lambda f, x, w: f.lp_pool2d(x, 2, 2), (2, 3, 6, 6), None),
    "fractional_max_pool2d": (
        lambda f, x, w: f.fractional_max_pool2d(
            x, 2, output_size=3, _random_samples=x.new_full((2, 3, 2), 0.5)
        ),
        (2, 3, 6, 6),
        None,
    ),
    "interpolate": (
        lambda f, x, w: f.interpolate(x, scale_factor=2, mode="nearest"),
        (2, 3, 3, 3),
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(LAYOUT_CASES))
@pytest.mark.parametrize("which", ["input", "weight", "neither"])
def test_layout_follows_pytorch(name, which):
    fn, x_shape, w_shape = LAYOUT_CASES[name]
    if which == "weight" and w_shape is None:
        pytest.skip("no weight")
    x, tx = _pair(x_shape, which == "input")
    w = tw = None
    if w_shape is not None:
        w, tw = _pair(w_shape, which == "weight", seed=1)
    ours, theirs = fn(F, x, w), fn(torch.nn.functional, tx, tw)
    assert _layout(ours, minigrad) == _layout(theirs, torch)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_conv1d_of_a_transposed_input_stays_row_major():
    x = minigrad.randn(2, 8, 3).transpose(1, 2)
    tx = torch.tensor(x.numpy())
    w = minigrad.randn(4, 3, 3)
    ours = F.conv1d(x, w)
    theirs = torch.nn.functional.conv1d(tx, torch.tensor(w.numpy()))
    assert ours.stride() == theirs.stride()


def test_channels_last_conv_output_refuses_flat_view_as_pytorch():
    """A view that crosses the channels-last layout raises in both; reshape copies."""
    conv = minigrad.nn.Conv2d(3, 4, 3).to(memory_format=minigrad.channels_last)
    x = minigrad.randn(2, 3, 5, 5).contiguous(memory_format=minigrad.channels_last)
    y = conv(x)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        y.view(2, -1)
    assert y.reshape(2, -1).shape == (2, 36)


def test_parameters_to_vector_raises_on_channels_last_weights_as_pytorch():
    ours = minigrad.nn.Conv2d(3, 4, 3).to(memory_format=minigrad.channels_last)
    theirs = torch.nn.Conv2d(3, 4, 3).to(memory_format=torch.channels_last)
    with pytest.raises(RuntimeError) as torch_error:
        torch.nn.utils.parameters_to_vector(theirs.parameters())
    with pytest.raises(RuntimeError) as our_error:
        minigrad.nn.utils.parameters_to_vector(ours.parameters())
    assert str(our_error.value) == str(torch_error.value)
    plain = minigrad.nn.Conv2d(3, 4, 3)
    assert minigrad.nn.utils.parameters_to_vector(plain.parameters()).shape == (112,)


def test_tensor_of_a_tensor_warns_as_pytorch():
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        torch.tensor(torch.ones(2))
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        out = minigrad.tensor(minigrad.ones(2), dtype=minigrad.float64)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert ours[0].filename == __file__  # located at the caller, as PyTorch's
    assert out.dtype is minigrad.float64
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minigrad.tensor([minigrad.tensor(1.0), minigrad.tensor(2.0)])  # scalars: no warning
        torch.tensor([torch.tensor(1.0), torch.tensor(2.0)])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_grid_sample_gradient_at_an_identity_transform(dtype):
    """Sampling positions of an identity affine grid land within an ulp of pixel centres:
    which neighbours a position reads, and so the gradient in the grid, depends on PyTorch's
    fused multiply-add (the spatial transformer tutorial starts from the identity)."""
    rng = np.random.default_rng(0)
    image = rng.random((2, 1, 28, 28)).astype(dtype)
    theta = np.tile(np.array([[1.0, 0, 0], [0, 1, 0]], dtype), (2, 1, 1))
    grads = []
    for lib in (torch, minigrad):
        t = lib.tensor(theta, requires_grad=True)
        x = lib.tensor(image, requires_grad=True)
        grid = lib.nn.functional.affine_grid(t, x.size(), align_corners=False)
        out = lib.nn.functional.grid_sample(x, grid, align_corners=False)
        (out * out.detach().flip(-1)).sum().backward()
        grads.append((t.grad.numpy(), x.grad.numpy()))
    tol = 1e-4 if dtype == "float32" else 1e-10
    for theirs, ours in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


def test_as_torch_runs_a_script_as_python_does(tmp_path, monkeypatch):
    """``python -m minigrad.as_torch sub/train.py`` from another folder: the script's sibling
    modules import, ``__file__`` is absolute, ``sys.argv[0]`` is the path as given, and a
    class the script defines pickles as ``__main__.<name>`` (``torch.save(model)``)."""
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "helpers_for_script.py").write_text("SCALE = 3\n")
    (folder / "train.py").write_text(
        "import sys, torch, helpers_for_script\n"
        "class Net(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = torch.nn.Linear(2, helpers_for_script.SCALE)\n"
        "torch.save(Net(), sys.argv[1])\n"
        "loaded = torch.load(sys.argv[1], weights_only=False)\n"
        "result = (type(loaded).__module__, loaded.fc.out_features, __file__, sys.argv[0])\n"
    )
    monkeypatch.chdir(tmp_path)
    before = (list(sys.path), sys.modules["__main__"])
    out = minigrad.as_torch.run_path("sub/train.py", [str(tmp_path / "net.pt")])
    assert out["result"] == ("__main__", 3, str(folder / "train.py"), "sub/train.py")
    assert (list(sys.path), sys.modules["__main__"]) == before
