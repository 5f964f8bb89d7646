"""Fixes found by the fifteenth round's programs (tests/test_programs15a.py), each checked
against PyTorch: torch.multinomial's argument checks, in PyTorch's order and words."""

import pytest

import minigrad

torch = pytest.importorskip("torch")


def _message(lib, call):
    with pytest.raises(RuntimeError) as info:
        call(lib)
    return str(info.value)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda t: t.multinomial(t.tensor([1, 2]), 1), "only supports floating-point dtypes"),
        (lambda t: t.tensor([True, False]).multinomial(1), "got: Bool"),
        (lambda t: t.multinomial(t.tensor([0.2, 0.8]), 0), "cannot sample n_sample <= 0 samples"),
        (lambda t: t.multinomial(t.tensor([0.2, 0.8]), -1, True), "n_sample <= 0"),
        (lambda t: t.multinomial(t.tensor([0.2, 0.8]), 3), "n_sample > prob_dist.size(-1)"),
        (lambda t: t.multinomial(t.tensor([0.2, -0.8]), 1), "either `inf`, `nan` or element < 0"),
        (lambda t: t.multinomial(t.tensor([[1, 2]]).long(), 0), "floating-point"),  # dtype first
    ],
)
def test_multinomial_checks_match_pytorch(call, words):
    """A long tensor of counts (bincount's output) or num_samples=0 raised nothing or drew from
    integers; PyTorch refuses both. Its messages are the ones people search for."""
    assert words in _message(torch, call)
    assert words in _message(minigrad, call)


def test_multinomial_float_inputs_still_draw_pytorchs_samples():
    weights = [0.1, 0.2, 0.3, 0.4]
    draws = []
    for lib in (minigrad, torch):
        g = lib.Generator().manual_seed(3)
        draws.append(lib.multinomial(lib.tensor(weights).double(), 6, True, generator=g).tolist())
    assert draws[0] == draws[1]
