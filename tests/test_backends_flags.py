"""``minigrad.backends``: the switches PyTorch programs set are there, as attributes of
``minigrad`` without importing the submodule, and are documented as having no effect."""

import subprocess
import sys

import minigrad


def test_flags_are_attributes_of_minigrad_without_an_import():
    code = (
        "import minigrad as torch\n"
        "torch.backends.cudnn.benchmark = True\n"
        "torch.backends.cudnn.deterministic = True\n"
        "torch.backends.cuda.matmul.allow_tf32 = True\n"
        "torch.backends.cudnn.allow_tf32 = False\n"
        "print(torch.backends.cudnn.enabled, torch.backends.cuda.is_built())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]


def test_cudnn_availability_follows_the_cuda_backend():
    available = minigrad.backends.cudnn.is_available()
    assert isinstance(available, bool)
    if not minigrad.cuda.is_available():
        assert not available and minigrad.backends.cudnn.version() is None


def test_docstrings_say_the_flags_have_no_effect():
    assert "no effect" in minigrad.backends.cudnn.__doc__
    assert "no effect" in minigrad.backends.cuda.__doc__


def test_accelerator_picks_the_gpu_or_none():
    acc = minigrad.accelerator
    assert acc.is_available() == minigrad.cuda.is_available()
    if not acc.is_available():
        assert acc.current_accelerator() is None and acc.device_count() == 0
    else:
        assert acc.current_accelerator().type == "cuda"


def test_device_selection_idiom_with_mps_falls_back_to_cpu():
    import minigrad as torch

    device = (
        "cuda"
        if torch.cuda.is_available()
        else "mps"
        if torch.backends.mps.is_available()
        else "cpu"
    )
    assert device in ("cuda", "cpu") and not torch.backends.mps.is_built()
