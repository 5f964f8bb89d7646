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
    for mine, their in zip(ours.initial, theirs.initial):  # normal draws: within float32 ulps
        np.testing.assert_allclose(mine.numpy(), their.numpy(), rtol=1e-6, atol=1e-9)
    assert ours.first_batch.tolist() == theirs.first_batch.tolist()  # the same shuffle
    # the same dropout masks and batches: the losses differ only by float32 rounding
    np.testing.assert_allclose(ours.losses, theirs.losses, rtol=1e-5)  # (measured: 1.7e-7)
    assert ours.sample == theirs.sample  # top-k sampling with multinomial
