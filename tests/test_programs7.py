"""A seventh round of PyTorch programs as people write them (tutorial-style training scripts
and utilities in domains the earlier rounds left out), run with ``torch`` bound to minigrad and
with PyTorch itself, and compared value by value (the mechanism of ``tests/test_programs5.py``).
"""

import pytest
import test_programs5
from test_programs5 import close

programs = test_programs5.programs  # the fixture: run a program with minigrad or PyTorch

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")


def test_transformer_decoder_masks(programs):
    ours = programs("transformer_decoder_masks")  # causal + padding masks, greedy decoding
    theirs = programs("transformer_decoder_masks", torch=True)
    assert close(ours.losses, theirs.losses, 1e-3, 1e-5) and ours.losses[-1] < ours.losses[0]
    assert close(ours.first_logits, theirs.first_logits, 1e-3, 1e-4)
    assert ours.decoded == theirs.decoded and ours.mask_values == theirs.mask_values


def test_custom_function_ctx(programs):
    ours = programs("custom_function_ctx")  # needs_input_grad, mark_dirty, materialize_grads
    theirs = programs("custom_function_ctx", torch=True)
    assert ours.checks == theirs.checks == [True] * 4
    assert ours.flags == theirs.flags and ours.double_backward == theirs.double_backward
    assert (
        ours.calls_after_frozen == theirs.calls_after_frozen == {"weight_grad": 0, "input_grad": 1}
    )
    assert ours.dirty_version == theirs.dirty_version and ours.dirty_grad == theirs.dirty_grad
    assert ours.split_seen == theirs.split_seen == [(False, True)]
    assert close(ours.losses, theirs.losses, 1e-4, 1e-6) and ours.calls == theirs.calls
