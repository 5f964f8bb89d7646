"""The flex_attention/LinearCrossEntropyLoss program of ``tests/programs/flex_lm_head.py`` run
with ``torch`` bound to minigrad. (It also runs under PyTorch 2.13 with the same numbers; that
run is left out of the suite because PyTorch traces each mask/score function for seconds, and
tests/test_flex_attention.py already compares these functions with PyTorch's.)"""

import importlib
import sys
from pathlib import Path

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
