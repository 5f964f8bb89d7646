"""Tensor parallelism (``minigrad.distributed.tensor.parallel``).

Its checks on 2 ranks and alone (tests/tp_checks.py: a transformer layer against the same
layer unsharded, outputs, gradients and AdamW steps) run in the DTensor jobs of
tests/test_dtensor.py. Here: what raises before any process group (none is started in the
pytest process), and, opt-in (``MINIGRAD_TORCH_TP=1``: ~30 s of CPU), tests/tp_program.py run
by PyTorch's tensor parallelism with torchrun on gloo and by minigrad's launcher, whose
placements, losses, gradients and weights must agree (tensor and sequence parallelism,
``loss_parallel``).
"""

import os

import numpy as np
import pytest

from minigrad import nn
from minigrad.distributed.tensor import Replicate, Shard
from minigrad.distributed.tensor.parallel import (
    ColwiseParallel,
    PrepareModuleInput,
    PrepareModuleOutput,
    RowwiseParallel,
    SequenceParallel,
    loss_parallel,
)


def test_styles_hold_pytorchs_layouts_and_refuse_what_is_missing():
    assert repr(ColwiseParallel()) == (
        "ColwiseParallel(input_layouts=(Replicate(),), output_layouts=(Shard(dim=-1),), "
        "use_local_output=True)"
    )
    row = RowwiseParallel(output_layouts=Shard(1), use_local_output=False)
    assert row.input_layouts == (Shard(-1),) and row.output_layouts == (Shard(1),)
    with pytest.raises(NotImplementedError, match="only support nn.Linear and nn.Embedding"):
        ColwiseParallel()._apply(nn.Conv1d(2, 2, 1), None)
    with pytest.raises(AssertionError, match="same length"):
        PrepareModuleInput(input_layouts=(Replicate(), None), desired_input_layouts=Replicate())
    with pytest.raises(AssertionError, match="same length"):
        PrepareModuleOutput(output_layouts=Shard(0), desired_output_layouts=(Replicate(),) * 2)
    assert repr(SequenceParallel()) == "SequenceParallel(sequence_dim=1, use_local_output=False)"
    with loss_parallel():  # (no process group: a plain loss is untouched)
        assert loss_parallel.__module__.endswith("parallel.loss")


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("MINIGRAD_TORCH_TP"), reason="PyTorch's TP on gloo: MINIGRAD_TORCH_TP=1"
)
def test_the_program_matches_pytorch_tensor_parallel_on_gloo(tmp_path):
    pytest.importorskip("torch")
    from dist_checks import run_beside_torchrun

    ours, theirs = run_beside_torchrun("tp_program.py", tmp_path)
    for key in ("placements", "sp_placements"):
        assert ours[key] == theirs[key]
    for run in (ours, theirs):  # each framework's TP and SP against its own unsharded model
        for mode in ("tp", "sp", "lp"):
            np.testing.assert_allclose(run[f"{mode}_losses"], run["ref_losses"], rtol=1e-12)
    assert ours["lp_loss_placements"] == theirs["lp_loss_placements"] == "(Replicate(),)"
    for mode in ("tp", "sp", "lp"):
        np.testing.assert_allclose(ours[f"{mode}_losses"], theirs[f"{mode}_losses"], rtol=1e-12)
    # (AdamW's first steps divide round-off by itself: weights agree to ~1e-12, gradients closer)
    for key, atol in (("tp_grads", 1e-14), ("sp_grads", 1e-14), ("lp_grads", 1e-14),
                      ("tp_weights", 1e-10), ("sp_weights", 1e-10), ("lp_weights", 1e-10),
                      ("ref_weights", 1e-10)):  # fmt: skip
        assert list(ours[key]) == list(theirs[key])
        for name, w in theirs[key].items():
            np.testing.assert_allclose(ours[key][name], w, atol=atol, err_msg=f"{key} {name}")
