"""minigrad.utils.flop_counter.FlopCounterMode against torch's: totals and per-module, per-op
counts of training steps (forward and backward)."""

from __future__ import annotations

import pytest

import minigrad
from minigrad.utils.flop_counter import FlopCounterMode

torch = pytest.importorskip("torch")
from torch.utils.flop_counter import FlopCounterMode as TorchFlopCounterMode  # noqa: E402


def _models(lib):
    nn = lib.nn

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.act, self.fc2 = nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(3, 4, 3, padding=1)
            self.c2 = nn.Conv2d(4, 6, 3, stride=2, groups=2)
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(6 * 3 * 3, 2, bias=False))

        def forward(self, x):
            return self.head(self.c2(lib.relu(self.c1(x))))

    return MLP(), CNN()


def _step(lib, counter_cls, which: int, shape):
    model = _models(lib)[which]
    with counter_cls(display=False) as counter:
        model(lib.randn(*shape)).sum().backward()
    counts = {
        m: {str(op): n for op, n in ops.items()} for m, ops in counter.get_flop_counts().items()
    }
    return counter.get_total_flops(), counts


@pytest.mark.parametrize("which, shape", [(0, (5, 8)), (0, (2, 5, 8)), (1, (2, 3, 8, 8))])
def test_training_step_counts_match_torch(which, shape):
    assert _step(minigrad, FlopCounterMode, which, shape) == _step(
        torch, TorchFlopCounterMode, which, shape
    )


def _products(lib, needs):
    F = lib.nn.functional
    q = lib.randn(2, 3, 5, 4, requires_grad=needs[0])
    k, v = (
        lib.randn(2, 3, 6, 4, requires_grad=needs[1]),
        lib.randn(2, 3, 6, 7, requires_grad=needs[2]),
    )
    out = F.scaled_dot_product_attention(q, k, v).sum()
    a = lib.randn(3, 4, requires_grad=True)
    out = out + (a @ lib.randn(4)).sum() + (lib.randn(2, 3, 4) @ lib.randn(2, 4, 5)).sum()
    out = out + (lib.randn(4) @ lib.randn(4)) + (lib.randn(2, 3, 4) @ a.T).sum()
    if out.requires_grad:
        out.backward()


@pytest.mark.parametrize("needs", [(False, False, False), (True, False, False), (True, True, True)])
def test_attention_and_matmul_counts_match_torch(needs):
    with FlopCounterMode(display=False) as mine:
        _products(minigrad, needs)
    with TorchFlopCounterMode(display=False) as theirs:
        _products(torch, needs)
    expected = {
        m: {str(op): n for op, n in ops.items()} for m, ops in theirs.get_flop_counts().items()
    }
    assert mine.get_flop_counts() == expected


def _create_graph(lib, counter_cls, **kwargs):
    model = _models(lib)[0]
    x = lib.randn(5, 8, requires_grad=True)
    with counter_cls(**kwargs) as counter:
        model(x).sum().backward(create_graph=True)
    return counter.get_total_flops()


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
def test_display_table_and_create_graph(capsys):
    assert _create_graph(minigrad, FlopCounterMode, depth=1) == _create_graph(
        torch, TorchFlopCounterMode, display=False
    )  # (the ops a create_graph backward runs are counted once, by their node's rule)
    table = capsys.readouterr().out
    assert "Global" in table and " MLP " in table and "MLP.fc1" not in table and "100.00%" in table
    with pytest.raises(NotImplementedError, match="custom_mapping"):
        FlopCounterMode(custom_mapping={"mm": None})


def test_other_threads_are_not_counted():
    import threading

    a, b = minigrad.randn(4, 5), minigrad.randn(5, 6)
    with FlopCounterMode(display=False) as counter:
        worker = threading.Thread(target=lambda: a @ b)
        worker.start()
        worker.join()
        a @ b
    assert counter.get_total_flops() == 2 * 4 * 5 * 6


def _convs(lib, counter_cls):
    counts = []
    for groups, need_x in ((1, True), (2, True), (2, False)):
        layer = lib.nn.ConvTranspose2d(4, 8, 3, groups=groups, stride=2)
        with counter_cls(display=False) as counter:
            layer(lib.randn(2, 4, 5, 5, requires_grad=need_x)).sum().backward()
        counts.append({str(op): n for op, n in counter.get_flop_counts()["Global"].items()})
    layer = lib.nn.Conv3d(2, 4, 3, groups=2)
    with counter_cls(display=False) as counter:
        layer(lib.randn(1, 2, 5, 5, 5, requires_grad=True)).sum().backward()
    counts.append({str(op): n for op, n in counter.get_flop_counts()["Global"].items()})
    return counts


def test_transposed_grouped_and_3d_convolutions_match_torch():
    assert _convs(minigrad, FlopCounterMode) == _convs(torch, TorchFlopCounterMode)
