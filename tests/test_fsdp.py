"""FSDP2 (``minigrad.distributed.fsdp.fully_shard``) and FSDP1 (``FullyShardedDataParallel``).

Its checks on 2 ranks and alone (tests/fsdp_checks.py) run in the DTensor jobs of
tests/test_dtensor.py (a job of their own would cost ~5 s of start-up). Here: what raises
before any process group (none is started in the pytest process), and, opt-in
(``MINIGRAD_TORCH_FSDP=1``: ~20 s of CPU), tests/fsdp_program.py run by PyTorch's FSDP2 with
torchrun on gloo and by minigrad's launcher, whose losses, norms and weights must agree.
"""

import os

import numpy as np
import pytest

from minigrad import nn
from minigrad.distributed import fsdp
from minigrad.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict


def test_refusals_before_any_process_group():
    with pytest.raises(NotImplementedError, match="list of modules"):
        fsdp.fully_shard([nn.Linear(2, 2), nn.Linear(2, 2)])
    with pytest.raises(ValueError, match="do not implement forward"):
        fsdp.fully_shard(object())
    with pytest.raises(RuntimeError, match="non-CPU accelerator"):  # PyTorch's, without device_id
        fsdp.FullyShardedDataParallel(nn.Linear(2, 2))
    with pytest.raises(NotImplementedError, match="use_orig_params=True"):
        fsdp.FullyShardedDataParallel(nn.Linear(2, 2), device_id="cpu", use_orig_params=True)
    with pytest.raises(NotImplementedError, match="HYBRID_SHARD"):
        fsdp.FullyShardedDataParallel(
            nn.Linear(2, 2), device_id="cpu", sharding_strategy=fsdp.ShardingStrategy.HYBRID_SHARD
        )
    with pytest.raises(NotImplementedError, match="CPU only"):
        fsdp.FullyShardedDataParallel(nn.Linear(2, 2), device_id="cuda")
    with pytest.raises(ValueError, match="full_state_dict must be True when broadcast_from"):
        get_model_state_dict(nn.Linear(2, 2), options=StateDictOptions(broadcast_from_rank0=True))


def test_state_dict_of_an_unsharded_model_is_its_own():
    model = nn.Linear(3, 2)
    got = get_model_state_dict(model, options=StateDictOptions(ignore_frozen_params=True))
    assert list(got) == ["weight", "bias"]
    model.bias.requires_grad_(False)
    got = get_model_state_dict(model, options=StateDictOptions(ignore_frozen_params=True))
    assert list(got) == ["weight"]


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("MINIGRAD_TORCH_FSDP"),
    reason="PyTorch's FSDP2 on gloo: MINIGRAD_TORCH_FSDP=1",
)
def test_the_program_matches_pytorch_fsdp2_on_gloo(tmp_path):
    pytest.importorskip("torch")
    from dist_checks import run_beside_torchrun

    ours, theirs = run_beside_torchrun("fsdp_program.py", tmp_path)
    assert ours["adamw"]["types"] == theirs["adamw"]["types"] == ["FSDPNet", "FSDPBlock", True]
    assert ours["adamw"]["local_rows"] == theirs["adamw"]["local_rows"]
    assert ours["mixed"]["out_dtype"].split(".")[-1] == theirs["mixed"]["out_dtype"].split(".")[-1]
    for key in ("losses", "norms"):
        np.testing.assert_allclose(ours["adamw"][key], theirs["adamw"][key], rtol=1e-5)
    assert ours["fsdp1_size_based"] == theirs["fsdp1_size_based"]
    for strategy in ("FULL_SHARD", "SHARD_GRAD_OP", "NO_SHARD"):
        case = f"fsdp1_{strategy}"
        assert ours[case]["names"] == theirs[case]["names"], case
        assert ours[case]["rank0_only"] == theirs[case]["rank0_only"] is True, case
        np.testing.assert_allclose(ours[case]["norms"], theirs[case]["norms"], rtol=1e-5)
    for case in ("adamw", "accumulate", "mixed", "loaded", *(f"fsdp1_{s}" for s in (
            "FULL_SHARD", "SHARD_GRAD_OP", "NO_SHARD"))):  # fmt: skip
        assert list(ours[case]["weights"]) == list(theirs[case]["weights"])
        for name, w in theirs[case]["weights"].items():
            np.testing.assert_allclose(
                ours[case]["weights"][name], w, rtol=1e-5, atol=2e-6, err_msg=f"{case} {name}"
            )
