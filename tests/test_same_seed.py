"""The same seed gives the same run as PyTorch: a program whose randomness is only
``torch.manual_seed`` (initial weights, DataLoader shuffling, dropout, sampling) run with
PyTorch and with minigrad (tests/programs/same_seed_gpt.py)."""

import numpy as np
import pytest
import test_programs5

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_seeded_training_run_is_pytorchs(programs):
    ours, theirs = programs("same_seed_gpt"), programs("same_seed_gpt", torch=True)
    for mine, their in zip(ours.initial, theirs.initial):  # the initial weights: bit for bit
        np.testing.assert_array_equal(mine.numpy(), their.numpy())
    assert ours.first_batch.tolist() == theirs.first_batch.tolist()  # the same shuffle
    # the same dropout masks and batches: the losses differ only by float32 rounding
    np.testing.assert_allclose(ours.losses, theirs.losses, rtol=1e-5)  # (measured: 1.7e-7)
    assert ours.sample == theirs.sample  # top-k sampling with multinomial


def _vmapped_draws(lib, randomness):
    lib.manual_seed(0)
    vmap, F = lib.func.vmap, lib.nn.functional
    dropped = vmap(lambda x: F.dropout(x, 0.5), randomness=randomness)(lib.ones(4, 6))
    noisy = vmap(lambda x: x + lib.randn(3), randomness=randomness)(lib.zeros(2, 3))
    if randomness == "same":  # from a batched tensor's values: refused, as PyTorch
        with pytest.raises(RuntimeError, match="same randomness with a batched tensor|'same'"):
            vmap(lib.bernoulli, randomness=randomness)(lib.full((4, 6), 0.5))
        return [dropped.numpy(), noisy.numpy()]
    coins = vmap(lib.bernoulli, randomness=randomness)(lib.full((4, 6), 0.5))
    return [dropped.numpy(), noisy.numpy(), coins.numpy()]


@pytest.mark.parametrize("randomness", ["different", "same"])
def test_random_draws_under_vmap_are_pytorchs(randomness):
    torch = pytest.importorskip("torch")
    import minigrad

    theirs, ours = _vmapped_draws(torch, randomness), _vmapped_draws(minigrad, randomness)
    for mine, their in zip(ours, theirs):
        np.testing.assert_array_equal(mine, their)
