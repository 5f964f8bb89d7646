"""Shared fixtures: the devices every device-aware test runs on."""

import pytest

import minigrad
from minigrad.testing import fake_device

fake_device.install()

DEVICES = ["cpu", "fakegpu"] + (["cuda"] if minigrad.cuda.is_available() else [])


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs CuPy and a CUDA device")


def pytest_collection_modifyitems(config, items):
    for item in items:  # device-fixture tests on cuda count as gpu tests (``-m gpu``)
        if getattr(item, "callspec", None) and item.callspec.params.get("device") == "cuda":
            item.add_marker(pytest.mark.gpu)
    if "cuda" in DEVICES:
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=DEVICES)
def device(request):
    """Each device: the CPU, the CuPy stand-in (``fakegpu``), and ``cuda`` when present."""
    return request.param


@pytest.fixture(autouse=True)
def _seed():
    minigrad.manual_seed(0)
