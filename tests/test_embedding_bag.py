"""``nn.EmbeddingBag`` and ``F.embedding_bag`` against PyTorch: modules with copied weights and
the errors PyTorch raises (the op-table rows check values and gradients)."""

import numpy as np
import pytest

import minigrad
from minigrad import nn
from minigrad.nn import functional as F

torch = pytest.importorskip("torch")

INPUT, OFFSETS = [1, 0, 4, 4, 3, 2, 0, 1, 9], [0, 2, 2, 5]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 0])
def test_module_matches_torch_with_copied_weights(mode, padding_idx):
    ours = nn.EmbeddingBag(10, 4, mode=mode, padding_idx=padding_idx)
    theirs = torch.nn.EmbeddingBag(10, 4, mode=mode, padding_idx=padding_idx)
    theirs.load_state_dict({"weight": torch.tensor(ours.weight.detach().numpy())})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    y = ours(minigrad.tensor(INPUT), minigrad.tensor(OFFSETS))
    expected = theirs(torch.tensor(INPUT), torch.tensor(OFFSETS))
    np.testing.assert_allclose(y.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    y.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6)
    assert repr(ours) == repr(theirs)


def test_padding_row_starts_at_zero_and_from_pretrained_table():
    bag = nn.EmbeddingBag(5, 3, padding_idx=-1)
    assert bag.padding_idx == 4 and not bag.weight[4].detach().numpy().any()
    table = minigrad.randn(5, 3)
    bag = nn.EmbeddingBag(5, 3, mode="sum", _weight=table)
    np.testing.assert_array_equal(bag(minigrad.tensor([[2]])).detach().numpy(), table[2:3].numpy())


def _raises_like_torch(call):
    """The same exception class from both libraries; the message of ours names the op."""
    with pytest.raises(Exception) as theirs:
        call(torch, torch.nn.functional)
    with pytest.raises(type(theirs.value), match="embedding"):
        call(minigrad, F)


@pytest.mark.parametrize(
    "call",
    [
        lambda m, f: f.embedding_bag(m.tensor([[1, 2]]), m.zeros(5, 2), m.tensor([0])),
        lambda m, f: f.embedding_bag(m.tensor([1, 2]), m.zeros(5, 2)),
        lambda m, f: f.embedding_bag(m.tensor([[[1]]]), m.zeros(5, 2)),
        lambda m, f: f.embedding_bag(m.tensor([1, 2]), m.zeros(5, 2), m.tensor([1])),
        lambda m, f: f.embedding_bag(m.tensor([1, 2]), m.zeros(5, 2), m.tensor([0, 3])),
        lambda m, f: f.embedding_bag(m.tensor([1, 2]), m.zeros(5, 2), m.tensor([0]), mode="prod"),
        lambda m, f: f.embedding_bag(
            m.tensor([1, 2]),
            m.zeros(5, 2),
            m.tensor([0]),
            mode="max",
            per_sample_weights=m.ones(2),
        ),  # fmt: skip
        lambda m, f: f.embedding_bag(
            m.tensor([1, 2]),
            m.zeros(5, 2),
            m.tensor([0]),
            mode="sum",
            per_sample_weights=m.ones(3),
        ),  # fmt: skip
        lambda m, f: f.embedding_bag(m.tensor([1, 7]), m.zeros(5, 2), m.tensor([0])),
    ],
)
def test_errors_as_torch(call):
    _raises_like_torch(call)
