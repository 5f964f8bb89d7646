"""The flex_attention/LinearCrossEntropyLoss program of ``tests/programs/flex_lm_head.py`` run
with ``torch`` bound to minigrad and with PyTorch itself, compared number by number."""

import contextlib
import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad

PROGRAMS = Path(__file__).parent / "programs"


def _run(monkeypatch, name, context):
    monkeypatch.syspath_prepend(str(PROGRAMS))
    for module in (name, "numpy_init"):
        sys.modules.pop(module, None)
    with context:
        module = importlib.import_module(name)
    sys.modules.pop("numpy_init", None)
    return module


def test_flex_lm_head_program(monkeypatch):
    ours = _run(monkeypatch, "flex_lm_head", minigrad.as_torch.imports())
    assert ours.plain_gap < 1e-5 and 0 < ours.sparsity < 100
    assert ours.block_counts == ([[[1, 2, 2]]], [[[0, 0, 0]]])  # window 7 < 8: no full block
    assert ours.picture.startswith("BlockMask(shape=(1, 1, 24, 24), sparsity=")
    assert ours.losses[-1] < 0.9 * ours.losses[0]


@pytest.mark.slow  # PyTorch traces each score_mod/mask_mod of the program: ~2-5 s
def test_flex_lm_head_program_matches_pytorch(monkeypatch):
    torch = pytest.importorskip("torch")
    ours = _run(monkeypatch, "flex_lm_head", minigrad.as_torch.imports())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # PyTorch's threads fight over the test machine's few cores
    try:
        theirs = _run(monkeypatch, "flex_lm_head", contextlib.nullcontext())
    finally:
        torch.set_num_threads(threads)
    for a, b in zip(ours.flex_values, theirs.flex_values, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert ours.block_counts == theirs.block_counts and ours.picture == theirs.picture
    assert ours.sparsity == pytest.approx(theirs.sparsity)
    np.testing.assert_allclose(ours.losses, theirs.losses, rtol=1e-4)
